/**
 * Errors of @herald/management. Only programmer errors are thrown (a bad option, an
 * optional peer dependency that is not installed); what an operator asks for that cannot
 * be done (an unknown log level, a connection that is gone) is answered with a typed
 * `management.Failed` fault, never an exception.
 *
 * ManagementError extends `HeraldError` (from @herald/codec) with a `Symbol.for` brand, so
 * `instanceof` holds across two copies of this package.
 */
import { HeraldError } from '@herald/codec';

export type ManagementErrorCode =
  /** An option of openManagement, registerMetrics or the tracing adapter is wrong. */
  | 'HERALD_ERR_BAD_OPTION'
  /** An optional peer dependency (prom-client, @opentelemetry/api) is not installed. */
  | 'HERALD_ERR_MANAGEMENT_MISSING_PEER'
  /** The management endpoint could not open its Herald or HTTP listener. */
  | 'HERALD_ERR_MANAGEMENT_LISTEN_FAILED';

/** Base class of the errors thrown by @herald/management. */
export class ManagementError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.ManagementError');

  override readonly name: string = 'ManagementError';
  declare readonly code: ManagementErrorCode;

  constructor(code: ManagementErrorCode, message: string, options: { cause?: unknown } = {}) {
    super(code, message, options);
  }
}
