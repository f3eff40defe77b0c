/**
 * `StreamEncoder.encodeBodyInto` / `release` (the sender's batch buffer, lent to msgpackr):
 * run in lockstep with a second stream encoder that only uses `encodeBody`, the placed bytes
 * and every fallback must be exactly what `encodeBody` gives, and the encoder must never
 * write where it was not asked to. Seeds follow the project policy (`@herald/testing`).
 */
import { propertyParameters, propertySeeds } from '@herald/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  Address,
  CodecError,
  createCatalogue,
  createCodec,
  defineMessage,
  t,
  type AnyMessage,
  type Codec,
  type StreamEncodedBody,
  type StreamEncoder,
} from '../src/index.js';
import { ALL, Hello, Item, Node } from './fixtures.js';

/** A body whose size is drawn: it fits the room left in a target, or it does not. */
const Blob = defineMessage('Blob', { data: t.bytes(), note: t.string() });
/** Records: every new key set is a new shape (a structure update, so the copy path). */
const Dict = defineMessage('Dict', { entries: t.record(t.int()) });
/** Addresses in a body: the copy path. */
const Mail = defineMessage('Mail', { to: t.address(), text: t.string() });
const catalogue = createCatalogue([...ALL, Blob, Dict, Mail]);

/** msgpackr needs this much after `start` or `encodeBodyInto` falls back (PLACE_MIN_ROOM_BYTES). */
const PLACE_MIN_ROOM = 2048 + 16;
/** Largest target drawn: room for small bodies placed and large ones that outgrow it. */
const MAX_TARGET_BYTES = 12_000;
/** The byte a target is filled with before a call, to see what was written. */
const SENTINEL = 0xa5;

const message: fc.Arbitrary<AnyMessage> = fc.oneof(
  fc
    .record({ name: fc.string({ maxLength: 64 }), seq: fc.integer(), at: fc.integer() })
    .map(({ name, seq, at }) => Hello({ name, seq, at: new Date(at) })),
  fc
    .record(
      { sku: fc.string({ maxLength: 40 }), qty: fc.integer(), price: fc.double({ noNaN: true }) },
      { requiredKeys: ['sku', 'qty'] },
    )
    .map((fields) => Item(fields)),
  fc
    .record({ size: fc.nat(16_000), fill: fc.nat(255), note: fc.string({ maxLength: 3000 }) })
    .map(({ size, fill, note }) => Blob({ data: new Uint8Array(size).fill(fill), note })),
  fc
    .dictionary(fc.constantFrom('a', 'b', 'c', 'd', 'e'), fc.integer(), { maxKeys: 5 })
    .map((entries) => Dict({ entries })),
  fc
    .record({ hops: fc.array(fc.maxSafeNat(), { minLength: 1, maxLength: 4 }), text: fc.string() })
    .map(({ hops, text }) => Mail({ to: new Address(hops), text })),
);
// Graph types are left out of the property: their fallback is a view of the lent buffer
// (the known defect pinned by `it.fails` below).

interface Step {
  readonly message: AnyMessage;
  /** `into`: encodeBodyInto; `body`: encodeBody; `release`: release() before encodeBodyInto. */
  readonly call: 'into' | 'body' | 'release';
  /** Which of the run's targets (a few are reused, as a writer reuses its batch buffer). */
  readonly target: number;
  /** Where in the target, as a fraction of its length. */
  readonly at: number;
}

const step: fc.Arbitrary<Step> = fc.record({
  message,
  call: fc.constantFrom('into', 'into', 'into', 'body', 'release'),
  target: fc.nat(2),
  at: fc.double({ min: 0, max: 1, noNaN: true }),
});

/** Targets of one run: Buffers (as the net layer lends) and a plain Uint8Array view. */
const targets = fc.tuple(
  fc.integer({ min: 0, max: MAX_TARGET_BYTES }),
  fc.integer({ min: 0, max: MAX_TARGET_BYTES }),
  fc.integer({ min: 0, max: MAX_TARGET_BYTES }),
);

function makeTargets(sizes: readonly number[]): Uint8Array[] {
  return sizes.map((n, i) =>
    i === 2 ? new Uint8Array(new ArrayBuffer(n + 16), 16, n) : Buffer.alloc(n),
  );
}

type Outcome =
  | { readonly kind: 'encoded'; readonly body: StreamEncodedBody }
  | { readonly kind: 'error'; readonly code: string };

/**
 * Runs an encode and copies what it returned: msgpackr's buffer and position are global to
 * the process, so a body returned by one encoder may be a view of a buffer another encoder
 * lent (see 'another encoder ...' below); the expected bytes must not change under the test.
 */
function attempt(run: () => StreamEncodedBody): Outcome {
  try {
    const { body, addresses, flags, structureUpdate } = run();
    return {
      kind: 'encoded',
      body: {
        body: Uint8Array.from(body),
        addresses,
        flags,
        structureUpdate:
          structureUpdate === undefined ? undefined : Uint8Array.from(structureUpdate),
      },
    };
  } catch (error) {
    if (!(error instanceof CodecError)) throw error;
    return { kind: 'error', code: error.code };
  }
}

function expectSameBody(actual: StreamEncodedBody, expected: StreamEncodedBody): void {
  expect(Buffer.from(actual.body).equals(Buffer.from(expected.body))).toBe(true);
  expect(actual.flags).toBe(expected.flags);
  expect(actual.addresses.map((a) => a.hops)).toEqual(expected.addresses.map((a) => a.hops));
  expect(actual.structureUpdate === undefined).toBe(expected.structureUpdate === undefined);
  if (actual.structureUpdate !== undefined && expected.structureUpdate !== undefined) {
    expect(Buffer.from(actual.structureUpdate).equals(Buffer.from(expected.structureUpdate))).toBe(
      true,
    );
  }
}

/**
 * Runs `steps` on `copied` (encodeBody only, every result copied), then on `placed`
 * (encodeBodyInto, encodeBody, release as drawn), checking each step against the first run.
 * The runs are not interleaved: the two encoders share msgpackr's process-wide buffer.
 */
function lockstep(
  placed: StreamEncoder,
  copied: StreamEncoder,
  steps: readonly Step[],
  lent: readonly Uint8Array[],
): void {
  /** Bodies `placed.encodeBody` returned, with a copy of their bytes then: never overwritten. */
  const kept: { readonly view: Uint8Array; readonly bytes: Buffer }[] = [];
  const expectations = steps.map((s) => attempt(() => copied.encodeBody(s.message)));
  for (const [i, s] of steps.entries()) {
    const expected = expectations[i] as Outcome;
    if (s.call === 'body') {
      const before = lent.map((b) => Buffer.from(b));
      let view: Uint8Array | undefined;
      const actual = attempt(() => {
        const encoded = placed.encodeBody(s.message);
        view = encoded.body;
        return encoded;
      });
      expect(actual.kind).toBe(expected.kind);
      if (actual.kind === 'encoded' && expected.kind === 'encoded') {
        expectSameBody(actual.body, expected.body);
        if (view !== undefined) kept.push({ view, bytes: Buffer.from(view) });
      } else expect(actual).toEqual(expected);
      // encodeBody never writes into a buffer once lent to encodeBodyInto.
      lent.forEach((b, i) => expect(Buffer.from(b).equals(before[i] as Buffer)).toBe(true));
      continue;
    }
    if (s.call === 'release') placed.release();
    const target = lent[s.target] as Uint8Array;
    target.fill(SENTINEL);
    const start = Math.min(target.length, Math.floor(s.at * (target.length + 1)));
    let result: number | StreamEncodedBody | undefined;
    let code: string | undefined;
    try {
      result = placed.encodeBodyInto(s.message, target, start);
    } catch (error) {
      if (!(error instanceof CodecError)) throw error;
      code = error.code;
    }
    if (expected.kind === 'error') {
      // Size limits (and every other refusal) throw exactly as encodeBody does.
      expect(code).toBe(expected.code);
      continue;
    }
    expect(code).toBeUndefined();
    // Bytes before `start` are the caller's (earlier frames of the batch): never written.
    expect(target.subarray(0, start).every((b) => b === SENTINEL)).toBe(true);
    if (typeof result === 'number') {
      // Placed: only a stream body without addresses or new shapes, at `start`.
      expect(target.length - start).toBeGreaterThanOrEqual(PLACE_MIN_ROOM);
      expect(result).toBeGreaterThanOrEqual(start);
      expect(result).toBeLessThanOrEqual(target.length);
      expectSameBody(
        {
          body: target.subarray(start, result),
          addresses: [],
          flags: expected.body.flags,
          structureUpdate: undefined,
        },
        expected.body,
      );
    } else {
      // The fallback: bytes of its own, not a view of the target.
      const fallback = result as StreamEncodedBody;
      expect(fallback.body.buffer).not.toBe(target.buffer);
      expectSameBody(fallback, expected.body);
      if (target.length - start < PLACE_MIN_ROOM) {
        // Too little room: the target is not touched at all.
        expect(target.every((b) => b === SENTINEL)).toBe(true);
      }
    }
  }
  // Views encodeBody handed out are not checked here (known defect, pinned below by
  // 'a view encodeBody handed out ...'): `kept` is only checked within a step.
  void kept;
  placed.release();
}

function check(codec: Codec, runs: number): void {
  for (const seed of propertySeeds()) {
    fc.assert(
      fc.property(fc.array(step, { minLength: 1, maxLength: 25 }), targets, (steps, sizes) => {
        lockstep(
          codec.createStream().encoder,
          codec.createStream().encoder,
          steps,
          makeTargets(sizes),
        );
      }),
      propertyParameters(seed, runs),
    );
  }
}

describe('encodeBodyInto', () => {
  it('writes the bytes encodeBody gives at any offset, or falls back to a copy of its own', () => {
    check(createCodec({ catalogue }), 150);
  });

  it('throws on a body over maxMessageBytes exactly as encodeBody does', () => {
    // Small enough that a share of the drawn messages is refused, on both paths.
    check(createCodec({ catalogue, maxMessageBytes: 300 }), 150);
  });

  it('places the common case: a known shape without addresses, with room left', () => {
    const { encoder } = createCodec({ catalogue }).createStream();
    const copied = createCodec({ catalogue }).createStream().encoder;
    const target = Buffer.alloc(8192, SENTINEL);
    const first = Hello({ name: 'Gladys', seq: 1, at: new Date(1) });
    expect(typeof encoder.encodeBodyInto(first, target, 13)).toBe('object');
    copied.encodeBody(first);
    const second = Hello({ name: 'Gladys', seq: 2, at: new Date(2) });
    const end = encoder.encodeBodyInto(second, target, 13);
    expect(end).toBeTypeOf('number');
    expect(target.subarray(13, end as number)).toEqual(Buffer.from(copied.encodeBody(second).body));
  });

  // Known defect of e60a8b1, pinned so that the fix turns these red (then drop `.fails`):
  // msgpackr's buffer and position are global to the process, and encodeBodyInto leaves the
  // lent buffer installed between calls, so every other msgpackr pack until `release()`
  // (a graph or self-contained body, another connection's encoder) writes into it and
  // returns a view of it: the caller's batch buffer, which the writer then writes over.
  it.fails('the graph fallback is bytes of its own, not a view of the lent buffer', () => {
    const { encoder } = createCodec({ catalogue }).createStream();
    const target = Buffer.alloc(8192);
    const hello = (seq: number): AnyMessage => Hello({ name: 'Gladys', seq, at: new Date(seq) });
    encoder.encodeBodyInto(hello(1), target, 16);
    expect(encoder.encodeBodyInto(hello(2), target, 16)).toBeTypeOf('number');
    const graph = encoder.encodeBodyInto(Node({ name: 'n', next: null, children: [] }), target, 64);
    expect(typeof graph).toBe('object');
    expect((graph as StreamEncodedBody).body.buffer).not.toBe(target.buffer);
  });

  it.fails('another encoder writes nothing into a buffer lent by this one', () => {
    const codec = createCodec({ catalogue });
    const one = codec.createStream().encoder;
    const other = codec.createStream().encoder;
    const target = Buffer.alloc(8192);
    const hello = (seq: number): AnyMessage => Hello({ name: 'Gladys', seq, at: new Date(seq) });
    one.encodeBodyInto(hello(1), target, 16);
    expect(one.encodeBodyInto(hello(2), target, 16)).toBeTypeOf('number');
    const snapshot = Buffer.from(target);
    const { body } = other.encodeBody(hello(3));
    const selfContained = codec.encodeBody(hello(4)).body;
    one.release();
    expect(body.buffer).not.toBe(target.buffer);
    expect(selfContained.buffer).not.toBe(target.buffer);
    expect(target.equals(snapshot)).toBe(true);
  });

  it.fails('a view encodeBody handed out is not written over after an outgrown target', () => {
    // Found by the property above: the second body outgrows `target` (msgpackr moves to a
    // buffer of its own), and a later fallback encodeBody writes over the first body.
    const codec = createCodec({ catalogue });
    const first = Blob({ data: new Uint8Array(6123), note: 'abcdef' });
    const second = Blob({ data: new Uint8Array(8134), note: 'abcdefghi' });
    const third = Dict({ entries: { a: 1, e: 2 } });
    const other = codec.createStream().encoder;
    for (const m of [first, second, third]) other.encodeBody(m);
    const { encoder } = codec.createStream();
    const view = encoder.encodeBody(first).body;
    const bytes = Buffer.from(view);
    expect(typeof encoder.encodeBodyInto(second, Buffer.alloc(5226), 0)).toBe('object');
    encoder.release();
    encoder.encodeBodyInto(third, new Uint8Array(8), 0);
    encoder.release();
    expect(Buffer.from(view).equals(bytes)).toBe(true);
  });

  it('after release() writes nothing more into the lent buffer', () => {
    const { encoder } = createCodec({ catalogue }).createStream();
    const target = Buffer.alloc(8192);
    const hello = (seq: number): AnyMessage => Hello({ name: 'Gladys', seq, at: new Date(seq) });
    encoder.encodeBody(hello(0));
    const end = encoder.encodeBodyInto(hello(1), target, 40);
    expect(end).toBeTypeOf('number');
    encoder.release();
    const snapshot = Buffer.from(target);
    for (let i = 2; i < 400; i++) {
      const m = i % 3 === 0 ? Blob({ data: new Uint8Array(i * 7).fill(i), note: 'n' }) : hello(i);
      const { body } = encoder.encodeBody(m);
      expect(body.buffer).not.toBe(target.buffer);
    }
    expect(target.equals(snapshot)).toBe(true);
  });
});
