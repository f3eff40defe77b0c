/**
 * Errors raised by the group layer (reconnecting members and their backoff). Each carries a
 * stable `code` that callers can switch on; the message is for humans and may change.
 *
 * Only programmer errors are thrown. Things that happen in normal operation (a member's
 * connection drops, retries run out) are reported as messages, never as exceptions. Both
 * kinds of bad configuration (a retry policy, a group table or option) throw the one
 * documented code for bad options, `HERALD_ERR_BAD_OPTION`; the class and `field` say
 * which.
 */
import { NetError, type NetErrorCode } from '../errors.js';

export type GroupErrorCode = NetErrorCode;

/** Base class of every error thrown by the group layer. */
export class GroupError extends NetError {
  static override readonly brand: symbol = Symbol.for('herald.error.GroupError');

  override readonly name: string = 'GroupError';
  declare readonly code: GroupErrorCode;
}

/**
 * A retry policy is unusable: a delay, the jitter or the quantum is negative or not finite, or
 * the step limit is not a non-negative integer. Raised when the policy is handed to
 * `connectTo()` or `listenAt()`, never later in the middle of a retry loop.
 */
export class BadPolicyError extends GroupError {
  static override readonly brand: symbol = Symbol.for('herald.error.BadPolicyError');

  override readonly name: string = 'BadPolicyError';
  /** The offending field, e.g. `steps[1]` or `jitterQuantumMs`. */
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super('HERALD_ERR_BAD_OPTION', message, options);
    this.field = field;
  }
}

/**
 * A group table or group option is unusable: a member name is reserved or not an
 * identifier, the table is empty, or a count (bufferLimit, stableAfterMs, getReadyMs) is not
 * a non-negative integer. Raised by `groupTable()`, `connectTo()` or `createGroup()`.
 */
export class BadGroupError extends GroupError {
  static override readonly brand: symbol = Symbol.for('herald.error.BadGroupError');

  override readonly name: string = 'BadGroupError';
  /** The offending member name or option. */
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super('HERALD_ERR_BAD_OPTION', message, options);
    this.field = field;
  }
}

export function isGroupError(value: unknown): value is GroupError {
  return value instanceof GroupError;
}
