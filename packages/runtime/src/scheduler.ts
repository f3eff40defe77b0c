import { DEFAULT_TURN_BUDGET } from './constants.js';

/**
 * Schedules `fn` as a microtask. Node's queueMicrotask wraps every callback in an
 * AsyncResource, which costs more than the delivery it schedules; a resolved promise's
 * `then` queues the same microtask without it.
 */
const RESOLVED = Promise.resolve();
export function microtask(fn: () => void): void {
  void RESOLVED.then(fn);
}

/** Something with queued work the scheduler can run. */
export interface Runnable {
  scheduled: boolean;
  /** Runs queued work; returns how many messages it processed. */
  process(budget: number): number;
}

/**
 * Runs actors that have queued messages. Work is drained on a microtask, so a burst of
 * sends is processed together; after `turnBudget` deliveries in one event-loop turn the
 * rest is deferred with setImmediate so timers and sockets keep being served.
 */
export class Scheduler {
  readonly #turnBudget: number;
  #queue: Runnable[] = [];
  /** The queue of the previous drain, emptied: the next drain's, so draining allocates nothing. */
  #spare: Runnable[] = [];
  #pending = false;
  #spent = 0;
  #resetPending = false;

  constructor(turnBudget = DEFAULT_TURN_BUDGET) {
    this.#turnBudget = turnBudget;
  }

  readonly #reset = (): void => {
    this.#spent = 0;
    this.#resetPending = false;
  };

  /** Counts one delivery against this turn's budget; false when the budget is spent. */
  take(): boolean {
    if (!this.#resetPending) {
      this.#resetPending = true;
      setImmediate(this.#reset);
    }
    return ++this.#spent <= this.#turnBudget;
  }

  schedule(runnable: Runnable): void {
    if (runnable.scheduled) return;
    runnable.scheduled = true;
    this.#queue.push(runnable);
    this.#wake();
  }

  #wake(): void {
    if (this.#pending) return;
    this.#pending = true;
    if (this.#spent < this.#turnBudget) microtask(this.#drain);
    else setImmediate(this.#drain);
  }

  readonly #drain = (): void => {
    this.#pending = false;
    const queue = this.#queue;
    this.#queue = this.#spare;
    let i = 0;
    for (; i < queue.length; i++) {
      if (this.#spent >= this.#turnBudget) break;
      const r = queue[i] as Runnable;
      r.scheduled = false;
      this.#spent += r.process(this.#turnBudget - this.#spent);
      if (!this.#resetPending) {
        this.#resetPending = true;
        setImmediate(this.#reset);
      }
    }
    if (i < queue.length) {
      // Budget spent: keep the rest for the next turn, ahead of anything scheduled since.
      this.#queue = queue.slice(i).concat(this.#queue);
      this.#spare = [];
    } else {
      // pop(), not `length = 0`: truncating is a runtime call, popping a few is inlined.
      while (queue.length > 0) queue.pop();
      this.#spare = queue;
    }
    if (this.#queue.length > 0) this.#wake();
  };
}
