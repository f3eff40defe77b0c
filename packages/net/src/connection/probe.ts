/**
 * Round-trip probes for one connection: `MeasureRoundTrip` sent to a proxy makes it send a
 * wire PING; the matching PONG answers the asker with `RoundTrip` (docs/networking.md,
 * "Measuring a round trip"). Works against any Herald peer: PING / PONG is part of the wire
 * protocol, no application message is involved.
 *
 * One PING at a time: a Herald peer coalesces PONGs (it answers only the latest PING it
 * read, docs/wire-protocol.md §3.6), so a second PING in flight could swallow the first's
 * answer. Askers wait in a bounded queue; each is answered in turn. A PONG with a later
 * seq than the probe's (the keep-alive pinged meanwhile) still answers it: PINGs arrive in
 * order, so the peer read the probe's PING before it answered the later one.
 *
 * Pure bookkeeping on times the proxy passes in (the runtime clock); the proxy owns the wire.
 */
import type { Envelope } from '@herald/runtime/internal';

/** Probes one connection holds at most (in flight and waiting); more are refused at once. */
export const MAX_ROUND_TRIP_PROBES = 16;

/** Microseconds per millisecond of the runtime clock. */
const MICROS_PER_MS = 1000;

/** A probe the PONG answered: whom to tell, and what. */
export interface AnsweredProbe {
  readonly asker: Envelope;
  readonly micros: number;
  readonly seq: number;
}

/** Whether u32 `later` is `earlier` or comes after it (serial number arithmetic). */
function atOrAfter(later: number, earlier: number): boolean {
  return (later - earlier) >>> 0 < 0x80000000;
}

export class RoundTripProbes {
  readonly #max: number;
  /** Askers in order; the first is in flight once `#seq` is set. */
  readonly #askers: Envelope[] = [];
  /** seq of the PING in flight, or -1. */
  #seq = -1;
  #sentAt = 0;

  constructor(max = MAX_ROUND_TRIP_PROBES) {
    this.#max = max;
  }

  /** Probes waiting or in flight. */
  get size(): number {
    return this.#askers.length;
  }

  /** Queues an asker; false (nothing queued) when the connection already holds `max`. */
  add(asker: Envelope): boolean {
    if (this.#askers.length >= this.#max) return false;
    this.#askers.push(asker);
    return true;
  }

  /** Whether a PING should go now: someone waits and no PING of ours is in flight. */
  get due(): boolean {
    return this.#seq < 0 && this.#askers.length > 0;
  }

  /** The PING for the first asker was queued on the wire at `now` (ms). */
  sent(seq: number, now: number): void {
    this.#seq = seq;
    this.#sentAt = now;
  }

  /** A PONG arrived at `now` (ms): the probe it answers, if any. */
  answered(seq: number, now: number): AnsweredProbe | undefined {
    if (this.#seq < 0 || !atOrAfter(seq, this.#seq)) return undefined;
    const asker = this.#askers.shift();
    const probe = this.#seq;
    this.#seq = -1;
    if (asker === undefined) return undefined;
    const micros = Math.max(0, Math.round((now - this.#sentAt) * MICROS_PER_MS));
    return { asker, micros, seq: probe };
  }

  /** The connection ended: every asker still waiting, to be told so. */
  drain(): Envelope[] {
    this.#seq = -1;
    return this.#askers.splice(0);
  }
}
