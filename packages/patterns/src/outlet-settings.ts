/**
 * An outlet's options, their checks and the retransmission schedule (docs/patterns.md).
 */
import type { Priority } from '@herald/runtime';
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_DEDUP_WINDOW,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_OUTBOX_MAX_BYTES,
  DEFAULT_OUTBOX_MAX_MESSAGES,
  DEFAULT_OUTLET_BUFFER_LIMIT,
  DEFAULT_RETRY_FACTOR,
} from './constants.js';
import type { DurableStore } from './durable-store.js';
import { BadPatternOptionError } from './errors.js';
import { checkCount, checkNumber } from './options.js';

/** `all`: every peer (publish); `round-robin`: one peer, the next in turn that is not congested. */
export type SendMode = 'all' | 'round-robin';
export type Delivery = 'at-most-once' | 'at-least-once';

export interface OutletOptions {
  /** Default send mode. Default `'round-robin'`. */
  readonly mode?: SendMode;
  /** Default delivery. Default `'at-most-once'`. */
  readonly delivery?: Delivery;
  /** Send `Delivered` to the sender when a peer acknowledges (at least once). Default false. */
  readonly confirm?: boolean;
  /** Messages held while no peer can take them (not counting persistent ones). Default 1,000. */
  readonly bufferLimit?: number;
  /** Give up a message that waited this long for a peer (`buffer-timeout`). Default: no limit. */
  readonly bufferTimeoutMs?: number;
  /** Unacknowledged at-least-once messages outstanding at once. Default 1,024. */
  readonly maxInFlight?: number;
  /** Wait before the first retransmission. Default 1,000 ms. */
  readonly ackTimeoutMs?: number;
  /** Growth of the wait per retransmission. Default 2. */
  readonly retryFactor?: number;
  /** Longest wait between transmissions. Default 10,000 ms. */
  readonly maxRetryDelayMs?: number;
  /** Transmissions before `NotDelivered{ retries-exhausted }`. Default 8. */
  readonly maxAttempts?: number;
  /** Sequence numbers outstanding past the floor; must not exceed the receivers' window. Default 4,096. */
  readonly window?: number;
  /** The durable store for persistent sends. */
  readonly store?: DurableStore;
  /** The outbox's name within the store. Default `'outbox'`. */
  readonly name?: string;
  /** Persistent messages held on disk at most. Default 100,000. */
  readonly maxMessages?: number;
  /** Encoded bytes of persistent messages held at most. Default 256 MiB. */
  readonly maxBytes?: number;
}

export interface OutletSendOptions {
  /** Overrides the outlet's mode (ignored with `identity` or `peer`). */
  readonly mode?: SendMode;
  /** Send to the peer that proved this identity key (`herald-x25519:…`). */
  readonly identity?: string;
  /** Send to the peer declared with this name (a group member name, `addPeer(..., { name })`). */
  readonly peer?: string;
  readonly delivery?: Delivery;
  /** Keep in the durable outbox until acknowledged (implies at least once; needs `store`). */
  readonly persistent?: boolean;
  /**
   * The priority of this send in the connection's outbound queue (docs/priorities.md).
   * Default: the message type's declared priority. An at-least-once message travels in a
   * `Reliable` wrapper, which takes its body's priority.
   */
  readonly priority?: Priority;
}

export interface Settings {
  readonly mode: SendMode;
  readonly delivery: Delivery;
  readonly confirm: boolean;
  readonly bufferLimit: number;
  readonly bufferTimeoutMs: number | undefined;
  readonly maxInFlight: number;
  readonly ackTimeoutMs: number;
  readonly retryFactor: number;
  readonly maxRetryDelayMs: number;
  readonly maxAttempts: number;
  readonly window: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
}

export function settingsOf(options: OutletOptions): Settings {
  const mode = options.mode ?? 'round-robin';
  if (mode !== 'all' && mode !== 'round-robin') {
    throw new BadPatternOptionError(
      'mode',
      `mode must be 'all' or 'round-robin', not ${String(mode)}`,
    );
  }
  const delivery = options.delivery ?? 'at-most-once';
  checkDelivery(delivery);
  return {
    mode,
    delivery,
    confirm: options.confirm ?? false,
    bufferLimit: checkCount('bufferLimit', options.bufferLimit ?? DEFAULT_OUTLET_BUFFER_LIMIT),
    bufferTimeoutMs:
      options.bufferTimeoutMs === undefined
        ? undefined
        : checkNumber('bufferTimeoutMs', options.bufferTimeoutMs, 1),
    maxInFlight: checkCount('maxInFlight', options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 1),
    ackTimeoutMs: checkNumber('ackTimeoutMs', options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS, 1),
    retryFactor: checkNumber('retryFactor', options.retryFactor ?? DEFAULT_RETRY_FACTOR, 1),
    maxRetryDelayMs: checkNumber(
      'maxRetryDelayMs',
      options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
      1,
    ),
    maxAttempts: checkCount('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1),
    window: checkCount('window', options.window ?? DEFAULT_DEDUP_WINDOW, 1),
    maxMessages: checkCount('maxMessages', options.maxMessages ?? DEFAULT_OUTBOX_MAX_MESSAGES, 1),
    maxBytes: checkCount('maxBytes', options.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES, 1),
  };
}

export function checkDelivery(delivery: Delivery): void {
  if (delivery !== 'at-most-once' && delivery !== 'at-least-once') {
    throw new BadPatternOptionError(
      'delivery',
      `delivery must be 'at-most-once' or 'at-least-once', not ${String(delivery)}`,
    );
  }
}

/** The wait before transmission number `attempts + 1` (exponential, capped). */
export function retryDelay(
  attempts: number,
  settings: Pick<Settings, 'ackTimeoutMs' | 'retryFactor' | 'maxRetryDelayMs'>,
): number {
  return Math.min(
    settings.maxRetryDelayMs,
    settings.ackTimeoutMs * settings.retryFactor ** Math.max(0, attempts - 1),
  );
}
