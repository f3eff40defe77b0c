/** msgpackr options and error mapping shared by the codec and the stream halves. */
import { label } from './describe.js';
import { CodecError } from './errors.js';
import { codecProbe } from './probe.js';
import type { AnyMessage } from './schema.js';

/** Shared msgpackr options: arbitrary bigints, Sets, typed arrays, copies of bytes. */
export const PACK_OPTIONS = { useBigIntExtension: true, moreTypes: true } as const;

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
