/**
 * Property tests of the codec. Seeds follow the project policy (`@herald/testing`): a fixed
 * list under CI, one random seed locally, printed on failure; replay with HERALD_SEED=<n>.
 */
import { propertyParameters, propertySeeds } from '@herald/testing';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
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
  type Codec,
  type Fields,
  type Schema,
} from '../src/index.js';
import { codecProbe } from '../src/probe.js';
import { ALL, Envelope, Hello, Item, Node, Order } from './fixtures.js';

/** A graph type with a JSON field, and one whose field is a recursive union. */
const GraphJson = defineMessage('GraphJson', { meta: t.json() }, { graph: true });
const tree: Schema = t.lazy(() =>
  t.union(t.int(), t.array(tree), t.object({ kids: t.array(tree), tag: t.literal(1) })),
);
const GraphTree: AnyMessageType = defineMessage('GraphTree', { root: tree }, { graph: true });
/** Container schema nodes of `tree` (the array, the object, its kids array): work per object. */
const TREE_CONTAINER_CHECKERS = 3;
const tagged: Schema = t.lazy(() =>
  t.union(
    t.object({ kids: t.array(tagged), tag: t.literal(1) }),
    t.object({ kids: t.array(tagged), tag: t.literal(2) }),
    t.object({ kids: t.array(tagged), tag: t.literal(3) }),
  ),
);
const Tagged: AnyMessageType = defineMessage('Tagged', { root: tagged });
/** Container checkers `tagged` can run on one object: three options, each with its kids. */
const TAGGED_CHECKERS = 6;

const catalogue = createCatalogue([...ALL, GraphJson, GraphTree, Tagged]);
const codec = createCodec({ catalogue });
const TYPE_NAMES = [
  'Hello',
  'Item',
  'Order',
  'Envelope',
  'Node',
  'GraphJson',
  'GraphTree',
  'Tagged',
];

/** Raw msgpackr packers: they write whatever they are given, as a hostile peer would. */
const plainPackr = new Packr({ useRecords: false, moreTypes: true, useBigIntExtension: true });
const graphPackr = new Packr({
  structuredClone: true,
  useRecords: true,
  moreTypes: true,
  useBigIntExtension: true,
});

const key = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
/** msgpack has no negative zero for integers; JSON numbers come back as written otherwise. */
/** msgpackr reads a `__proto__` key as `__proto_` (no prototype pollution): not generated. */
const json = fc
  .jsonValue({ maxDepth: 3 })
  .map((v) => JSON.parse(JSON.stringify(v)) as unknown)
  .filter((v) => !JSON.stringify(v).includes('"__proto__"'));
const number = fc.double().map((n) => (Object.is(n, -0) ? 0 : n));

function arbitraryFor(schema: Schema, depth = 0): fc.Arbitrary<unknown> {
  switch (schema.kind) {
    case 'string':
      return fc.string({ maxLength: schema.maxLength ?? 20 });
    case 'number':
      return number;
    case 'int':
      return fc.maxSafeInteger();
    case 'boolean':
      return fc.boolean();
    case 'bigint':
      return fc.bigInt({ min: -(2n ** 200n), max: 2n ** 200n });
    case 'date':
      return fc.date({ noInvalidDate: true });
    case 'bytes':
      return fc.uint8Array({ maxLength: Math.min(schema.maxLength ?? 64, 64) });
    case 'null':
      return fc.constant(null);
    case 'json':
    case 'unknown':
      return json;
    case 'literal':
      return fc.constant(schema.value);
    case 'enum':
      return fc.constantFrom(...schema.values);
    case 'array':
      return fc.array(arbitraryFor(schema.element, depth + 1), {
        maxLength: Math.min(schema.maxLength ?? 4, 4),
      });
    case 'set':
      return fc
        .uniqueArray(arbitraryFor(schema.element, depth + 1), { maxLength: 4 })
        .map((xs) => new Set(xs));
    case 'map':
      return fc
        .uniqueArray(
          fc.tuple(arbitraryFor(schema.key, depth + 1), arbitraryFor(schema.value, depth + 1)),
          {
            maxLength: 4,
            selector: ([k]) => k,
          },
        )
        .map((entries) => new Map(entries));
    case 'record':
      return fc.dictionary(key, arbitraryFor(schema.value, depth + 1), { maxKeys: 4 });
    case 'object':
      return fieldsArbitrary(schema.fields, depth + 1);
    case 'optional':
      return fc.option(arbitraryFor(schema.inner, depth + 1), { nil: undefined });
    case 'nullable':
      return fc.option(arbitraryFor(schema.inner, depth + 1), { nil: null });
    case 'union':
      return fc.oneof(...schema.options.map((o) => arbitraryFor(o, depth + 1)));
    case 'message':
      return messageArbitrary(schema.def(), depth + 1);
    case 'anyMessage':
      return fc.oneof(messageArbitrary(Hello, depth + 1), messageArbitrary(Item, depth + 1));
    case 'address':
      return fc
        .array(fc.maxSafeNat(), { minLength: 1, maxLength: 4 })
        .map((hops) => new Address(hops));
    case 'lazy':
      return arbitraryFor(schema.get(), depth + 1);
  }
}

function fieldsArbitrary(fields: Fields, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const record: Record<string, fc.Arbitrary<unknown>> = {};
  for (const [name, schema] of Object.entries(fields)) record[name] = arbitraryFor(schema, depth);
  // Optional fields that came out undefined are left out, as a sender would.
  return fc.record(record).map((value) => {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) if (v !== undefined) out[k] = v;
    return out;
  });
}

function messageArbitrary(def: AnyMessageType, depth: number): fc.Arbitrary<AnyMessage> {
  return fieldsArbitrary(def.fields, depth).map((fields) => ({ type: def.type, ...fields }));
}

/**
 * A DAG of arrays: array i holds integers and arrays made before it, so arrays are shared
 * (never cyclic) and the number of paths can be exponential in the number of arrays.
 */
const dagArbitrary = fc
  .array(
    fc.array(
      fc.oneof(
        fc.nat().map((ref) => ({ ref })),
        fc.integer({ min: -1000, max: 1000 }).map((int) => ({ int })),
      ),
      { maxLength: 4 },
    ),
    { minLength: 1, maxLength: 40 },
  )
  .map((specs) => {
    const arrays: unknown[][] = [];
    specs.forEach((spec, i) => {
      arrays.push(spec.map((e) => ('ref' in e ? (i > 0 ? arrays[e.ref % i] : 0) : e.int)));
    });
    const root = arrays[arrays.length - 1] as unknown[];
    return { root, arrays: countObjects(root), expanded: expandedSize(root) };
  });

/** Distinct objects (arrays, plain objects) reachable from `value`. */
function countObjects(value: unknown, seen = new Set<unknown>()): number {
  if (typeof value !== 'object' || value === null || seen.has(value)) return 0;
  seen.add(value);
  let count = 1;
  for (const item of Object.values(value)) count += countObjects(item, seen);
  return count;
}

/** Nodes of `value` written out as a tree (memoised: DAGs are cheap to measure). */
function expandedSize(value: unknown, memo = new Map<unknown, number>()): number {
  if (!Array.isArray(value)) return 1;
  const known = memo.get(value);
  if (known !== undefined) return known;
  let size = 1;
  for (const item of value) size += expandedSize(item, memo);
  memo.set(value, size);
  return size;
}

/** Same DAG: equal leaves, and one decoded array for each source array (sharing kept). */
function sameShape(decoded: unknown, source: unknown, seen = new Map<unknown, unknown>()): boolean {
  if (!Array.isArray(decoded) || !Array.isArray(source)) return Object.is(decoded, source);
  if (seen.has(source)) return seen.get(source) === decoded;
  seen.set(source, decoded);
  return (
    decoded.length === source.length && decoded.every((item, i) => sameShape(item, source[i], seen))
  );
}

/** Trees for the `tagged` union; tag 4 matches no option. */
const taggedTree = fc.letrec((tie) => ({
  node: fc.record({
    kids: fc.oneof(
      { depthSize: 'small', maxDepth: 6 },
      fc.constant([]),
      fc.array(tie('node'), { maxLength: 3 }),
    ),
    tag: fc.constantFrom(1, 2, 3, 3, 3, 4),
  }),
})).node;

/** Values that broke error messages or validators: bigints, poisoned objects, odd types. */
const hostileLeaf = fc.oneof(
  fc.bigInt({ min: -(2n ** 600n), max: 2n ** 600n }),
  fc.bigInt({ min: 2n ** 63n, max: 2n ** 64n - 1n }),
  fc.record({ toString: fc.oneof(fc.integer(), fc.string()), valueOf: fc.integer() }),
  fc.string({ minLength: 100, maxLength: 2000 }),
  fc.constantFrom(NaN, Infinity, -0, 2 ** 53, 1.5, null, undefined, true, ''),
  fc.constantFrom(new Error('boom'), /a(b+)+c/, new Uint16Array([1, 2]), new Date(Number.NaN)),
  fc.uint8Array({ maxLength: 8 }),
);
const hostileValue: fc.Arbitrary<unknown> = fc.letrec((tie) => ({
  value: fc.oneof(
    { depthSize: 'small' },
    hostileLeaf,
    fc.array(tie('value'), { maxLength: 3 }),
    fc.dictionary(
      fc.constantFrom('type', 'toString', 'valueOf', 'constructor', 'name', 'kids', 'x'),
      tie('value'),
      { maxKeys: 3 },
    ),
    fc.array(fc.tuple(tie('value'), tie('value')), { maxLength: 2 }).map((e) => new Map(e)),
    fc.array(tie('value'), { maxLength: 2 }).map((xs) => new Set(xs)),
  ),
})).value;

/** Packs with a raw packer; null when msgpackr itself cannot write the value. */
function packed(packr: Packr, value: unknown): Uint8Array | null {
  try {
    return packr.pack(value);
  } catch {
    return null;
  }
}

const anyValidMessage = fc.oneof(
  messageArbitrary(Hello, 0),
  messageArbitrary(Item, 0),
  messageArbitrary(Order, 0),
  messageArbitrary(Envelope, 0),
);

/** Valid graph messages: Node graphs with shared children and cycles, JSON DAGs. */
const anyGraphMessage: fc.Arbitrary<AnyMessage> = fc.oneof(
  fc
    .array(fc.tuple(fc.string({ maxLength: 6 }), fc.nat(), fc.nat()), {
      minLength: 1,
      maxLength: 8,
    })
    .map((specs) => {
      type Mutable = { next: unknown; children: unknown[] };
      const nodes = specs.map(
        ([name]) => Node({ name, next: null, children: [] }) as unknown as Mutable,
      );
      specs.forEach(([, next, child], i) => {
        const node = nodes[i] as Mutable;
        node.next = nodes[next % nodes.length];
        node.children.push(nodes[child % nodes.length], nodes[(child + 1) % nodes.length]);
      });
      return nodes[0] as unknown as AnyMessage;
    }),
  dagArbitrary.map((d) => GraphJson({ meta: d.root as never })),
  dagArbitrary.map((d) => GraphTree({ root: d.root as never })),
);

/** Runs `run`; a CodecError is fine, anything else fails the property. */
function onlyCodecErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
  }
}

/** Every decode entry point of `codec`, fed `body` as message `name`. */
function decodeEverywhere(target: Codec, name: string, body: Uint8Array): void {
  const addresses = [new Address([1]), new Address([2, 3])];
  const { decoder } = target.createStream();
  const header = Buffer.from(name.slice(0, 255));
  for (const flags of [0, BODY_FLAG_GRAPH]) {
    onlyCodecErrors(() =>
      target.decode(Uint8Array.from([1, flags, header.length, ...header, ...body])),
    );
    onlyCodecErrors(() => target.decodeBody(name, body, addresses, flags));
    onlyCodecErrors(() => decoder.decodeBody(name, body, addresses, flags));
  }
  onlyCodecErrors(() => decoder.decodeBody(name, body, addresses, BODY_FLAG_STREAM));
  onlyCodecErrors(() => decoder.applyStructures(body));
}

let defectsBefore = 0;
beforeEach(() => {
  defectsBefore = codecProbe.defects;
});
afterEach(() => {
  // No input may reach the decoders' last-resort guard: each error is mapped where it arises.
  expect(codecProbe.defects).toBe(defectsBefore);
});

describe('codec - properties', () => {
  it('round-trips every valid message through blobs, bodies and streams', () => {
    for (const seed of propertySeeds()) {
      const { encoder, decoder } = codec.createStream();
      fc.assert(
        fc.property(anyValidMessage, (message) => {
          expect(codec.decode(codec.encode(message))).toEqual(message);
          const body = codec.encodeBody(message);
          expect(codec.decodeBody(message.type, body.body, body.addresses, body.flags)).toEqual(
            message,
          );
          const streamed = encoder.encodeBody(message);
          if (streamed.structureUpdate) decoder.applyStructures(streamed.structureUpdate);
          expect(
            decoder.decodeBody(message.type, streamed.body, streamed.addresses, streamed.flags),
          ).toEqual(message);
        }),
        propertyParameters(seed, 200),
      );
    }
  });

  it('decoding random bytes throws nothing but CodecError', () => {
    for (const seed of propertySeeds()) {
      const { encoder, decoder } = codec.createStream();
      for (const message of [
        Hello({ name: 'a', seq: 1, at: new Date(0) }),
        Item({ sku: 'a', qty: 1 }),
      ]) {
        const body = encoder.encodeBody(message);
        if (body.structureUpdate) decoder.applyStructures(body.structureUpdate);
      }
      const names = fc.constantFrom(...TYPE_NAMES, 'Nope');
      const addresses = [new Address([1]), new Address([2, 3])];
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 200 }), names, (bytes, name) => {
          onlyCodecErrors(() => codec.decode(bytes));
          decodeEverywhere(codec, name, bytes);
          // The stream that has shapes applied, too.
          onlyCodecErrors(() => decoder.decodeBody(name, bytes, addresses, BODY_FLAG_STREAM));
        }),
        propertyParameters(seed, 800),
      );
    }
  });

  it('decoding mutated valid messages throws nothing but CodecError', () => {
    const edits = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
      minLength: 1,
      maxLength: 4,
    });
    const mutate = (bytes: Uint8Array, changes: Array<[number, number]>): Uint8Array => {
      const copy = new Uint8Array(bytes); // a copy: Buffer#slice would be a view
      for (const [at, value] of changes) if (copy.length > 0) copy[at % copy.length] = value;
      return copy;
    };
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.oneof(anyValidMessage, anyGraphMessage), edits, (message, changes) => {
          const blob = mutate(codec.encode(message), changes);
          const body = codec.encodeBody(message);
          const copy = mutate(body.body, changes);
          onlyCodecErrors(() => codec.decode(blob));
          onlyCodecErrors(() => codec.decodeBody(message.type, copy, body.addresses, body.flags));
          decodeEverywhere(codec, message.type, copy);
          // Stream bodies and their structure updates, mutated one at a time.
          const { encoder, decoder } = codec.createStream();
          const streamed = encoder.encodeBody(message);
          const update = streamed.structureUpdate;
          if (update !== undefined) {
            onlyCodecErrors(() =>
              codec.createStream().decoder.applyStructures(mutate(update, changes)),
            );
            decoder.applyStructures(update);
          }
          onlyCodecErrors(() =>
            decoder.decodeBody(
              message.type,
              mutate(streamed.body, changes),
              streamed.addresses,
              streamed.flags,
            ),
          );
        }),
        propertyParameters(seed, 150),
      );
    }
  });

  it('hostile values (bigints, poisoned objects, cycles, shared references) give a value or a CodecError', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          anyValidMessage,
          fc.constantFrom(...TYPE_NAMES),
          fc.nat(),
          hostileValue,
          fc.constantFrom('none', 'shared', 'cycle'),
          (message, name, fieldIndex, hostile, sharing) => {
            // Put the hostile value in one field (or the type field) of a valid message.
            const raw: Record<string, unknown> = { ...message };
            const keys = Object.keys(raw);
            raw[keys[fieldIndex % keys.length] as string] = hostile;
            if (sharing === 'shared') raw['extra'] = hostile;
            if (sharing === 'cycle') {
              raw['self'] = raw;
              if (typeof hostile === 'object' && hostile !== null) {
                (hostile as Record<string, unknown>)['back'] = raw;
              }
            }
            const plain = sharing === 'cycle' ? null : packed(plainPackr, raw);
            if (plain !== null) {
              decodeEverywhere(codec, name, plain);
              // The codec's own encoders write unvalidated values too.
              if (typeof raw['type'] === 'string' && catalogue.has(raw['type'])) {
                const type = raw['type'];
                onlyCodecErrors(() => {
                  const body = codec.encodeBody(raw as unknown as AnyMessage);
                  codec.decodeBody(type, body.body, body.addresses, body.flags);
                });
                // Stream bodies: objects arrive as msgpackr records, not maps.
                const { encoder, decoder } = codec.createStream();
                onlyCodecErrors(() => {
                  const body = encoder.encodeBody(raw as unknown as AnyMessage);
                  if (body.structureUpdate) decoder.applyStructures(body.structureUpdate);
                  decoder.decodeBody(type, body.body, body.addresses, body.flags);
                });
              }
            }
            const graph = packed(graphPackr, raw);
            if (graph !== null) decodeEverywhere(codec, name, graph);
          },
        ),
        propertyParameters(seed, 200),
      );
    }
  });

  it('validates a DAG of shared arrays with work bounded by its distinct objects', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(dagArbitrary, (d) => {
          const json = codec.encode(GraphJson({ meta: d.root as never }));
          if (d.expanded > codec.maxMessageBytes) {
            // Its tree form would not fit in a message: rejected, still without expanding it.
            expect(() => codec.decode(json)).toThrow(CodecError);
          } else {
            const decodedJson = codec.decode(json) as unknown as { meta: unknown };
            expect(sameShape(decodedJson.meta, d.root)).toBe(true);
          }
          // One unit for the message, one per distinct array, however many paths.
          expect(codecProbe.validationWork).toBeLessThanOrEqual(1 + d.arrays);
          const treeBody = codec.encodeBody(GraphTree({ root: d.root as never }));
          codec.decodeBody('GraphTree', treeBody.body, treeBody.addresses, treeBody.flags);
          expect(codecProbe.validationWork).toBeLessThanOrEqual(
            1 + d.arrays * TREE_CONTAINER_CHECKERS,
          );
        }),
        propertyParameters(seed, 100),
      );
    }
  });

  it('tries union options with work bounded by objects times options', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(taggedTree, (root) => {
          const objects = countObjects(root);
          onlyCodecErrors(() => codec.decode(codec.encode(Tagged({ root } as never))));
          expect(codecProbe.validationWork).toBeLessThanOrEqual(1 + objects * TAGGED_CHECKERS);
        }),
        propertyParameters(seed, 200),
      );
    }
  });
});
