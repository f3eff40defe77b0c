import { describe, expect, it } from 'vitest';
import {
  Address,
  BODY_FLAG_GRAPH,
  BODY_FLAG_STREAM,
  NO_ADDRESS,
  createCatalogue,
  createCodec,
  defineMessage,
  t,
  type AnyMessage,
} from '../src/index.js';
import { ALL, codeOf, Envelope, errorOf, Hello, Item, Node, Order } from './fixtures.js';

const catalogue = createCatalogue(ALL);
const codec = createCodec({ catalogue });

function order(overrides: Record<string, unknown> = {}): AnyMessage {
  return Order({
    id: 2n ** 130n + 7n,
    items: [Item({ sku: 'a', qty: 1 }), Item({ sku: 'b', qty: -2, price: 1.25 })],
    tags: new Set(['x', 'y']),
    notes: new Map([
      [1, 'one'],
      [2, 'two'],
    ]),
    meta: { a: [1, 'b', null, true, { c: 2.5 }] },
    blob: new Uint8Array([0, 1, 2, 255]),
    replyTo: new Address([19, 20]),
    cc: [new Address([1]), NO_ADDRESS, new Address([2 ** 53 - 1, 3])],
    status: 'paid',
    coupon: null,
    extra: { q: 'r', n: 5 },
    shape: { w: 1.5, h: 2 },
    ...overrides,
  } as never);
}

/** Replaces the value of a field in a blob by re-encoding a tampered copy with a looser type. */
const Loose = defineMessage('Hello', { name: t.unknown(), seq: t.unknown(), at: t.unknown() });
const looseCodec = createCodec({ catalogue: createCatalogue([Loose]) });

describe('codec - round trips', () => {
  it('round-trips a small message through a stateless blob', () => {
    const hello = Hello({ name: 'Gladys', seq: 42, at: new Date(1_700_000_000_123) });
    expect(codec.decode(codec.encode(hello))).toEqual(hello);
  });

  it('round-trips every supported type through blobs and bodies', () => {
    const message = order();
    expect(codec.decode(codec.encode(message))).toEqual(message);
    const body = codec.encodeBody(message);
    expect(codec.decodeBody('Order', body.body, body.addresses, body.flags)).toEqual(message);
  });

  it('keeps bigints of any size and sign', () => {
    for (const id of [
      0n,
      -1n,
      2n ** 63n - 1n,
      -(2n ** 63n),
      2n ** 64n,
      -(10n ** 80n),
      10n ** 300n,
    ]) {
      const decoded = codec.decode(codec.encode(order({ id }))) as unknown as { id: bigint };
      expect(decoded.id).toBe(id);
    }
  });

  it('accepts an integer number where a bigint is declared and returns a bigint', () => {
    const decoded = codec.decode(codec.encode(order({ id: 12 }))) as unknown as { id: bigint };
    expect(decoded.id).toBe(12n);
  });

  it('returns bytes as a copy, not a view of the input', () => {
    const bytes = codec.encode(order());
    const decoded = codec.decode(bytes) as unknown as { blob: Uint8Array };
    bytes.fill(0);
    expect([...decoded.blob]).toEqual([0, 1, 2, 255]);
  });

  it('round-trips nested messages of any declared type through anyMessage', () => {
    const envelope = Envelope({
      inner: order(),
      label: 'env',
      anything: new Map<unknown, unknown>([[1, new Map([['k', new Set([1])]])]]),
    });
    expect(codec.decode(codec.encode(envelope))).toEqual(envelope);
  });

  it('preserves shared references and cycles for graph messages', () => {
    const root = Node({ name: 'root', next: null, children: [] }) as unknown as {
      name: string;
      next: unknown;
      children: unknown[];
      byName?: Map<string, unknown>;
    };
    const leaf = Node({ name: 'leaf', next: null, children: [] });
    root.next = root;
    root.children.push(leaf, leaf, root);
    root.byName = new Map([['leaf', leaf]]);
    for (const decoded of [
      codec.decode(codec.encode(root as never)),
      (() => {
        const b = codec.encodeBody(root as never);
        expect(b.flags).toBe(BODY_FLAG_GRAPH);
        return codec.decodeBody('Node', b.body, b.addresses, b.flags);
      })(),
    ] as unknown as (typeof root)[]) {
      expect(decoded.next).toBe(decoded);
      expect(decoded.children[0]).toBe(decoded.children[1]);
      expect(decoded.children[2]).toBe(decoded);
      expect(decoded.byName?.get('leaf')).toBe(decoded.children[0]);
    }
  });

  it('reports a cycle in a non-graph message as an encode error', () => {
    const meta: Record<string, unknown> = {};
    meta.self = meta;
    expect(codeOf(() => codec.encode(order({ meta })))).toBe('HERALD_ERR_ENCODE');
  });

  it('drops unknown fields instead of rejecting them (version skew)', () => {
    const newer = { ...Hello({ name: 'a', seq: 1, at: new Date(0) }), addedLater: 'x' };
    const decoded = codec.decode(codec.encode(newer as never));
    expect(decoded).toEqual(Hello({ name: 'a', seq: 1, at: new Date(0) }));
    expect('addedLater' in decoded).toBe(false);
  });

  it('writes body addresses into the address vector, in order, and reads them back', () => {
    const body = codec.encodeBody(order());
    expect(body.addresses.map((a) => a.key)).toEqual(['19.20', '1', '0', `${2 ** 53 - 1}.3`]);
    const translated = body.addresses.map((a) => new Address([...a.hops, 99]));
    const decoded = codec.decodeBody('Order', body.body, translated, body.flags) as unknown as {
      replyTo: Address;
    };
    expect(decoded.replyTo.hops).toEqual([19, 20, 99]);
  });

  it('gives a body without addresses an empty vector', () => {
    const body = codec.encodeBody(Hello({ name: 'a', seq: 1, at: new Date(0) }));
    expect(body.addresses).toEqual([]);
    expect(body.flags).toBe(0);
  });
});

describe('codec - errors', () => {
  it('reports an unknown type name on decode and on encode', () => {
    const other = createCodec({ catalogue: createCatalogue([Item]) });
    const blob = codec.encode(Hello({ name: 'a', seq: 1, at: new Date(0) }));
    expect(codeOf(() => other.decode(blob))).toBe('HERALD_ERR_UNKNOWN_TYPE');
    expect(codeOf(() => other.decodeBody('Hello', new Uint8Array([0x80])))).toBe(
      'HERALD_ERR_UNKNOWN_TYPE',
    );
    expect(codeOf(() => other.encode(Hello({ name: 'a', seq: 1, at: new Date(0) })))).toBe(
      'HERALD_ERR_UNKNOWN_TYPE',
    );
  });

  it('reports a nested message of a type missing from the catalogue as unknown type', () => {
    const Stranger = defineMessage('Stranger', {});
    const sender = createCodec({ catalogue: catalogue.extend(Stranger) });
    const blob = sender.encode(Envelope({ inner: Stranger(), label: 'env' }));
    const error = errorOf(() => codec.decode(blob));
    expect(error.code).toBe('HERALD_ERR_UNKNOWN_TYPE');
    expect(error.path).toBe('Envelope.inner');
  });

  it('reports schema violations with a stable code and the path of the field', () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ name: 5 }, 'Hello.name'],
      [{ name: 'x'.repeat(65) }, 'Hello.name'],
      [{ seq: 1.5 }, 'Hello.seq'],
      [{ seq: 2 ** 53 }, 'Hello.seq'],
      [{ at: '2020-01-01' }, 'Hello.at'],
      [{ at: undefined }, 'Hello.at'],
    ];
    for (const [patch, path] of cases) {
      const blob = looseCodec.encode({
        type: 'Hello',
        name: 'a',
        seq: 1,
        at: new Date(0),
        ...patch,
      } as AnyMessage);
      const error = errorOf(() => codec.decode(blob));
      expect(error.code).toBe('HERALD_ERR_SCHEMA');
      expect(error.path).toBe(path);
    }
  });

  it('names the element of a nested array in the path', () => {
    const bad = order({
      items: [Item({ sku: 'a', qty: 1 }), { type: 'Item', sku: 'b', qty: 'x' }],
    });
    const error = errorOf(() => codec.decode(codec.encode(bad)));
    expect(error.code).toBe('HERALD_ERR_SCHEMA');
    expect(error.path).toBe('Order.items[1].qty');
  });

  it('enforces maxLength of arrays and bytes, enums, literals and addresses', () => {
    const tooMany = Array.from({ length: 101 }, () => Item({ sku: 'a', qty: 1 }));
    expect(errorOf(() => codec.decode(codec.encode(order({ items: tooMany })))).path).toBe(
      'Order.items',
    );
    expect(
      errorOf(() => codec.decode(codec.encode(order({ blob: new Uint8Array(1025) })))).path,
    ).toBe('Order.blob');
    expect(errorOf(() => codec.decode(codec.encode(order({ status: 'lost' })))).path).toBe(
      'Order.status',
    );
    expect(errorOf(() => codec.decode(codec.encode(order({ replyTo: [1, 2] })))).path).toBe(
      'Order.replyTo',
    );
    expect(
      errorOf(() =>
        codec.decode(
          codec.encode(Envelope({ inner: Item({ sku: 'a', qty: 1 }), label: 'x' } as never)),
        ),
      ).path,
    ).toBe('Envelope.label');
  });

  it('validates before encoding when asked to', () => {
    const strict = createCodec({ catalogue, validateOnEncode: true });
    expect(codeOf(() => strict.encode({ type: 'Hello', name: 1 } as AnyMessage))).toBe(
      'HERALD_ERR_SCHEMA',
    );
  });

  it('rejects input larger than maxMessageBytes before decoding it', () => {
    const small = createCodec({ catalogue, maxMessageBytes: 64 });
    const big = codec.encode(Hello({ name: 'x'.repeat(60), seq: 1, at: new Date(0) }));
    expect(codeOf(() => small.decode(big))).toBe('HERALD_ERR_TOO_LARGE');
    expect(codeOf(() => small.decodeBody('Hello', new Uint8Array(65)))).toBe(
      'HERALD_ERR_TOO_LARGE',
    );
    expect(codeOf(() => small.encode(order()))).toBe('HERALD_ERR_TOO_LARGE');
  });

  it('reports every truncation of a valid blob as a CodecError', () => {
    const blob = codec.encode(order());
    for (let end = 0; end < blob.length; end++) {
      const code = codeOf(() => codec.decode(blob.subarray(0, end)));
      expect(['HERALD_ERR_MALFORMED', 'HERALD_ERR_UNKNOWN_TYPE', 'HERALD_ERR_SCHEMA']).toContain(
        code,
      );
    }
  });

  it('does not allocate for a huge declared length in a tiny input', () => {
    const header = codec.encode(Hello({ name: 'a', seq: 1, at: new Date(0) })).subarray(0, 8);
    for (const body of [
      [0xdd, 0xff, 0xff, 0xff, 0xff], // array32 of 2^32-1 elements
      [0xdf, 0xff, 0xff, 0xff, 0xff], // map32
      [0xdb, 0xff, 0xff, 0xff, 0xff], // str32
      [0xc6, 0xff, 0xff, 0xff, 0xff], // bin32
      [0xc9, 0xff, 0xff, 0xff, 0xff, 0x41], // ext32
    ]) {
      const before = process.memoryUsage().rss;
      expect(codeOf(() => codec.decodeBody('Hello', new Uint8Array(body)))).toBe(
        'HERALD_ERR_MALFORMED',
      );
      expect(codeOf(() => codec.decode(new Uint8Array([...header, ...body])))).toBe(
        'HERALD_ERR_MALFORMED',
      );
      expect(process.memoryUsage().rss - before).toBeLessThan(256 * 1024 * 1024);
    }
  });

  it('turns deeply nested input into a typed error and keeps working afterwards', () => {
    const depth = 200_000;
    const body = new Uint8Array(depth + 1).fill(0x91);
    body[depth] = 0xc0;
    expect(codeOf(() => codec.decodeBody('Envelope', body))).toBe('HERALD_ERR_MALFORMED');
    const hello = Hello({ name: 'after', seq: 2, at: new Date(5) });
    expect(codec.decode(codec.encode(hello))).toEqual(hello);
  });

  it('rejects unknown flags, stream bodies on the stateless codec and bad address indexes', () => {
    const body = codec.encodeBody(order());
    expect(codeOf(() => codec.decodeBody('Order', body.body, body.addresses, 0x80))).toBe(
      'HERALD_ERR_MALFORMED',
    );
    expect(
      codeOf(() => codec.decodeBody('Order', body.body, body.addresses, BODY_FLAG_STREAM)),
    ).toBe('HERALD_ERR_STREAM_STATE');
    expect(codeOf(() => codec.decodeBody('Order', body.body, body.addresses.slice(1)))).toBe(
      'HERALD_ERR_MALFORMED',
    );
  });

  it('rejects an address index inside a blob, which has no address vector', () => {
    const body = codec.encodeBody(
      Envelope({
        inner: Hello({ name: 'a', seq: 1, at: new Date(0) }),
        label: 'env',
        anything: new Address([3]),
      }),
    );
    const name = new TextEncoder().encode('Envelope');
    const blob = new Uint8Array([1, 0, name.length, ...name, ...body.body]);
    expect(codeOf(() => codec.decode(blob))).toBe('HERALD_ERR_MALFORMED');
  });
});

describe('codec - isolation', () => {
  it('two codecs with different catalogues and limits do not interfere', () => {
    const A = defineMessage('Shared', { a: t.int(), where: t.address(), pad: t.string() });
    const B = defineMessage('Shared', { b: t.string() });
    const ca = createCodec({ catalogue: createCatalogue([A]) });
    const cb = createCodec({ catalogue: createCatalogue([B]), maxMessageBytes: 64 });
    const ma = A({ a: 1, where: new Address([7, 8]), pad: 'x'.repeat(100) });
    const mb = B({ b: 'hello' });
    for (let i = 0; i < 3; i++) {
      const bodyA = ca.encodeBody(ma);
      const blobB = cb.encode(mb);
      const bodyB = cb.encodeBody(mb);
      expect(bodyA.addresses).toHaveLength(1);
      expect(bodyB.addresses).toHaveLength(0);
      expect(ca.decodeBody('Shared', bodyA.body, bodyA.addresses)).toEqual(ma);
      expect(cb.decode(blobB)).toEqual(mb);
      expect(codeOf(() => cb.decode(ca.encode(ma)))).toBe('HERALD_ERR_TOO_LARGE');
      expect(codeOf(() => ca.decode(blobB))).toBe('HERALD_ERR_SCHEMA');
    }
  });
});
