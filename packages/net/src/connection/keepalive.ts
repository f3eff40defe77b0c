/**
 * Keep-alive for one connection: when the peer has been quiet for `idleMs`, send a PING;
 * when nothing at all arrives within `timeoutMs` of that PING, the connection is dead.
 * Pure decisions on the runtime's clock; the proxy owns the timer and the wire.
 */
export type KeepaliveAction =
  /** Send a PING now and check again after `ms`. */
  | { readonly kind: 'ping'; readonly ms: number }
  /** Nothing to do; check again after `ms`. */
  | { readonly kind: 'wait'; readonly ms: number }
  /** The PING went unanswered: close with keepalive-timeout. */
  | { readonly kind: 'dead'; readonly timeoutMs: number };

export class Keepalive {
  readonly idleMs: number;
  readonly timeoutMs: number;
  #lastReceived: number;
  #pingSentAt = -1;
  #seq = 0;

  constructor(idleMs: number, timeoutMs: number, now: number) {
    this.idleMs = idleMs;
    this.timeoutMs = timeoutMs;
    this.#lastReceived = now;
  }

  /** Whether keep-alive runs at all (idle 0 disables it). */
  get enabled(): boolean {
    return this.idleMs > 0;
  }

  /** The peer showed it is alive (a whole frame arrived). */
  alive(now: number): void {
    this.#lastReceived = now;
  }

  get lastReceived(): number {
    return this.#lastReceived;
  }

  /** Sequence number for the next PING. */
  nextSeq(): number {
    return this.#seq++ >>> 0;
  }

  /** Called when the keep-alive timer fires. */
  check(now: number): KeepaliveAction {
    if (this.#pingSentAt >= 0) {
      if (this.#lastReceived >= this.#pingSentAt) this.#pingSentAt = -1;
      else return { kind: 'dead', timeoutMs: this.timeoutMs };
    }
    const quiet = now - this.#lastReceived;
    if (quiet >= this.idleMs) {
      this.#pingSentAt = now;
      return { kind: 'ping', ms: this.timeoutMs };
    }
    return { kind: 'wait', ms: this.idleMs - quiet };
  }
}
