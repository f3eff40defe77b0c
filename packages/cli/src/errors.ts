/**
 * Errors of the herald command. A CliError thrown inside a sub-command's main actor is a
 * fault: run() prints it on stderr and exits 1.
 */
import { HeraldError } from '@herald/codec';

export type CliErrorCode = 'HERALD_ERR_CLI_USAGE';

export class CliError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.CliError');

  override readonly name: string = 'CliError';
  declare readonly code: CliErrorCode;

  constructor(code: CliErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
