/**
 * Errors thrown by the test support. Like every Herald error, each is a `HeraldError` with a
 * stable `code` and a `Symbol.for` brand (docs/errors.md), so a test can tell a bad option
 * from a timed-out wait without parsing the message.
 */
import { HeraldError } from '@herald/codec';

export type TestingErrorCode =
  /** An option or environment setting the helper cannot use (a negative delay, HERALD_SEED). */
  | 'HERALD_ERR_BAD_OPTION'
  /** A wait helper's condition did not hold in time. */
  | 'HERALD_ERR_TEST_TIMEOUT'
  /** What the helper set up or watched failed (a property, a child process, a listen). */
  | 'HERALD_ERR_TEST_FAILED'
  /** A helper used in the wrong state (a probe before it started, a relay after close). */
  | 'HERALD_ERR_TEST_MISUSE';

export class TestingError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.TestingError');

  override readonly name: string = 'TestingError';
  declare readonly code: TestingErrorCode;

  constructor(code: TestingErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
