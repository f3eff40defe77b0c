/**
 * Codec errors. Every error carries a stable `code` (catalogued in docs/errors.md); the
 * decoder never throws anything else for bad input.
 */
export type CodecErrorCode =
  | 'HERALD_ERR_BAD_TYPE_NAME'
  | 'HERALD_ERR_DUPLICATE_TYPE'
  | 'HERALD_ERR_UNKNOWN_TYPE'
  | 'HERALD_ERR_SCHEMA'
  | 'HERALD_ERR_MALFORMED'
  | 'HERALD_ERR_TOO_LARGE'
  | 'HERALD_ERR_ENCODE'
  | 'HERALD_ERR_UNKNOWN_STRUCTURE'
  | 'HERALD_ERR_STREAM_STATE';

export class CodecError extends Error {
  override readonly name = 'CodecError';
  readonly code: CodecErrorCode;
  /** For schema errors: the path of the offending field, e.g. `Hello.items[3].name`. */
  readonly path: string | undefined;

  constructor(
    code: CodecErrorCode,
    message: string,
    options: { cause?: unknown; path?: string } = {},
  ) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.path = options.path;
  }
}

export function isCodecError(value: unknown): value is CodecError {
  return value instanceof CodecError;
}
