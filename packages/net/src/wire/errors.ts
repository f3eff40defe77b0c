/**
 * Wire errors. Every failure of the wire layer is a `WireError` with a stable `code`
 * (catalogued in docs/wire-protocol.md) and the CLOSE reason a connection sends for it.
 * Errors caused by peer bytes are returned as values (decoder events, handshake results);
 * only misuse by the local caller is thrown. WireError extends `HeraldError`, with a
 * `Symbol.for` brand so `instanceof` holds across copies of the package.
 */
import { HeraldError } from '@herald/codec';
import { CloseReason, type CloseReasonCode } from './close-reasons.js';

export const WIRE_ERROR_CLOSE_REASON = {
  HERALD_ERR_WIRE_BAD_MAGIC: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_VERSION_UNSUPPORTED: CloseReason.VERSION_UNSUPPORTED,
  HERALD_ERR_WIRE_FRAME_TOO_LARGE: CloseReason.FRAME_TOO_LARGE,
  HERALD_ERR_WIRE_EMPTY_FRAME: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_UNKNOWN_KIND: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_MALFORMED: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_EXPECTED_HELLO: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_DUPLICATE_HELLO: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_BAD_HELLO: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_BAD_PUBLIC_KEY: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_UNEXPECTED_CLEARTEXT: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_UNEXPECTED_SEALED: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_ENCRYPTION_REQUIRED: CloseReason.ENCRYPTION_REQUIRED,
  HERALD_ERR_WIRE_ENCRYPTION_REFUSED: CloseReason.ENCRYPTION_REFUSED,
  HERALD_ERR_WIRE_DECRYPT_FAILED: CloseReason.DECRYPT_FAILED,
  HERALD_ERR_WIRE_COUNTER_EXHAUSTED: CloseReason.COUNTER_EXHAUSTED,
  HERALD_ERR_WIRE_MESSAGE_TOO_LARGE: CloseReason.MESSAGE_TOO_LARGE,
  HERALD_ERR_WIRE_TOO_MANY_PARTIALS: CloseReason.TOO_MANY_PARTIAL_MESSAGES,
  HERALD_ERR_WIRE_UNKNOWN_CHUNK: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_DUPLICATE_CHUNK_ID: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_TYPE_TABLE_FULL: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_UNKNOWN_TYPE_ID: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_HEADER_LIMIT: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_TRUNCATED: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_STALLED: CloseReason.STALLED,
  HERALD_ERR_WIRE_BAD_HANDSHAKE: CloseReason.PROTOCOL_ERROR,
  HERALD_ERR_WIRE_PEER_KEY_MISMATCH: CloseReason.PEER_KEY_MISMATCH,
  HERALD_ERR_WIRE_NOT_AUTHORIZED: CloseReason.NOT_AUTHORIZED,
  HERALD_ERR_WIRE_AUTHENTICATION_FAILED: CloseReason.AUTHENTICATION_FAILED,
  HERALD_ERR_WIRE_KEY_FILE_EXPOSED: CloseReason.INTERNAL_ERROR,
  HERALD_ERR_WIRE_KEY_FILE_INVALID: CloseReason.INTERNAL_ERROR,
  HERALD_ERR_WIRE_CLOSED: CloseReason.INTERNAL_ERROR,
  HERALD_ERR_WIRE_INVALID_ARGUMENT: CloseReason.INTERNAL_ERROR,
} as const satisfies Record<string, CloseReasonCode>;

export type WireErrorCode = keyof typeof WIRE_ERROR_CLOSE_REASON;

export class WireError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.WireError');

  override readonly name: string = 'WireError';
  declare readonly code: WireErrorCode;
  /** The CLOSE reason a connection sends to its peer because of this error. */
  readonly closeReason: CloseReasonCode;

  constructor(code: WireErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
    this.closeReason = WIRE_ERROR_CLOSE_REASON[code];
  }
}

export function isWireError(value: unknown): value is WireError {
  return value instanceof WireError;
}
