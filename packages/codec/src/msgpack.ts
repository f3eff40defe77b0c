/** msgpackr options and error mapping shared by the codec and the stream halves. */
import { CodecError } from './errors.js';
import type { AnyMessage } from './schema.js';

/** Shared msgpackr options: arbitrary bigints, Sets, typed arrays, copies of bytes. */
export const PACK_OPTIONS = { useBigIntExtension: true, moreTypes: true } as const;

/** Maps anything msgpackr (or a stack overflow) throws while decoding to a CodecError. */
export function toDecodeError(error: unknown): CodecError {
  if (error instanceof CodecError) return error;
  if (error instanceof RangeError && /call stack/i.test(error.message)) {
    return new CodecError('HERALD_ERR_MALFORMED', 'input is nested too deeply', { cause: error });
  }
  const detail = error instanceof Error ? error.message : String(error);
  return new CodecError(
    'HERALD_ERR_MALFORMED',
    `malformed msgpack input: ${detail.slice(0, 200)}`,
    {
      cause: error,
    },
  );
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
