/**
 * Decoding input made by a hostile peer: values that break error-message building, graph
 * bodies for types that are not graphs, DAGs of shared arrays, nested unions. The codec
 * promises a value or a CodecError, with work linear in the input; the work is checked on
 * the validator's own counter (codecProbe), never on the clock.
 */
import { Packr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  Address,
  BODY_FLAG_GRAPH,
  BODY_FLAG_STREAM,
  createCatalogue,
  createCodec,
  defineMessage,
  t,
  type AnyMessageType,
  type Schema,
} from '../src/index.js';
import { MAX_JSON_DEPTH } from '../src/constants.js';
import { codecProbe } from '../src/probe.js';
import { ALL, codeOf, Envelope, errorOf, Hello, Item, Order } from './fixtures.js';

/** A graph type with a JSON field: the target of the shared-array DAG. */
const GraphJson = defineMessage('GraphJson', { meta: t.json() }, { graph: true });
/** A tree type with a JSON field. */
const TreeJson = defineMessage('TreeJson', { meta: t.json() });
/** Two object schemas that one shared source object could be checked against. */
const TwoShapes = defineMessage(
  'TwoShapes',
  { a: t.object({ x: t.number() }), b: t.object({ y: t.string() }) },
  { graph: true },
);
/** A recursive union whose options differ only in a field checked after the recursion. */
const chain: Schema = t.lazy(() =>
  t.union(
    t.object({ next: t.nullable(chain), tag: t.literal(1) }),
    t.object({ next: t.nullable(chain), tag: t.literal(2) }),
    t.object({ next: t.nullable(chain), tag: t.literal(3) }),
  ),
);
const Chain = defineMessage('Chain', { head: chain });
const GraphChain = defineMessage('GraphChain', { head: chain }, { graph: true });

const catalogue = createCatalogue([...ALL, GraphJson, TreeJson, TwoShapes, Chain, GraphChain]);
const codec = createCodec({ catalogue });

/** Raw msgpackr packers: they write whatever they are given, as a hostile peer would. */
const plainPackr = new Packr({ useRecords: false, moreTypes: true });
const graphPackr = new Packr({ structuredClone: true, useRecords: true, moreTypes: true });

function blob(name: string, flags: number, body: Uint8Array): Uint8Array {
  return Uint8Array.from([1, flags, name.length, ...Buffer.from(name), ...body]);
}

/** A DAG of `depth` levels, each an array holding the level below twice: 2^depth paths. */
function dag(depth: number): unknown {
  let value: unknown = [1];
  for (let i = 0; i < depth; i++) value = [value, value];
  return value;
}

/** A chain of `depth` objects for the `chain` schema, each with tag `tag`. */
function chainOf(depth: number, tag: number, last: number = tag): unknown {
  let value: unknown = null;
  for (let i = 0; i < depth; i++) value = { next: value, tag: i === 0 ? last : tag };
  return value;
}

let defectsBefore = 0;
beforeEach(() => {
  defectsBefore = codecProbe.defects;
});
afterEach(() => {
  // No test here may reach the last-resort guard: every error is mapped where it arises.
  expect(codecProbe.defects).toBe(defectsBefore);
});

describe('codec - hostile values in error messages', () => {
  it('reports a bigint or cyclic type field as a schema error (seed 577299140)', () => {
    const uint64 = plainPackr.pack({ type: 2n ** 64n - 1n, sku: 'a', qty: 1 });
    expect(codeOf(() => codec.decodeBody('Item', uint64))).toBe('HERALD_ERR_SCHEMA');
    expect(codeOf(() => codec.decode(blob('Item', 0, uint64)))).toBe('HERALD_ERR_SCHEMA');
    const nested = plainPackr.pack({ type: 'Envelope', label: 'env', inner: { type: 2n ** 70n } });
    expect(errorOf(() => codec.decodeBody('Envelope', nested)).path).toBe('Envelope.inner');
    // A graph body whose type field is a cycle (an array holding itself).
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    const node = graphPackr.pack({ type: cyclic, name: 'n', next: null, children: [] });
    expect(codeOf(() => codec.decodeBody('Node', node, [], BODY_FLAG_GRAPH))).toBe(
      'HERALD_ERR_SCHEMA',
    );
  });

  it('never calls or converts the toString and valueOf a peer sent as plain data', () => {
    const poisoned = { toString: 1, valueOf: 2 };
    const cases: Array<[AnyMessageType, Record<string, unknown>, string]> = [
      [Hello, { name: 'a', seq: poisoned, at: new Date(0) }, 'Hello.seq'],
      [Order, { ...orderFields(), status: poisoned }, 'Order.status'],
      [Envelope, { label: poisoned, inner: poisoned }, 'Envelope.inner'],
      [Envelope, { label: poisoned, inner: Item({ sku: 'a', qty: 1 }) }, 'Envelope.label'],
    ];
    for (const [def, fields, path] of cases) {
      // The codec writes what it is given (no validateOnEncode): a peer could send this.
      const { body, addresses } = codec.encodeBody({ type: def.type, ...fields });
      const error = errorOf(() => codec.decodeBody(def.type, body, addresses));
      expect(error.code).toBe('HERALD_ERR_SCHEMA');
      expect(error.path).toBe(path);
    }
    // A Map key that fails its schema is named in the path without String(key).
    const notes = codec.encodeBody(
      Order({ ...orderFields(), notes: new Map([[poisoned as never, 'x']]) } as never),
    );
    const error = errorOf(() => codec.decodeBody('Order', notes.body, notes.addresses));
    expect(error.path).toBe('Order.notes.keys(object)');
  });

  it('bounds what a message quotes from the input', () => {
    const long = 'x'.repeat(100_000);
    const body = plainPackr.pack({ type: long });
    const error = errorOf(() => codec.decodeBody('Item', body));
    expect(error.message.length).toBeLessThan(400);
    const unknown = errorOf(() => codec.decodeBody(long, body));
    expect(unknown.code).toBe('HERALD_ERR_UNKNOWN_TYPE');
    expect(unknown.message.length).toBeLessThan(400);
  });

  it('rejects bad flags and type names of any JavaScript type with a CodecError', () => {
    const { decoder } = codec.createStream();
    const body = codec.encodeBody(Item({ sku: 'a', qty: 1 })).body;
    for (const flags of [Symbol('f'), { toString: 1 }, 2n, -1, 0.5, 0x80] as never[]) {
      expect(codeOf(() => codec.decodeBody('Item', body, [], flags))).toBe('HERALD_ERR_MALFORMED');
      expect(codeOf(() => decoder.decodeBody('Item', body, [], flags))).toBe(
        'HERALD_ERR_MALFORMED',
      );
    }
    for (const name of [Symbol('n'), { toString: 1 }, 5n] as never[]) {
      expect(codeOf(() => codec.decodeBody(name, body))).toBe('HERALD_ERR_UNKNOWN_TYPE');
      expect(codeOf(() => decoder.decodeBody(name, body, [], 0))).toBe('HERALD_ERR_UNKNOWN_TYPE');
    }
  });
});

describe('codec - graph mode only for graph types', () => {
  it('rejects a graph body or graph blob of a type not declared graph', () => {
    const shared = [1, 2];
    const body = graphPackr.pack({ type: 'TreeJson', meta: [shared, shared] });
    expect(codeOf(() => codec.decodeBody('TreeJson', body, [], BODY_FLAG_GRAPH))).toBe(
      'HERALD_ERR_MALFORMED',
    );
    expect(codeOf(() => codec.decode(blob('TreeJson', BODY_FLAG_GRAPH, body)))).toBe(
      'HERALD_ERR_MALFORMED',
    );
    const { decoder } = codec.createStream();
    expect(codeOf(() => decoder.decodeBody('TreeJson', body, [], BODY_FLAG_GRAPH))).toBe(
      'HERALD_ERR_MALFORMED',
    );
  });

  it('rejects shared references inside plain and stream bodies', () => {
    const shared = [1, 2];
    const body = graphPackr.pack({ type: 'TreeJson', meta: [shared, shared] });
    expect(codeOf(() => codec.decodeBody('TreeJson', body))).toBe('HERALD_ERR_MALFORMED');
    expect(codeOf(() => codec.decode(blob('TreeJson', 0, body)))).toBe('HERALD_ERR_MALFORMED');
    const { decoder } = codec.createStream();
    expect(codeOf(() => decoder.decodeBody('TreeJson', body, [], BODY_FLAG_STREAM))).toBe(
      'HERALD_ERR_MALFORMED',
    );
  });

  it('checks a shared object against each schema it is used under', () => {
    const both = { x: 1, y: 'k' };
    const decoded = codec.decode(codec.encode(TwoShapes({ a: both, b: both }))) as unknown as {
      a: unknown;
      b: unknown;
    };
    expect(decoded.a).toEqual({ x: 1 });
    expect(decoded.b).toEqual({ y: 'k' });
    // Valid for `a` only: the result checked for `a` must not be handed out for `b`.
    const onlyA = { x: 1 };
    const error = errorOf(() =>
      codec.decode(codec.encode(TwoShapes({ a: onlyA, b: onlyA } as never))),
    );
    expect(error.path).toBe('TwoShapes.b.y');
  });
});

describe('codec - validation work is linear in the input', () => {
  it('validates a DAG of shared arrays in a JSON field once per distinct array', () => {
    for (const depth of [10, 20]) {
      const decoded = codec.decode(codec.encode(GraphJson({ meta: dag(depth) as never })));
      // depth + 1 arrays: one unit each, whatever the 2^depth paths through them.
      expect(codecProbe.validationWork).toBeLessThanOrEqual(depth + 2);
      const meta = (decoded as unknown as { meta: unknown[] }).meta;
      expect(meta[0]).toBe(meta[1]);
    }
  });

  it('rejects a JSON DAG whose expanded tree exceeds maxMessageBytes, without expanding it', () => {
    const bytes = codec.encode(GraphJson({ meta: dag(40) as never }));
    expect(bytes.length).toBeLessThan(1_000);
    const error = errorOf(() => codec.decode(bytes));
    expect(error.code).toBe('HERALD_ERR_SCHEMA');
    expect(error.path).toBe('GraphJson.meta');
    expect(codecProbe.validationWork).toBeLessThanOrEqual(42);
    // The same bound counts every JSON field of the message together.
    const small = createCodec({ catalogue, maxMessageBytes: 1_000 });
    expect(codeOf(() => small.decode(codec.encode(GraphJson({ meta: dag(10) as never }))))).toBe(
      'HERALD_ERR_SCHEMA',
    );
  });

  it('rejects cyclic JSON and JSON deeper than MAX_JSON_DEPTH reached through shared arrays', () => {
    const cyclic: unknown[] = [];
    cyclic.push(cyclic);
    expect(
      errorOf(() => codec.decode(codec.encode(GraphJson({ meta: cyclic as never })))).path,
    ).toBe('GraphJson.meta');
    // A shared chain: fine at the top, too deep below a long prefix.
    let deep: unknown = [];
    for (let i = 0; i < MAX_JSON_DEPTH - 2; i++) deep = [deep];
    expect(codeOf(() => codec.decode(codec.encode(GraphJson({ meta: [deep] as never }))))).toBe(
      'no error',
    );
    expect(
      codeOf(() => codec.decode(codec.encode(GraphJson({ meta: [deep, [[[deep]]]] as never })))),
    ).toBe('HERALD_ERR_SCHEMA');
  });

  it('reads a graph body with trailing bytes without a JSON view of its DAG', () => {
    // msgpackr's own end-of-buffer check would JSON.stringify the value: 2^40 paths.
    const body = codec.encodeBody(GraphJson({ meta: dag(40) as never })).body;
    const trailing = Uint8Array.from([...body, 0xc0]);
    expect(codeOf(() => codec.decodeBody('GraphJson', trailing, [], BODY_FLAG_GRAPH))).toBe(
      'HERALD_ERR_MALFORMED',
    );
    expect(codeOf(() => codec.decode(blob('GraphJson', BODY_FLAG_GRAPH, trailing)))).toBe(
      'HERALD_ERR_MALFORMED',
    );
  });

  it('tries union options without walking a subtree once per option per level', () => {
    const depth = 40;
    // Every level fails the first two options only after checking the whole rest: without
    // memoised failures this is 3^depth checks.
    const valid = chainOf(depth, 3);
    const decoded = codec.decode(codec.encode(Chain({ head: valid } as never)));
    expect(decoded).toEqual(Chain({ head: valid } as never));
    expect(codecProbe.validationWork).toBeLessThanOrEqual(3 * depth * 2);
    // The same for a chain that fails at the bottom, and in graph mode.
    const invalid = chainOf(depth, 3, 4);
    expect(codeOf(() => codec.decode(codec.encode(Chain({ head: invalid } as never))))).toBe(
      'HERALD_ERR_SCHEMA',
    );
    expect(codecProbe.validationWork).toBeLessThanOrEqual(3 * depth * 2);
    expect(codec.decode(codec.encode(GraphChain({ head: valid } as never)))).toEqual(
      GraphChain({ head: valid } as never),
    );
    expect(codecProbe.validationWork).toBeLessThanOrEqual(3 * depth * 2);
  });

  it('rejects a cycle through a union option that fails instead of keeping a half-built value', () => {
    // {next: self, tag: 2}: option 1 assumes `self` valid through the cycle, then fails on
    // `tag`; an output built on that assumption cannot be trusted, so no option is retried.
    const self: Record<string, unknown> = { tag: 2 };
    self['next'] = self;
    const error = errorOf(() => codec.decode(codec.encode(GraphChain({ head: self } as never))));
    expect(error.code).toBe('HERALD_ERR_SCHEMA');
    // Without a cycle through the failing option the union picks option 2 as usual.
    const tagged = { next: { next: null, tag: 1 }, tag: 2 };
    expect(codec.decode(codec.encode(GraphChain({ head: tagged } as never)))).toEqual(
      GraphChain({ head: tagged } as never),
    );
    // A cycle that option 1 accepts round-trips with its identity.
    const loop: Record<string, unknown> = { tag: 1 };
    loop['next'] = loop;
    const decoded = codec.decode(codec.encode(GraphChain({ head: loop } as never))) as unknown as {
      head: { next: unknown };
    };
    expect(decoded.head.next).toBe(decoded.head);
  });
});

describe('codec - the last-resort guard', () => {
  it('turns anything but a CodecError inside a decoder into HERALD_ERR_MALFORMED, counted as a defect', () => {
    // A catalogue that throws stands in for a codec bug: nothing a peer sends can do this.
    const broken = createCodec({
      catalogue: {
        get: () => {
          throw new TypeError('catalogue defect');
        },
      } as never,
    });
    const before = codecProbe.defects;
    const body = codec.encodeBody(Item({ sku: 'a', qty: 1 })).body;
    const { decoder } = broken.createStream();
    for (const run of [
      () => broken.decodeBody('Item', body),
      () => broken.decode(blob('Item', 0, body)),
      () => decoder.decodeBody('Item', body, [], 0),
    ]) {
      const error = errorOf(run);
      expect(error.code).toBe('HERALD_ERR_MALFORMED');
      expect(error.cause).toBeInstanceOf(TypeError);
    }
    expect(codecProbe.defects).toBe(before + 3);
    defectsBefore = codecProbe.defects; // these three were meant
  });
});

describe('codec - regressions found on the way', () => {
  it('decodes integers 64..127 in plain bodies and blobs (fixints 0x40-0x7f)', () => {
    for (let qty = 60; qty < 130; qty++) {
      const item = Item({ sku: 'a', qty });
      expect(codec.decode(codec.encode(item))).toEqual(item);
      const body = codec.encodeBody(item);
      expect(codec.decodeBody('Item', body.body, body.addresses, body.flags)).toEqual(item);
    }
  });

  it('reports bad createCodec options as HERALD_ERR_BAD_OPTION', () => {
    for (const options of [
      { maxMessageBytes: 0 },
      { maxMessageBytes: 1.5 },
      { maxMessageBytes: Symbol('x') },
      { maxStreamStructures: -1 },
      { maxStreamStructures: 8161 },
      { maxStreamStructures: { toString: 1 } },
    ]) {
      expect(codeOf(() => createCodec({ catalogue, ...(options as object) }))).toBe(
        'HERALD_ERR_BAD_OPTION',
      );
    }
  });
});

function orderFields(): Record<string, unknown> {
  return {
    id: 1n,
    items: [],
    tags: new Set<string>(),
    notes: new Map<number, string>(),
    meta: null,
    blob: new Uint8Array(0),
    replyTo: new Address([1]),
    status: 'new',
    coupon: null,
    shape: { w: 1, h: 2 },
  };
}
