/**
 * Runtime errors: programming mistakes reported as exceptions with a stable `code`.
 * Conditions of normal operation (timeouts, a peer gone, a full mailbox) are messages and
 * dead letters, never exceptions. docs/errors.md lists every code.
 *
 * Both classes extend `HeraldError` (from @herald/codec) and carry a `Symbol.for` brand, so
 * `instanceof` holds across two copies of this package.
 */
import { HeraldError } from '@herald/codec';

export type RuntimeErrorCode =
  | 'HERALD_ERR_NOT_A_BEHAVIOR'
  | 'HERALD_ERR_NOT_A_MESSAGE'
  | 'HERALD_ERR_RECEIVE_OUTSIDE_ACTOR'
  | 'HERALD_ERR_CONCURRENT_RECEIVE'
  | 'HERALD_ERR_RUNTIME_CLOSED'
  | 'HERALD_ERR_BAD_SETTING'
  | 'HERALD_ERR_BAD_OPTION'
  | 'HERALD_ERR_NOT_RECEIVED';

export class RuntimeError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.RuntimeError');

  override readonly name: string = 'RuntimeError';
  declare readonly code: RuntimeErrorCode;

  constructor(code: RuntimeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/**
 * Thrown out of `receive()` when the actor has been asked to stop (a Stop it did not
 * match or save) or its runtime is closing. The function actor wrapper turns it into an
 * `Aborted` completion; code that catches it should rethrow it.
 */
export class ActorAborted extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.ActorAborted');

  override readonly name: string = 'ActorAborted';
  declare readonly code: 'HERALD_ABORTED';

  constructor() {
    super('HERALD_ABORTED', 'actor asked to stop');
  }
}
