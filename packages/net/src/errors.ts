/**
 * Errors thrown by the network layer outside the wire codec (which has `WireError`). Only
 * programmer errors are thrown; a peer gone, a refused connection or a slow peer are
 * messages (docs/networking.md), never exceptions.
 *
 * NetError extends `HeraldError` (from @herald/codec) and carries a `Symbol.for` brand, so
 * `instanceof` holds across two copies of this package.
 */
import { HeraldError } from '@herald/codec';

export type NetErrorCode = 'HERALD_ERR_BAD_OPTION';

/** Base class of the errors of @herald/net (groups included; the wire layer has WireError). */
export class NetError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.NetError');

  override readonly name: string = 'NetError';
  declare readonly code: NetErrorCode;

  constructor(code: NetErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
