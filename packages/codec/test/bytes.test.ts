/**
 * `t.bytes()` on the wire (docs/codec.md, "Bytes"): written as msgpack `bin`, read back as
 * plain Uint8Arrays with one copy each (small ones into a shared slab), whatever the input
 * buffer's class; the older typed-array extension is still read.
 */
import { Packr } from 'msgpackr';
import { describe, expect, it } from 'vitest';
import { createCatalogue, createCodec, defineMessage, t } from '../src/index.js';
import { codeOf } from './fixtures.js';

const Blob = defineMessage('test.Blob', { data: t.bytes(), more: t.optional(t.bytes()) });
const Anything = defineMessage('test.Anything', { v: t.unknown() });
const catalogue = createCatalogue([Blob, Anything]);
const codec = createCodec({ catalogue });

function bytesOf(n: number, fill: number): Uint8Array {
  return new Uint8Array(n).fill(fill);
}

describe('bytes fields', () => {
  it('are written as msgpack bin (2 bytes of header up to 255 bytes)', () => {
    const data = bytesOf(81, 7);
    const { body } = codec.encodeBody(Blob({ data }));
    const at = Buffer.from(body).indexOf(Buffer.from([0xc4, 81]));
    expect(at).toBeGreaterThan(0);
    expect(Array.from(body.subarray(at + 2, at + 2 + 81))).toEqual(Array.from(data));
    expect(body.length).toBe(at + 2 + 81);
    for (const n of [0, 255, 256, 70_000]) {
      const back = codec.decodeBody(
        Blob.type,
        codec.encodeBody(Blob({ data: bytesOf(n, 1) })).body,
      );
      const data = (back as ReturnType<typeof Blob>).data;
      expect(Buffer.compare(data, bytesOf(n, 1))).toBe(0);
    }
  });

  it('come back as plain Uint8Arrays, also from a Node Buffer, in every mode', () => {
    const message = Blob({ data: bytesOf(100, 3), more: bytesOf(5, 4) });
    const stream = codec.createStream();
    const s = stream.encoder.encodeBody(message);
    const decoded = [
      codec.decode(Buffer.from(codec.encode(message))),
      codec.decodeBody(Blob.type, Buffer.from(codec.encodeBody(message).body)),
      (() => {
        const peer = codec.createStream();
        if (s.structureUpdate !== undefined) peer.decoder.applyStructures(s.structureUpdate);
        return peer.decoder.decodeBody(Blob.type, Buffer.from(s.body), [], s.flags);
      })(),
    ] as ReturnType<typeof Blob>[];
    for (const m of decoded) {
      expect(m.data.constructor).toBe(Uint8Array);
      expect(m.data).toEqual(bytesOf(100, 3));
      expect(m.more?.constructor).toBe(Uint8Array);
    }
  });

  it('are copies: neither the input nor another decoded field shares their bytes', () => {
    const input = Buffer.from(codec.encodeBody(Blob({ data: bytesOf(50, 9) })).body);
    const first = codec.decodeBody(Blob.type, input) as ReturnType<typeof Blob>;
    const second = codec.decodeBody(Blob.type, input) as ReturnType<typeof Blob>;
    input.fill(0);
    expect(first.data).toEqual(bytesOf(50, 9));
    first.data.fill(1);
    expect(second.data).toEqual(bytesOf(50, 9));
  });

  it('get a backing store of their own above 1 KiB', () => {
    const big = codec.decodeBody(
      Blob.type,
      codec.encodeBody(Blob({ data: bytesOf(1025, 2) })).body,
    ) as ReturnType<typeof Blob>;
    expect(big.data.byteOffset).toBe(0);
    expect(big.data.buffer.byteLength).toBe(1025);
  });

  it('still read the typed-array extension older encoders wrote', () => {
    const legacy = new Packr({ useRecords: false, moreTypes: true }).pack({
      type: Blob.type,
      data: bytesOf(20, 6),
    });
    const m = codec.decodeBody(Blob.type, legacy) as ReturnType<typeof Blob>;
    expect(m.data).toEqual(bytesOf(20, 6));
  });

  it('keep other typed arrays as typed arrays inside unknown values', () => {
    const v = new Int16Array([1, -2, 3]);
    const m = codec.decodeBody(Anything.type, codec.encodeBody(Anything({ v })).body) as ReturnType<
      typeof Anything
    >;
    expect(m.v).toEqual(v);
  });

  it('refuse the extension type the bytes writer reserves', () => {
    // fixext1 of type 0x55 inside a map: { type: 'test.Blob', data: <ext 0x55> }
    const head = new Packr({ useRecords: false }).pack({ type: Blob.type });
    const body = Uint8Array.from([
      0x82,
      ...head.subarray(1),
      0xa4,
      ...Buffer.from('data'),
      0xd4,
      0x55,
      0,
    ]);
    expect(codeOf(() => codec.decodeBody(Blob.type, body))).toBe('HERALD_ERR_MALFORMED');
  });
});
