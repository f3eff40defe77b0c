/**
 * Rate-limited logging of repeated events. A peer that makes this side log on every bad
 * frame could otherwise turn a few bytes into many log bytes (and, with a slow log
 * reader, stall the event loop). The first occurrence of each event is logged at once;
 * repeats within `intervalMs` are counted, and the next occurrence after the interval logs
 * one line with how many were suppressed.
 */
import type { Logger } from 'pino';

/** Default interval between two lines for the same event on one connection. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;

interface Slot {
  last: number;
  suppressed: number;
}

export class LogThrottle {
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #slots = new Map<string, Slot>();

  constructor(now: () => number, intervalMs = DEFAULT_LOG_INTERVAL_MS) {
    this.#now = now;
    this.#intervalMs = intervalMs;
  }

  /**
   * Logs `msg` at `level` unless the same `event` was logged less than the interval ago;
   * then it is only counted. Returns whether a line was written.
   */
  log(
    log: Logger,
    level: 'warn' | 'info' | 'error',
    event: string,
    fields: Record<string, unknown>,
    msg: string,
  ): boolean {
    const now = this.#now();
    let slot = this.#slots.get(event);
    if (slot === undefined) {
      // Bounded: a handful of event names per connection, chosen by this code, never by the peer.
      slot = { last: -Infinity, suppressed: 0 };
      this.#slots.set(event, slot);
    }
    if (now - slot.last < this.#intervalMs) {
      slot.suppressed++;
      return false;
    }
    const suppressed = slot.suppressed;
    slot.last = now;
    slot.suppressed = 0;
    log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
    return true;
  }
}
