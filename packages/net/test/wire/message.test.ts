import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters, propertySeeds } from '@herald/testing';
import {
  ByteReader,
  FrameKind,
  MAX_BODY_MODE,
  MAX_HOPS,
  MAX_SPACE_ENTRIES,
  MAX_TYPE_NAME_BYTES,
  MESSAGE_FLAG_TRACE,
  TRACE_CONTEXT_BYTES,
  TypeTableDecoder,
  TypeTableEncoder,
  WireError,
  type WireMessage,
  decodeMessage,
  encodeMessage,
  isTraceparent,
} from '../../src/wire/index.js';
import { errorCode, frame, msg, openDecoder } from './helpers.js';

const hop = fc.integer({ min: 0, max: 0xffff_ffff });
const stack = fc.array(hop, { maxLength: MAX_HOPS });
const hex = (n: number): fc.Arbitrary<string> =>
  fc
    .uint8Array({ minLength: n / 2, maxLength: n / 2 })
    .map((b) => Buffer.from(b).toString('hex'))
    .filter((h) => !/^0+$/.test(h));
/** A valid W3C traceparent (any version but ff, non-zero ids). */
const traceparent: fc.Arbitrary<string> = fc
  .tuple(fc.integer({ min: 0, max: 0xfe }), hex(32), hex(16), fc.integer({ min: 0, max: 255 }))
  .map(
    ([v, trace, span, flags]) =>
      `${v.toString(16).padStart(2, '0')}-${trace}-${span}-${flags.toString(16).padStart(2, '0')}`,
  );
const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

const wireMessage: fc.Arbitrary<WireMessage> = fc.record({
  bodyMode: fc.integer({ min: 0, max: MAX_BODY_MODE }),
  to: stack,
  ret: stack,
  typeName: fc.string({ minLength: 1, maxLength: 40 }),
  correlation: hop,
  trace: fc.option(traceparent, { nil: undefined }),
  space: fc.array(stack, { maxLength: 8 }),
  body: fc.uint8Array({ maxLength: 100 }),
});

function expectCode(fn: () => unknown, code: string): void {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(WireError);
    expect((err as WireError).code).toBe(code);
    return;
  }
  throw new Error(`expected ${code}`);
}

describe('MESSAGE header', () => {
  it('round-trips any sequence of messages through one direction table (property)', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.array(wireMessage, { minLength: 1, maxLength: 10 }), (msgs) => {
          const enc = new TypeTableEncoder();
          const dec = new TypeTableDecoder();
          for (const m of msgs) {
            const back = decodeMessage(encodeMessage(m, enc), dec);
            expect({ ...back, body: Array.from(back.body) }).toEqual({
              ...m,
              body: Array.from(m.body),
            });
          }
          expect(dec.size).toBe(enc.size);
        }),
        propertyParameters(seed, 100),
      );
    }
  });

  it('carries the correlation after the type, verbatim, through the largest u32', () => {
    const enc = new TypeTableEncoder();
    const dec = new TypeTableDecoder();
    for (const correlation of [0, 1, 2, 127, 128, 0xffff_ffff]) {
      const back = decodeMessage(encodeMessage(msg({ correlation }), enc), dec);
      expect(back.correlation).toBe(correlation);
    }
    expectCode(
      () => encodeMessage(msg({ correlation: 2 ** 32 }), enc),
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
    );
  });

  it('carries a trace context as 26 bytes after the correlation, flagged in the mode byte', () => {
    const enc = new TypeTableEncoder();
    const dec = new TypeTableDecoder();
    encodeMessage(msg(), enc);
    const plainBytes = encodeMessage(msg({ bodyMode: 1, body: new Uint8Array(0) }), enc);
    const traced = encodeMessage(msg({ bodyMode: 1, trace: TRACE, body: new Uint8Array(0) }), enc);
    // Absent costs nothing: the same bytes as before the field existed.
    expect(Array.from(plainBytes)).toEqual([1, 1, 1, 1, 2, 0, 0, 0]);
    expect(traced.length).toBe(plainBytes.length + TRACE_CONTEXT_BYTES);
    expect(traced[0]).toBe(1 | MESSAGE_FLAG_TRACE);
    expect(Buffer.from(traced.subarray(7, 7 + TRACE_CONTEXT_BYTES)).toString('hex')).toBe(
      TRACE.replaceAll('-', ''),
    );
    decodeMessage(encodeMessage(msg(), new TypeTableEncoder()), dec);
    const back = decodeMessage(traced, dec);
    expect(back.trace).toBe(TRACE);
    expect(back.bodyMode).toBe(1);
    expect(decodeMessage(plainBytes, dec).trace).toBeUndefined();
  });

  it('round-trips any valid traceparent (property)', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(traceparent, (trace) => {
          expect(isTraceparent(trace)).toBe(true);
          const back = decodeMessage(
            encodeMessage(msg({ trace }), new TypeTableEncoder()),
            new TypeTableDecoder(),
          );
          expect(back.trace).toBe(trace);
        }),
        propertyParameters(seed, 200),
      );
    }
  });

  it('refuses to send a trace that is not a W3C traceparent', () => {
    const bad = [
      '',
      TRACE.toUpperCase(),
      TRACE.slice(0, -1),
      `${TRACE}0`,
      TRACE.replace('-', '_'),
      `ff${TRACE.slice(2)}`,
      `00-${'0'.repeat(32)}-00f067aa0ba902b7-01`,
      `00-4bf92f3577b34da6a3ce929d0e0e4736-${'0'.repeat(16)}-01`,
      TRACE.replace('4bf9', '4bg9'),
    ];
    for (const trace of bad) {
      expect(isTraceparent(trace)).toBe(false);
      expectCode(
        () => encodeMessage(msg({ trace }), new TypeTableEncoder()),
        'HERALD_ERR_WIRE_INVALID_ARGUMENT',
      );
    }
  });

  it('rejects a malformed, truncated or unknown-flagged trace context on receipt', () => {
    const good = encodeMessage(
      msg({ trace: TRACE, body: new Uint8Array(0) }),
      new TypeTableEncoder(),
    );
    // mode, to [1], ret [2], type def (1, len, name), correlation: the trace starts here.
    const at = 1 + 2 + 2 + 2 + 'test.Hello'.length + 1;
    const patched = (f: (b: Uint8Array) => void): Uint8Array => {
      const b = Uint8Array.from(good);
      f(b);
      return b;
    };
    const cases = [
      patched((b) => (b[at] = 0xff)),
      patched((b) => b.fill(0, at + 1, at + 17)),
      patched((b) => b.fill(0, at + 17, at + 25)),
      good.subarray(0, at + TRACE_CONTEXT_BYTES - 1),
      patched((b) => (b[0] = 0x40)),
    ];
    for (const bytes of cases) {
      expectCode(() => decodeMessage(bytes, new TypeTableDecoder()), 'HERALD_ERR_WIRE_MALFORMED');
    }
    expect(decodeMessage(good, new TypeTableDecoder()).trace).toBe(TRACE);
  });

  it('sends a type name once, then a 1-byte reference', () => {
    const enc = new TypeTableEncoder();
    const first = encodeMessage(msg({ body: new Uint8Array(0) }), enc);
    const second = encodeMessage(msg({ body: new Uint8Array(0) }), enc);
    expect(second.length).toBe(first.length - 1 - 'test.Hello'.length);
    // bodyMode, to [1], ret [2], type ref 0 (even: id 0), correlation 0, space count 0
    expect(Array.from(second)).toEqual([0, 1, 1, 1, 2, 0, 0, 0]);
  });

  it('uses compact varints: a hop of 300 takes 2 bytes', () => {
    const enc = new TypeTableEncoder();
    encodeMessage(msg(), enc);
    const bytes = encodeMessage(msg({ to: [300], body: new Uint8Array(0) }), enc);
    expect(Array.from(bytes.subarray(0, 4))).toEqual([0, 1, 0xac, 0x02]);
  });

  it('rejects a reference to an undefined type id', () => {
    const r = new ByteReader(Uint8Array.of(0, 0, 0, 4, 0));
    expectCode(
      () => new TypeTableDecoder().read(new ByteReader(Uint8Array.of(4))),
      'HERALD_ERR_WIRE_UNKNOWN_TYPE_ID',
    );
    expectCode(
      () => decodeMessage(r.buf, new TypeTableDecoder()),
      'HERALD_ERR_WIRE_UNKNOWN_TYPE_ID',
    );
  });

  it('rejects a definition that skips ids', () => {
    // type ref 3 = define id 1, but the table is empty
    const bytes = Uint8Array.of(0, 0, 0, 3, 1, 0x41, 0);
    expectCode(() => decodeMessage(bytes, new TypeTableDecoder()), 'HERALD_ERR_WIRE_MALFORMED');
  });

  it('bounds the type table on both sides', () => {
    const enc = new TypeTableEncoder(3);
    for (const n of ['a', 'b', 'c']) encodeMessage(msg({ typeName: n }), enc);
    expectCode(() => encodeMessage(msg({ typeName: 'd' }), enc), 'HERALD_ERR_WIRE_TYPE_TABLE_FULL');
    encodeMessage(msg({ typeName: 'a' }), enc);

    const big = new TypeTableEncoder(10);
    const dec = new TypeTableDecoder(3);
    for (const n of ['a', 'b', 'c']) decodeMessage(encodeMessage(msg({ typeName: n }), big), dec);
    const fourth = encodeMessage(msg({ typeName: 'd' }), big);
    expectCode(() => decodeMessage(fourth, dec), 'HERALD_ERR_WIRE_TYPE_TABLE_FULL');
  });

  it('closes a connection whose peer defines more type names than allowed', () => {
    const d = openDecoder({ maxTypeNames: 2 });
    const enc = new TypeTableEncoder();
    const events = ['a', 'b', 'c'].flatMap((n) =>
      d.push(frame(FrameKind.MESSAGE, encodeMessage(msg({ typeName: n }), enc))),
    );
    expect(events.map((e) => e.type)).toEqual(['message', 'message', 'error']);
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_TYPE_TABLE_FULL');
  });

  it('rejects type names that are empty, too long or not UTF-8', () => {
    const enc = new TypeTableEncoder();
    expectCode(() => encodeMessage(msg({ typeName: '' }), enc), 'HERALD_ERR_WIRE_INVALID_ARGUMENT');
    expectCode(
      () => encodeMessage(msg({ typeName: 'x'.repeat(MAX_TYPE_NAME_BYTES + 1) }), enc),
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
    );
    encodeMessage(msg({ typeName: 'x'.repeat(MAX_TYPE_NAME_BYTES) }), enc);
    const tooLong = Uint8Array.of(0, 0, 0, 1, 129, 1);
    expectCode(
      () => decodeMessage(tooLong, new TypeTableDecoder()),
      'HERALD_ERR_WIRE_HEADER_LIMIT',
    );
    const badUtf8 = Uint8Array.of(0, 0, 0, 1, 1, 0xff, 0);
    expectCode(() => decodeMessage(badUtf8, new TypeTableDecoder()), 'HERALD_ERR_WIRE_MALFORMED');
  });

  it('enforces hop stack and space limits on both sides', () => {
    const enc = new TypeTableEncoder();
    const long = new Array<number>(MAX_HOPS + 1).fill(1);
    expectCode(() => encodeMessage(msg({ to: long }), enc), 'HERALD_ERR_WIRE_INVALID_ARGUMENT');
    expectCode(() => encodeMessage(msg({ ret: [-1] }), enc), 'HERALD_ERR_WIRE_INVALID_ARGUMENT');
    expectCode(
      () => encodeMessage(msg({ to: [2 ** 32] }), enc),
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
    );
    for (const bodyMode of [MAX_BODY_MODE + 1, MESSAGE_FLAG_TRACE, 256]) {
      expectCode(() => encodeMessage(msg({ bodyMode }), enc), 'HERALD_ERR_WIRE_INVALID_ARGUMENT');
    }
    expectCode(
      () => encodeMessage(msg({ space: new Array<number[]>(MAX_SPACE_ENTRIES + 1).fill([]) }), enc),
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
    );
    expectCode(
      () =>
        encodeMessage(
          msg({ space: new Array<number[]>(300).fill(new Array(32).fill(2 ** 31)) }),
          enc,
        ),
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
    );
    expectCode(
      () => decodeMessage(Uint8Array.of(0, MAX_HOPS + 1), new TypeTableDecoder()),
      'HERALD_ERR_WIRE_HEADER_LIMIT',
    );
    expectCode(
      () =>
        decodeMessage(Uint8Array.of(0, 0, 0, 1, 1, 0x41, 0, 0x81, 0x08), new TypeTableDecoder()),
      'HERALD_ERR_WIRE_HEADER_LIMIT',
    );
  });

  it('rejects varints longer than 5 bytes or above u32', () => {
    expectCode(
      () => new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x1f)).varint(),
      'HERALD_ERR_WIRE_MALFORMED',
    );
    expect(new ByteReader(Uint8Array.of(0xff, 0xff, 0xff, 0xff, 0x0f)).varint()).toBe(0xffff_ffff);
    expectCode(
      () => new ByteReader(Uint8Array.of(0x80, 0x80, 0x80, 0x80, 0x80, 0)).varint(),
      'HERALD_ERR_WIRE_MALFORMED',
    );
  });

  it('never throws anything but WireError on random header bytes (property)', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
          try {
            decodeMessage(bytes, new TypeTableDecoder());
          } catch (err) {
            expect(err).toBeInstanceOf(WireError);
          }
        }),
        propertyParameters(seed, 2000),
      );
    }
  });
});
