/**
 * Errors thrown by @herald/patterns. Each carries a stable `code` that callers can switch
 * on; the message is for humans and may change (docs/errors.md lists every code).
 *
 * Only programmer errors and exhausted local resources are thrown. What happens in normal
 * operation (no peer, a peer gone, retries run out) is a message: `NotDelivered`, never an
 * exception.
 */
import { HeraldError } from '@herald/codec';

export type PatternsErrorCode =
  /** An option is unusable (not a positive integer, an unknown mode, ...). */
  | 'HERALD_ERR_BAD_OPTION'
  /** A durable outbox is at its bound on messages or bytes: the send was not stored. */
  | 'HERALD_ERR_OUTBOX_FULL'
  /** The embedded store could not be opened or read (corrupt record, wrong file). */
  | 'HERALD_ERR_STORE'
  /**
   * A transfer's source was used out of order (a stream read again from an earlier offset).
   * Caught inside the sender and reported as TransferFailed `source-error`, never thrown out.
   */
  | 'HERALD_ERR_TRANSFER_SOURCE';

/** Base class of every error thrown by @herald/patterns. */
export class PatternsError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.PatternsError');

  override readonly name: string = 'PatternsError';
  declare readonly code: PatternsErrorCode;

  constructor(code: PatternsErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}

/** An option given to a pattern is unusable; `field` names it. Raised at the call, never later. */
export class BadPatternOptionError extends PatternsError {
  static override readonly brand: symbol = Symbol.for('herald.error.BadPatternOptionError');

  override readonly name: string = 'BadPatternOptionError';
  readonly field: string;

  constructor(field: string, message: string, options: { cause?: unknown } = {}) {
    super('HERALD_ERR_BAD_OPTION', message, options);
    this.field = field;
  }
}

/**
 * A persistent send found the durable outbox at its bound (`maxMessages` or `maxBytes`):
 * nothing was stored and nothing will be sent. The caller decides: wait for acknowledgements
 * to free space (`Delivered`), or shed load.
 */
export class OutboxFullError extends PatternsError {
  static override readonly brand: symbol = Symbol.for('herald.error.OutboxFullError');

  override readonly name: string = 'OutboxFullError';
  /** Messages and bytes held when the send was refused. */
  readonly messages: number;
  readonly bytes: number;

  constructor(messages: number, bytes: number, limit: string) {
    super(
      'HERALD_ERR_OUTBOX_FULL',
      `durable outbox full (${String(messages)} messages, ${String(bytes)} bytes; ${limit})`,
    );
    this.messages = messages;
    this.bytes = bytes;
  }
}

/** The embedded store (lmdb) could not be opened, or holds a record this version cannot read. */
export class StoreError extends PatternsError {
  static override readonly brand: symbol = Symbol.for('herald.error.StoreError');

  override readonly name: string = 'StoreError';

  constructor(message: string, options: { cause?: unknown } = {}) {
    super('HERALD_ERR_STORE', message, options);
  }
}

export function isPatternsError(value: unknown): value is PatternsError {
  return value instanceof PatternsError;
}
