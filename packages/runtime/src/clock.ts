/**
 * Time, injected. Every timer in the runtime (actor timers, receive timeouts, xstate
 * delays, keep-alive, backoff) goes through a Clock, so tests drive time with TestClock
 * instead of sleeping.
 */
export type TimerHandle = unknown;

export interface Clock {
  /** Milliseconds since an arbitrary origin; only differences are meaningful. */
  now(): number;
  setTimeout(fn: () => void, ms: number): TimerHandle;
  clearTimeout(handle: TimerHandle): void;
}

/** The real clock: `performance.now()` and Node timers (unref'd only by their owners). */
export const systemClock: Clock = {
  now: () => performance.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

interface TestTimer {
  readonly id: number;
  readonly due: number;
  readonly fn: () => void;
}

/**
 * A manual clock. Time moves only when the test calls `advance()`. Timers fire in due
 * order (ties in creation order); a timer created by a firing timer fires in the same
 * `advance()` if it falls due within it.
 */
export class TestClock implements Clock {
  #now: number;
  #nextId = 1;
  #timers = new Map<number, TestTimer>();

  constructor(start = 0) {
    this.#now = start;
  }

  now(): number {
    return this.#now;
  }

  setTimeout(fn: () => void, ms: number): TimerHandle {
    const id = this.#nextId++;
    this.#timers.set(id, { id, due: this.#now + Math.max(0, ms), fn });
    return id;
  }

  clearTimeout(handle: TimerHandle): void {
    this.#timers.delete(handle as number);
  }

  /** Timers still waiting to fire. */
  get pending(): number {
    return this.#timers.size;
  }

  /** Due time of the next timer, or undefined when none is pending. */
  nextDue(): number | undefined {
    let best: TestTimer | undefined;
    for (const t of this.#timers.values()) if (best === undefined || t.due < best.due) best = t;
    return best?.due;
  }

  /** Moves time forward by `ms`, firing due timers synchronously. Returns how many fired. */
  advance(ms: number): number {
    const target = this.#now + ms;
    let fired = 0;
    for (;;) {
      let next: TestTimer | undefined;
      for (const t of this.#timers.values()) {
        if (
          t.due <= target &&
          (next === undefined || t.due < next.due || (t.due === next.due && t.id < next.id))
        )
          next = t;
      }
      if (next === undefined) break;
      this.#timers.delete(next.id);
      this.#now = next.due;
      next.fn();
      fired++;
    }
    this.#now = target;
    return fired;
  }

  /**
   * Like `advance()`, but lets actors run between timers: after each timer fires it
   * yields to the event loop so the messages it produced are processed (and may start
   * new timers) before time moves on. Use it to step an actor system through time.
   */
  async advanceAsync(ms: number): Promise<number> {
    const target = this.#now + ms;
    let fired = 0;
    await settle();
    for (;;) {
      const due = this.nextDue();
      if (due === undefined || due > target) break;
      fired += this.advance(due - this.#now);
      await settle();
    }
    this.#now = target;
    return fired;
  }
}

/**
 * Yields until pending microtasks and already-queued immediates have run: the actors of a
 * runtime have processed everything that was ready. Not a sleep: no time passes.
 */
export async function settle(rounds = 3): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}
