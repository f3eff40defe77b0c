/**
 * Rate-limited logging of repeated events (used by the runtime for dead letters and by
 * @herald/net per connection). A peer that makes this side log on every bad
 * frame could otherwise turn a few bytes into many log bytes (and, with a slow log
 * reader, stall the event loop). Up to `burst` lines per event are written in each
 * interval; further repeats in that interval are only counted, and the first line of the
 * next interval says how many were suppressed (`suppressed`).
 */
import type { Logger } from 'pino';

/** Default interval between two lines for the same event. */
export const DEFAULT_LOG_INTERVAL_MS = 10_000;

interface Slot {
  /** Start of the current interval. */
  since: number;
  written: number;
  suppressed: number;
}

export class LogThrottle {
  readonly #now: () => number;
  readonly #intervalMs: number;
  readonly #burst: number;
  readonly #slots = new Map<string, Slot>();

  constructor(now: () => number, intervalMs = DEFAULT_LOG_INTERVAL_MS, burst = 1) {
    this.#now = now;
    this.#intervalMs = intervalMs;
    this.#burst = burst;
  }

  /** Lines not written so far, all events together (for tests and metrics). */
  get suppressed(): number {
    let n = 0;
    for (const slot of this.#slots.values()) n += slot.suppressed;
    return n;
  }

  /**
   * Logs `msg` at `level` unless `burst` lines for the same `event` were already written in
   * the current interval; then it is only counted. Returns whether a line was written.
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
      // Bounded: event names are chosen by Herald's code, never by a peer.
      slot = { since: now, written: 0, suppressed: 0 };
      this.#slots.set(event, slot);
    }
    if (now - slot.since >= this.#intervalMs) {
      slot.since = now;
      slot.written = 0;
    } else if (slot.written >= this.#burst) {
      slot.suppressed++;
      return false;
    }
    slot.written++;
    const suppressed = slot.suppressed;
    slot.suppressed = 0;
    log[level](suppressed > 0 ? { ...fields, suppressed } : fields, msg);
    return true;
  }
}
