/**
 * Errors thrown by @herald/discovery. Only programmer errors are thrown (a bad option, a
 * search that cannot be compiled or would be too costly to run); a publisher gone, a
 * directory down or a subscriber refused are messages (docs/discovery.md), never exceptions.
 *
 * DiscoveryError extends `HeraldError` and carries a `Symbol.for` brand, so `instanceof`
 * holds across two copies of this package.
 */
import { HeraldError } from '@herald/codec';

export type DiscoveryErrorCode =
  'HERALD_ERR_BAD_OPTION' | 'HERALD_ERR_BAD_SEARCH' | 'HERALD_ERR_DIRECTORY_NOT_LISTENING';

/** Base class of the errors of @herald/discovery. */
export class DiscoveryError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.DiscoveryError');

  override readonly name: string = 'DiscoveryError';
  declare readonly code: DiscoveryErrorCode;

  constructor(code: DiscoveryErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
