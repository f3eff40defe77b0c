/**
 * Byte-level helpers: a growable output buffer written in place and a bounds-checked
 * reader. Varints are unsigned LEB128 limited to u32 (at most 5 bytes).
 */
import { WireError } from './errors.js';

export const MAX_VARINT_BYTES = 5;
export const MAX_U32 = 0xffff_ffff;
/** A ByteWriter that must grow grows to at least this many bytes (also from 0). */
const MIN_GROWTH_BYTES = 64;

/** Bytes an unsigned LEB128 varint of `value` (u32) takes. */
export function varintSize(value: number): number {
  if (value < 0x80) return 1;
  if (value < 0x4000) return 2;
  if (value < 0x20_0000) return 3;
  if (value < 0x1000_0000) return 4;
  return 5;
}

/**
 * A growable byte buffer reused across batches: `reset()` keeps the allocation. All writes
 * go in place; nothing is allocated per frame unless the buffer must grow.
 */
export class ByteWriter {
  buf: Uint8Array;
  pos = 0;

  constructor(initialCapacity = 16 * 1024) {
    this.buf = new Uint8Array(initialCapacity);
  }

  reset(): void {
    this.pos = 0;
  }

  /** Bytes allocated (what this writer really holds). */
  get capacity(): number {
    return this.buf.length;
  }

  /** Make room for `n` more bytes. */
  ensure(n: number): void {
    const need = this.pos + n;
    if (need <= this.buf.length) return;
    let cap = Math.max(this.buf.length * 2, MIN_GROWTH_BYTES);
    while (cap < need) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  /**
   * Give memory back: reallocate to `capacity` bytes (or the bytes written, if more) when
   * the buffer is larger. Contents are kept.
   */
  shrink(capacity: number): void {
    const cap = Math.max(capacity, this.pos);
    if (cap >= this.buf.length) return;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
  }

  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }

  u16(v: number): void {
    this.ensure(2);
    const b = this.buf;
    b[this.pos] = v >>> 8;
    b[this.pos + 1] = v;
    this.pos += 2;
  }

  u32(v: number): void {
    this.ensure(4);
    writeU32(this.buf, this.pos, v);
    this.pos += 4;
  }

  varint(v: number): void {
    this.ensure(MAX_VARINT_BYTES);
    const b = this.buf;
    let p = this.pos;
    while (v >= 0x80) {
      b[p++] = (v & 0x7f) | 0x80;
      v >>>= 7;
    }
    b[p++] = v;
    this.pos = p;
  }

  bytes(src: Uint8Array): void {
    this.ensure(src.length);
    this.buf.set(src, this.pos);
    this.pos += src.length;
  }

  /** A copy of the bytes written so far (safe to hand to a socket). */
  take(): Uint8Array {
    return this.buf.slice(0, this.pos);
  }
}

export function writeU32(b: Uint8Array, p: number, v: number): void {
  b[p] = v >>> 24;
  b[p + 1] = v >>> 16;
  b[p + 2] = v >>> 8;
  b[p + 3] = v;
}

export function readU32(b: Uint8Array, p: number): number {
  return (
    (((b[p] as number) << 24) |
      ((b[p + 1] as number) << 16) |
      ((b[p + 2] as number) << 8) |
      (b[p + 3] as number)) >>>
    0
  );
}

/** A bounds-checked cursor over a frame body. Every overrun is a `HERALD_ERR_WIRE_MALFORMED`. */
export class ByteReader {
  readonly buf: Uint8Array;
  pos: number;
  readonly end: number;

  constructor(buf: Uint8Array, start = 0, end = buf.length) {
    this.buf = buf;
    this.pos = start;
    this.end = end;
  }

  get remaining(): number {
    return this.end - this.pos;
  }

  private need(n: number, what: string): void {
    if (this.end - this.pos < n) {
      throw new WireError('HERALD_ERR_WIRE_MALFORMED', `truncated ${what}`);
    }
  }

  u8(what = 'u8'): number {
    this.need(1, what);
    return this.buf[this.pos++] as number;
  }

  u16(what = 'u16'): number {
    this.need(2, what);
    const b = this.buf;
    const v = ((b[this.pos] as number) << 8) | (b[this.pos + 1] as number);
    this.pos += 2;
    return v;
  }

  u32(what = 'u32'): number {
    this.need(4, what);
    const v = readU32(this.buf, this.pos);
    this.pos += 4;
    return v;
  }

  varint(what = 'varint'): number {
    const b = this.buf;
    let result = 0;
    let shift = 0;
    for (let i = 0; i < MAX_VARINT_BYTES; i++) {
      if (this.pos >= this.end) {
        throw new WireError('HERALD_ERR_WIRE_MALFORMED', `truncated ${what}`);
      }
      const byte = b[this.pos++] as number;
      if (i === 4 && byte > 0x0f) {
        throw new WireError('HERALD_ERR_WIRE_MALFORMED', `${what} exceeds u32`);
      }
      result += (byte & 0x7f) * 2 ** shift;
      if (byte < 0x80) return result;
      shift += 7;
    }
    throw new WireError('HERALD_ERR_WIRE_MALFORMED', `${what} longer than 5 bytes`);
  }

  /** A view (no copy) of the next `n` bytes. */
  view(n: number, what = 'bytes'): Uint8Array {
    this.need(n, what);
    const v = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return v;
  }

  rest(): Uint8Array {
    const v = this.buf.subarray(this.pos, this.end);
    this.pos = this.end;
    return v;
  }
}

const utf8Decoder = new TextDecoder('utf-8', { fatal: true });
export const utf8Encoder = new TextEncoder();

/** Decode UTF-8 strictly; invalid sequences are `HERALD_ERR_WIRE_MALFORMED`. */
export function decodeUtf8(bytes: Uint8Array, what: string): string {
  try {
    return utf8Decoder.decode(bytes);
  } catch (cause) {
    throw new WireError('HERALD_ERR_WIRE_MALFORMED', `${what} is not valid UTF-8`, { cause });
  }
}

/** Joins byte arrays into one new array (one allocation, one copy of each part). */
export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}
