/**
 * Errors raised by the group layer (reconnecting members and their backoff). Each carries a
 * stable `code` that callers can switch on; the message is for humans and may change.
 *
 * Only programmer errors are thrown. Things that happen in normal operation (a member's
 * connection drops, retries run out) are reported as messages, never as exceptions.
 */
export type GroupErrorCode = 'HERALD_ERR_BAD_POLICY' | 'HERALD_ERR_BAD_GROUP';

/** Base class of every error thrown by the group layer. */
export class GroupError extends Error {
  override readonly name: string = 'GroupError';
  readonly code: GroupErrorCode;

  constructor(code: GroupErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
  }
}

/**
 * A retry policy is unusable: a delay, the jitter or the quantum is negative or not finite, or
 * the step limit is not a non-negative integer. Raised when the policy is handed to
 * {@link Backoff} (or to `validateBackoffPolicy`), never later in the middle of a retry loop.
 */
export class BadPolicyError extends GroupError {
  override readonly name = 'BadPolicyError';
  /** The offending field, e.g. `steps[1]` or `jitterQuantumMs`. */
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super('HERALD_ERR_BAD_POLICY', message, options);
    this.field = field;
  }
}

/**
 * A group table or group option is unusable: a member name is reserved or not an
 * identifier, the table is empty, or a count (bufferLimit, stableAfterMs, getReadyMs) is not
 * a non-negative integer. Raised by `groupTable()`, `connectTo()` or `createGroup()`.
 */
export class BadGroupError extends GroupError {
  override readonly name = 'BadGroupError';
  /** The offending member name or option. */
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super('HERALD_ERR_BAD_GROUP', message, options);
    this.field = field;
  }
}

export function isGroupError(value: unknown): value is GroupError {
  return value instanceof GroupError;
}
