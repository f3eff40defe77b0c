/**
 * Errors of the herald command. A CliError thrown inside a sub-command's main actor is a
 * fault: run() prints it on stderr and exits 1.
 */
import { HeraldError } from '@herald/codec';

/**
 * - `HERALD_ERR_CLI_USAGE`: a bad command line (exit 2).
 * - `HERALD_ERR_CLI_LOAD`: `herald run` could not import its module (exit 1).
 */
export type CliErrorCode = 'HERALD_ERR_CLI_USAGE' | 'HERALD_ERR_CLI_LOAD';

export class CliError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.CliError');

  override readonly name: string = 'CliError';
  declare readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
