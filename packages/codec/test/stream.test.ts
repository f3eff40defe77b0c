import { describe, expect, it } from 'vitest';
import {
  Address,
  BODY_FLAG_GRAPH,
  BODY_FLAG_STREAM,
  CodecError,
  createCatalogue,
  createCodec,
  defineMessage,
  t,
  type AnyMessage,
  type AnyMessageType,
  type CodecErrorCode,
} from '../src/index.js';
import { ALL, Envelope, Hello, Item, Node } from './fixtures.js';

const Bulk = defineMessage('Bulk', { data: t.bytes(), rows: t.array(t.message(Item)) });
const Dict = defineMessage('Dict', { entries: t.record(t.int()) });
const catalogue = createCatalogue([...ALL, Bulk, Dict]);
const codec = createCodec({ catalogue });

function codeOf(run: () => unknown): CodecErrorCode | 'no error' | 'not a CodecError' {
  try {
    run();
    return 'no error';
  } catch (error) {
    return error instanceof CodecError ? error.code : 'not a CodecError';
  }
}

const hello = (seq: number): AnyMessage =>
  Hello({ name: 'Gladys', seq, at: new Date(1_000 + seq) });

describe('stream mode', () => {
  it('describes a shape once: the first body brings an update, later ones reference it', () => {
    const { encoder, decoder } = codec.createStream();
    const first = encoder.encodeBody(hello(1));
    const second = encoder.encodeBody(hello(2));
    expect(first.flags).toBe(BODY_FLAG_STREAM);
    expect(first.structureUpdate).toBeInstanceOf(Uint8Array);
    expect(second.structureUpdate).toBeUndefined();
    const selfContained = codec.encodeBody(hello(2)).body.length;
    expect(second.body.length).toBeLessThan(selfContained);
    expect(second.body.length + 0).toBeLessThan(
      first.body.length + (first.structureUpdate?.length ?? 0),
    );
    decoder.applyStructures(first.structureUpdate as Uint8Array);
    expect(decoder.decodeBody('Hello', second.body, second.addresses, second.flags)).toEqual(
      hello(2),
    );
    expect(decoder.decodeBody('Hello', first.body, first.addresses, first.flags)).toEqual(hello(1));
    expect(encoder.structureCount).toBe(1);
    expect(decoder.structureCount).toBe(1);
  });

  it('decodes bodies in any order once the updates were applied in order', () => {
    const { encoder, decoder } = codec.createStream();
    const large = Bulk({
      data: new Uint8Array(100_000).fill(7),
      rows: Array.from({ length: 50 }, (_, i) => Item({ sku: `s${i}`, qty: i })),
    });
    const sent = [
      { type: 'Bulk', message: large as AnyMessage, ...encoder.encodeBody(large) },
      { type: 'Hello', message: hello(1), ...encoder.encodeBody(hello(1)) },
      {
        type: 'Envelope',
        message: Envelope({ inner: hello(3), label: 'env' }),
        ...encoder.encodeBody(Envelope({ inner: hello(3), label: 'env' })),
      },
    ];
    // The transport sends every update before its message's first chunk, in order...
    for (const s of sent) if (s.structureUpdate) decoder.applyStructures(s.structureUpdate);
    // ...but the small messages complete first.
    for (const s of [sent[2], sent[1], sent[0]]) {
      if (s === undefined) throw new Error('unreachable');
      expect(decoder.decodeBody(s.type, s.body, s.addresses, s.flags)).toEqual(s.message);
    }
  });

  it('reports a body that references a shape whose update was not applied as a typed error', () => {
    const { encoder } = codec.createStream();
    const other = codec.createStream();
    const body = encoder.encodeBody(hello(1));
    expect(
      codeOf(() => other.decoder.decodeBody('Hello', body.body, body.addresses, body.flags)),
    ).toBe('HERALD_ERR_UNKNOWN_STRUCTURE');
  });

  it('rejects a lost or reordered structure update', () => {
    const { encoder, decoder } = codec.createStream();
    const a = encoder.encodeBody(hello(1));
    const b = encoder.encodeBody(Item({ sku: 'x', qty: 1 }));
    expect(codeOf(() => decoder.applyStructures(b.structureUpdate as Uint8Array))).toBe(
      'HERALD_ERR_STREAM_STATE',
    );
    decoder.applyStructures(a.structureUpdate as Uint8Array);
    expect(codeOf(() => decoder.applyStructures(a.structureUpdate as Uint8Array))).toBe(
      'HERALD_ERR_STREAM_STATE',
    );
    expect(codeOf(() => decoder.applyStructures(new Uint8Array([0xc1, 0x00])))).toBe(
      'HERALD_ERR_STREAM_STATE',
    );
    decoder.applyStructures(b.structureUpdate as Uint8Array);
    expect(decoder.decodeBody('Item', b.body, b.addresses, b.flags)).toEqual(
      Item({ sku: 'x', qty: 1 }),
    );
  });

  it('describes shapes inside the body once the stream budget is used up', () => {
    const small = createCodec({ catalogue, maxStreamStructures: 2 });
    const { encoder, decoder } = small.createStream();
    const messages: AnyMessage[] = [
      hello(1),
      Item({ sku: 'a', qty: 1 }),
      Item({ sku: 'b', qty: 2, price: 3 }),
      Bulk({ data: new Uint8Array(2), rows: [] }),
      hello(2),
    ];
    for (const message of messages) {
      const body = encoder.encodeBody(message);
      if (body.structureUpdate) decoder.applyStructures(body.structureUpdate);
      expect(decoder.decodeBody(message.type, body.body, body.addresses, body.flags)).toEqual(
        message,
      );
    }
    expect(encoder.structureCount).toBe(2);
    expect(decoder.structureCount).toBe(2);
  });

  it('supports budgets above 32 shapes (two-byte record ids)', () => {
    const types: AnyMessageType[] = Array.from({ length: 120 }, (_, i) =>
      defineMessage(`Shape${i}`, { [`f${i}`]: t.int(), g: t.string() }),
    );
    const wide = createCodec({ catalogue: createCatalogue(types), maxStreamStructures: 100 });
    const { encoder, decoder } = wide.createStream();
    const bodies = types.map((type, i) => {
      const message = (type as (f: object) => AnyMessage)({ [`f${i}`]: i, g: 'x' });
      const body = encoder.encodeBody(message);
      if (body.structureUpdate) decoder.applyStructures(body.structureUpdate);
      return { message, body };
    });
    for (const { message, body } of bodies.reverse()) {
      expect(decoder.decodeBody(message.type, body.body, body.addresses, body.flags)).toEqual(
        message,
      );
    }
    expect(decoder.structureCount).toBe(100);
  });

  it('keeps dictionaries with arbitrary keys out of the shared shapes', () => {
    const { encoder, decoder } = codec.createStream();
    for (let i = 0; i < 40; i++) {
      const message = Dict({ entries: { [`k${i}`]: i, [`j${i}`]: -i - 1 } });
      const body = encoder.encodeBody(message);
      if (body.structureUpdate) decoder.applyStructures(body.structureUpdate);
      expect(decoder.decodeBody('Dict', body.body, body.addresses, body.flags)).toEqual(message);
    }
    expect(encoder.structureCount).toBe(1);
  });

  it('sends shapes added by a failed encode with the next successful one', () => {
    const { encoder, decoder } = codec.createStream();
    const bad = { ...Item({ sku: 'a', qty: 1 }), price: Symbol('no') } as unknown as AnyMessage;
    expect(codeOf(() => encoder.encodeBody(bad))).toBe('HERALD_ERR_ENCODE');
    const good = Item({ sku: 'a', qty: 1, price: 2 });
    const body = encoder.encodeBody(good);
    expect(body.structureUpdate).toBeDefined();
    decoder.applyStructures(body.structureUpdate as Uint8Array);
    expect(decoder.decodeBody('Item', body.body, body.addresses, body.flags)).toEqual(good);
  });

  it('encodes stateless bodies that any decoder (a relay, another stream) can read', () => {
    const { encoder } = codec.createStream();
    const message = Envelope({ inner: hello(1), label: 'env', anything: new Address([4, 5]) });
    const body = encoder.encodeBody(message, 'stateless');
    expect(body.flags).toBe(0);
    expect(body.structureUpdate).toBeUndefined();
    expect(codec.decodeBody('Envelope', body.body, body.addresses, body.flags)).toEqual(message);
    const stranger = codec.createStream().decoder;
    expect(stranger.decodeBody('Envelope', body.body, body.addresses, body.flags)).toEqual(message);
  });

  it('encodes graph messages as self-contained graph bodies', () => {
    const { encoder, decoder } = codec.createStream();
    const node = Node({ name: 'n', next: null, children: [] }) as unknown as { next: unknown };
    node.next = node;
    const body = encoder.encodeBody(node as unknown as AnyMessage);
    expect(body.flags).toBe(BODY_FLAG_GRAPH);
    const decoded = decoder.decodeBody(
      'Node',
      body.body,
      body.addresses,
      body.flags,
    ) as unknown as {
      next: unknown;
    };
    expect(decoded.next).toBe(decoded);
  });

  it('keeps the state of two streams apart', () => {
    const s1 = codec.createStream();
    const s2 = codec.createStream();
    const a = s1.encoder.encodeBody(Item({ sku: 'a', qty: 1 }));
    const b = s2.encoder.encodeBody(hello(1));
    s1.decoder.applyStructures(a.structureUpdate as Uint8Array);
    s2.decoder.applyStructures(b.structureUpdate as Uint8Array);
    // Both bodies use the first shared id, for different shapes.
    expect(s1.decoder.decodeBody('Item', a.body, a.addresses, a.flags)).toEqual(
      Item({ sku: 'a', qty: 1 }),
    );
    expect(s2.decoder.decodeBody('Hello', b.body, b.addresses, b.flags)).toEqual(hello(1));
    // Fed to the wrong stream, a body fails with a typed error (never a wrong message).
    expect(['HERALD_ERR_SCHEMA', 'HERALD_ERR_MALFORMED']).toContain(
      codeOf(() => s1.decoder.decodeBody('Hello', b.body, b.addresses, b.flags)),
    );
  });
});
