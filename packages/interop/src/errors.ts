/**
 * Errors of @herald/interop. Only programmer errors are thrown (a bad option, an envelope
 * that cannot be built); what a peer does (a bad version, a duplicate identity, a frame
 * over the limit, a malformed AsyncAProto packet) becomes a typed message with one of the
 * `HERALD_ERR_AIOMSG_*` / `HERALD_ERR_ASYNCAPROTO_*` codes below, never an exception.
 *
 * InteropError extends `HeraldError` (from @herald/codec) with a `Symbol.for` brand, so
 * `instanceof` holds across two copies of this package.
 */
import { HeraldError } from '@herald/codec';

export type InteropErrorCode = 'HERALD_ERR_BAD_OPTION' | 'HERALD_ERR_AIOMSG_BAD_ENVELOPE';

/** Codes carried by the typed messages of an aiomsg socket (closed connections, give-ups). */
export type AiomsgReasonCode =
  /** The peer's HELLO carried a version other than 1. */
  | 'HERALD_ERR_AIOMSG_BAD_VERSION'
  /** A peer with this identity is already connected (or it is our own identity). */
  | 'HERALD_ERR_AIOMSG_DUPLICATE_IDENTITY'
  /** The first frame was not a well-formed HELLO. */
  | 'HERALD_ERR_AIOMSG_EXPECTED_HELLO'
  /** A frame's length prefix exceeded `maxFrameBytes`. */
  | 'HERALD_ERR_AIOMSG_FRAME_TOO_LARGE'
  /** A DATA_REQ or ACK shorter than its 16-byte message id. */
  | 'HERALD_ERR_AIOMSG_BAD_ENVELOPE'
  /** No whole frame within the heartbeat timeout (or no HELLO within it). */
  | 'HERALD_ERR_AIOMSG_HEARTBEAT_TIMEOUT'
  /** A WebSocket upgrade ('G') on a bind socket: Herald speaks raw aiomsg only. */
  | 'HERALD_ERR_AIOMSG_WEBSOCKET_UNSUPPORTED'
  /** The peer closed, reset or the stream failed. */
  | 'HERALD_ERR_AIOMSG_CONNECTION_LOST'
  /** The socket was closed by its owner. */
  | 'HERALD_ERR_AIOMSG_SOCKET_CLOSED'
  /** An at-least-once message was not acknowledged after `maxRetries` resends. */
  | 'HERALD_ERR_AIOMSG_RETRIES_EXHAUSTED'
  /** The send buffer (no peer, or all peers congested) was full. */
  | 'HERALD_ERR_AIOMSG_BUFFER_FULL'
  /** An identity send to an identity that is not connected (at-most-once). */
  | 'HERALD_ERR_AIOMSG_NO_SUCH_PEER'
  /** A send in `sendMode: 'identity'` without an identity, or a bad identity. */
  | 'HERALD_ERR_AIOMSG_BAD_SEND'
  /** The socket could not listen (the transport's errno is in the reason). */
  | 'HERALD_ERR_AIOMSG_LISTEN_FAILED';

/** Base class of the errors thrown by @herald/interop. */
export class InteropError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.InteropError');

  override readonly name: string = 'InteropError';
  declare readonly code: InteropErrorCode;

  constructor(code: InteropErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
