/** Message types shared by the codec tests. */
import {
  CodecError,
  defineMessage,
  t,
  type AnyMessageType,
  type CodecErrorCode,
} from '../src/index.js';

export const Hello = defineMessage('Hello', {
  name: t.string({ maxLength: 64 }),
  seq: t.int(),
  at: t.date(),
});

export const Item = defineMessage('Item', {
  sku: t.string(),
  qty: t.int(),
  price: t.optional(t.number()),
});

export const Order = defineMessage('Order', {
  id: t.bigint(),
  items: t.array(t.message(Item), { maxLength: 100 }),
  tags: t.set(t.string()),
  notes: t.map(t.int(), t.string()),
  meta: t.json(),
  blob: t.bytes({ maxLength: 1024 }),
  replyTo: t.address(),
  cc: t.optional(t.array(t.address())),
  status: t.enum('new', 'paid', 'shipped'),
  coupon: t.nullable(t.string()),
  extra: t.optional(t.record(t.union(t.string(), t.int()))),
  shape: t.object({ w: t.number(), h: t.number() }),
});

export const Envelope = defineMessage('Envelope', {
  inner: t.anyMessage(),
  label: t.literal('env'),
  anything: t.optional(t.unknown()),
});

export const Node = defineMessage(
  'Node',
  {
    name: t.string(),
    next: t.nullable(t.message((): AnyMessageType => Node)),
    children: t.array(t.message((): AnyMessageType => Node)),
    byName: t.optional(
      t.map(
        t.string(),
        t.message((): AnyMessageType => Node),
      ),
    ),
  },
  { graph: true },
);

export const ALL = [Hello, Item, Order, Envelope, Node];

/** The code of the CodecError `run` throws, 'no error', or 'not a CodecError'. */
export function codeOf(run: () => unknown): CodecErrorCode | 'no error' | 'not a CodecError' {
  try {
    run();
    return 'no error';
  } catch (error) {
    return error instanceof CodecError ? error.code : 'not a CodecError';
  }
}

/** The CodecError `run` throws (anything else is rethrown; no throw fails). */
export function errorOf(run: () => unknown): CodecError {
  try {
    run();
  } catch (error) {
    if (error instanceof CodecError) return error;
    throw error;
  }
  throw new Error('expected a CodecError');
}
