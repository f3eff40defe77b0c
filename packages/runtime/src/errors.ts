/**
 * Runtime errors: programming mistakes reported as exceptions with a stable `code`.
 * Conditions of normal operation (timeouts, a peer gone, a full mailbox) are messages and
 * dead letters, never exceptions. docs/errors.md lists every code.
 */
export type RuntimeErrorCode =
  | 'HERALD_ERR_NOT_A_BEHAVIOR'
  | 'HERALD_ERR_RECEIVE_OUTSIDE_ACTOR'
  | 'HERALD_ERR_CONCURRENT_RECEIVE'
  | 'HERALD_ERR_RUNTIME_CLOSED'
  | 'HERALD_ERR_BAD_SETTING'
  | 'HERALD_ERR_BAD_OPTION';

export class RuntimeError extends Error {
  override readonly name = 'RuntimeError';
  readonly code: RuntimeErrorCode;

  constructor(code: RuntimeErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/**
 * Thrown out of `receive()` when the actor has been asked to stop (a Stop it did not
 * match or save) or its runtime is closing. The function actor wrapper turns it into an
 * `Aborted` completion; code that catches it should rethrow it.
 */
export class ActorAborted extends Error {
  override readonly name = 'ActorAborted';
  readonly code = 'HERALD_ABORTED';
  constructor() {
    super('actor asked to stop');
  }
}
