import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Address,
  BODY_FLAG_GRAPH,
  BODY_FLAG_STREAM,
  CodecError,
  createCatalogue,
  createCodec,
  type AnyMessage,
  type AnyMessageType,
  type Fields,
  type Schema,
} from '../src/index.js';
import { ALL, Envelope, Hello, Item, Order } from './fixtures.js';

const catalogue = createCatalogue(ALL);
const codec = createCodec({ catalogue });

const key = fc.string({ maxLength: 8 }).filter((k) => k !== '__proto__');
/** msgpack has no negative zero for integers; JSON numbers come back as written otherwise. */
const json = fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
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

const anyValidMessage = fc.oneof(
  messageArbitrary(Hello, 0),
  messageArbitrary(Item, 0),
  messageArbitrary(Order, 0),
  messageArbitrary(Envelope, 0),
);

function onlyCodecErrors(run: () => unknown): void {
  try {
    run();
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
  }
}

describe('codec - properties', () => {
  it('round-trips every valid message through blobs, bodies and streams', () => {
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
      { numRuns: 500 },
    );
  });

  it('decoding random bytes throws nothing but CodecError', () => {
    const { encoder, decoder } = codec.createStream();
    for (const message of [
      Hello({ name: 'a', seq: 1, at: new Date(0) }),
      Item({ sku: 'a', qty: 1 }),
    ]) {
      const body = encoder.encodeBody(message);
      if (body.structureUpdate) decoder.applyStructures(body.structureUpdate);
    }
    const names = fc.constantFrom('Hello', 'Item', 'Order', 'Envelope', 'Node', 'Nope');
    const addresses = [new Address([1]), new Address([2, 3])];
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), names, (bytes, name) => {
        onlyCodecErrors(() => codec.decode(bytes));
        onlyCodecErrors(() =>
          codec.decode(Uint8Array.from([1, 0, name.length, ...Buffer.from(name), ...bytes])),
        );
        onlyCodecErrors(() =>
          codec.decode(
            Uint8Array.from([1, BODY_FLAG_GRAPH, name.length, ...Buffer.from(name), ...bytes]),
          ),
        );
        onlyCodecErrors(() => codec.decodeBody(name, bytes, addresses, 0));
        onlyCodecErrors(() => codec.decodeBody(name, bytes, addresses, BODY_FLAG_GRAPH));
        onlyCodecErrors(() => decoder.decodeBody(name, bytes, addresses, BODY_FLAG_STREAM));
        onlyCodecErrors(() => decoder.applyStructures(bytes));
      }),
      { numRuns: 5000 },
    );
  });

  it('decoding mutated valid messages throws nothing but CodecError', () => {
    fc.assert(
      fc.property(
        anyValidMessage,
        fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), {
          minLength: 1,
          maxLength: 4,
        }),
        (message, edits) => {
          const blob = codec.encode(message).slice();
          const body = codec.encodeBody(message);
          const copy = body.body.slice();
          for (const [at, value] of edits) {
            blob[at % blob.length] = value;
            copy[at % copy.length] = value;
          }
          onlyCodecErrors(() => codec.decode(blob));
          onlyCodecErrors(() => codec.decodeBody(message.type, copy, body.addresses, body.flags));
        },
      ),
      { numRuns: 1000 },
    );
  });
});
