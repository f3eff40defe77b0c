/**
 * How a relay stream (a byte stream carried over NATS subjects, relay-stream.ts) ended when
 * it did not end cleanly. These are not thrown: the stream is destroyed with one, so its
 * 'error' event and the Herald connection's close reason say why. The bad-option errors of
 * the cluster code are the package's DiscoveryError (src/errors.ts).
 *
 * RelayStreamError extends `HeraldError` and carries a `Symbol.for` brand, so `instanceof`
 * holds across two copies of this package.
 */
import { HeraldError } from '@herald/codec';

/**
 * Why a relay stream was closed:
 * - `malformed`: a NATS message on the stream's subject was not a relay frame, or a frame
 *   the protocol does not allow at that point (data after the peer's end, an ACK for bytes
 *   never sent);
 * - `sequence-gap`: a frame arrived out of sequence (a message was lost, duplicated or
 *   forged), so the byte stream can no longer be trusted to be whole and in order;
 * - `window-exceeded`: the peer sent more unacknowledged bytes than the window it was given;
 * - `peer-timeout`: nothing arrived from the peer for the timeout (it vanished);
 * - `peer-reset`: the peer reset the stream (its RESET frame names its own reason);
 * - `nats-closed`: the NATS connection under the stream closed.
 */
export type RelayCloseReason =
  'malformed' | 'sequence-gap' | 'window-exceeded' | 'peer-timeout' | 'peer-reset' | 'nats-closed';

export type RelayErrorCode = 'HERALD_ERR_RELAY_STREAM';

/** Why a relay stream was destroyed; `errno` is the transport-contract code for it. */
export class RelayStreamError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.RelayStreamError');

  override readonly name: string = 'RelayStreamError';
  declare readonly code: RelayErrorCode;
  readonly reason: RelayCloseReason;
  /** ETIMEDOUT for peer-timeout, ECONNRESET otherwise (what NotConnected / close reasons carry). */
  readonly errno: string;

  constructor(reason: RelayCloseReason, message: string, options: { cause?: unknown } = {}) {
    super('HERALD_ERR_RELAY_STREAM', `relay stream ${reason}: ${message}`, options);
    this.reason = reason;
    this.errno = reason === 'peer-timeout' ? 'ETIMEDOUT' : 'ECONNRESET';
  }
}
