/** msgpackr options and error mapping shared by the codec and the stream halves. */
import { label } from './describe.js';
import { CodecError } from './errors.js';
import { codecProbe } from './probe.js';
import type { AnyMessage } from './schema.js';

/** Shared msgpackr options: arbitrary bigints, Sets, typed arrays, copies of bytes. */
export const PACK_OPTIONS = { useBigIntExtension: true, moreTypes: true } as const;

/**
 * Small byte arrays copied out of decoded bodies share slabs of POOL_SLAB_BYTES, as Node's
 * own `Buffer` pool does: a Uint8Array of more than 64 bytes with a backing store of its
 * own costs V8 ~0.8 µs to allocate and later to collect (measured: slicing 81 bytes takes
 * ~900 ns, a view into a slab plus the copy ~130-250 ns), which made the `t.bytes()` field
 * the largest single cost of receiving a 100-byte message. A field of more than
 * POOL_MAX_BYTES gets a backing store of its own.
 *
 * Trade-off (docs/codec.md, "Bytes"): a pooled field's `.buffer` is the slab, so it keeps up
 * to POOL_SLAB_BYTES alive and holds the bytes fields of messages decoded just before and
 * after it (never any other bytes: no headers, no bodies, nothing from a socket buffer).
 * Always read a field through its own `byteOffset`/`byteLength` (any Uint8Array API does).
 */
const POOL_SLAB_BYTES = 8 * 1024;
const POOL_MAX_BYTES = 1024;
let slab = new ArrayBuffer(POOL_SLAB_BYTES);
let slabUsed = 0;

function allocateBytes(length: number): Uint8Array {
  if (length > POOL_MAX_BYTES) return new Uint8Array(length);
  if (slabUsed + length > POOL_SLAB_BYTES) {
    slab = new ArrayBuffer(POOL_SLAB_BYTES);
    slabUsed = 0;
  }
  const out = new Uint8Array(slab, slabUsed, length);
  slabUsed += length;
  return out;
}

/**
 * The species of a decoder's source: msgpackr copies every `bin` with
 * `Uint8Array.prototype.slice.call(source, ...)`, which builds the copy through the
 * source's species, so the copy lands in the pool (`new Species(length)`); views msgpackr
 * cuts with `subarray` (`new Species(buffer, offset, length)`) stay plain views.
 */
function PooledSpecies(
  bufferOrLength: number | ArrayBufferLike,
  byteOffset?: number,
  length?: number,
): Uint8Array {
  return typeof bufferOrLength === 'number'
    ? allocateBytes(bufferOrLength)
    : new Uint8Array(bufferOrLength, byteOffset, length);
}

class DecoderSource extends Uint8Array {
  static get [Symbol.species](): Uint8ArrayConstructor {
    return PooledSpecies as unknown as Uint8ArrayConstructor;
  }
}

/**
 * `bytes` as the source of one msgpackr decode: a view of the same memory whose copies of
 * `bin` fields are plain Uint8Arrays from the pool (see above), whatever `bytes` was (a
 * Node Buffer would otherwise give Buffers through its slower subclass constructor).
 */
export function decoderSource(bytes: Uint8Array): Uint8Array {
  return new DecoderSource(bytes.buffer as ArrayBuffer, bytes.byteOffset, bytes.byteLength);
}

/** Longest excerpt of a msgpackr error message kept in a CodecError message. */
const MAX_DETAIL_CHARS = 200;

/** Maps anything msgpackr (or a stack overflow) throws while decoding to a CodecError. */
export function toDecodeError(error: unknown): CodecError {
  if (error instanceof CodecError) return error;
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new CodecError('HERALD_ERR_MALFORMED', 'input is nested too deeply', { cause: error });
  }
  const message: unknown = error instanceof Error ? error.message : undefined;
  const detail = typeof message === 'string' ? message.slice(0, MAX_DETAIL_CHARS) : label(error);
  return new CodecError('HERALD_ERR_MALFORMED', `malformed msgpack input: ${detail}`, {
    cause: error,
  });
}

/**
 * The last guard of every decode entry point: a CodecError passes through; anything else
 * escaped the mapping above and is a codec defect, counted (see probe.ts) and still reported
 * as `HERALD_ERR_MALFORMED`, so no input can make a decoder throw anything but CodecError.
 */
export function decodeFailure(error: unknown): CodecError {
  if (error instanceof CodecError) return error;
  codecProbe.defects++;
  return toDecodeError(error);
}

/** Maps anything msgpackr throws while encoding to a CodecError. */
export function toEncodeError(error: unknown, message: AnyMessage): CodecError {
  if (error instanceof CodecError) return error;
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new CodecError(
      'HERALD_ERR_ENCODE',
      `cannot encode ${message.type}: cyclic or too deeply nested (declare the type with graph: true for cycles)`,
      { cause: error },
    );
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new CodecError('HERALD_ERR_ENCODE', `cannot encode ${message.type}: ${detail}`, {
    cause: error,
  });
}
