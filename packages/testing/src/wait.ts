/**
 * Bounded waits. A test that waits for something awaits the event that brings it, never a
 * sleep; every wait has a timeout whose error says what was awaited and what had happened
 * by then, which is usually the whole diagnosis.
 */
import type { EventEmitter } from 'node:events';
import { TestingError } from './errors.js';

/** Default bound on every wait: generous for a loaded CI machine, far below vitest's 60 s. */
export const DEFAULT_WAIT_MS = 5_000;

/** Subscribes `notify` to some change; returns the unsubscribe function. */
export type Subscribe = (notify: () => void) => () => void;

/**
 * Something that changes over time (a list of log lines, a probe's inbox, a relay's
 * counters): whoever changes it calls {@link Signal.changed}, and waits re-check then.
 */
export class Signal {
  readonly #listeners = new Set<() => void>();

  /** Tells every subscriber to re-check. */
  changed(): void {
    for (const listener of [...this.#listeners]) listener();
  }

  /** Calls `notify` after every change from now on; returns the unsubscribe function. */
  readonly subscribe: Subscribe = (notify) => {
    this.#listeners.add(notify);
    return () => this.#listeners.delete(notify);
  };
}

export interface WaitOptions {
  /** Bound on the wait. Default {@link DEFAULT_WAIT_MS}. */
  readonly timeoutMs?: number;
  /** What is awaited, for the timeout error ("waiting for <what>"). */
  readonly what?: string;
  /** The state worth quoting in the timeout error (what happened instead). */
  readonly describe?: () => string;
  /**
   * When to re-check: a {@link Signal} or subscribe function. Without it the check runs on
   * every turn of the event loop, which suits state that nothing announces (an array an
   * actor pushes to) but costs a little CPU while waiting.
   */
  readonly on?: Signal | Subscribe;
}

/** What a check returns while the condition does not hold yet. */
type NotYet = undefined | false;

/** The error a timed-out wait rejects with. */
function timeoutError(timeoutMs: number, what: string, describe?: () => string): Error {
  const state = describe === undefined ? '' : `; ${describe()}`;
  return new TestingError(
    'HERALD_ERR_TEST_TIMEOUT',
    `timed out after ${timeoutMs} ms waiting for ${what}${state}`,
  );
}

/**
 * Resolves with the first result of `check` that is neither `undefined` nor `false`,
 * checking now and again after every change (see {@link WaitOptions.on}). Rejects after the
 * timeout, or at once with whatever `check` throws (a check can fail fast that way, e.g.
 * when a child process exits without printing the line awaited).
 *
 * ```ts
 * await waitFor(() => hellos.includes('thanks'), { what: 'the thanks' });
 * const line = await waitFor(() => log.lines.find((l) => l.msg === 'listening'), { on: log.signal });
 * ```
 */
export function waitFor<T>(
  check: () => T | NotYet,
  options?: WaitOptions,
): Promise<Exclude<T, NotYet>>;
/**
 * Resolves with the arguments of the next `event` that `emitter` emits (like
 * `events.once`, but bounded); rejects if `emitter` emits `'error'` first.
 */
export function waitFor(
  emitter: EventEmitter,
  event: string | symbol,
  options?: WaitOptions,
): Promise<unknown[]>;
export function waitFor<T>(
  source: (() => T | NotYet) | EventEmitter,
  eventOrOptions?: string | symbol | WaitOptions,
  maybeOptions: WaitOptions = {},
): Promise<unknown> {
  if (typeof source === 'function') {
    return waitForCheck(source, (eventOrOptions ?? {}) as WaitOptions);
  }
  return waitForEvent(source, eventOrOptions as string | symbol, maybeOptions);
}

function waitForCheck<T>(check: () => T | NotYet, options: WaitOptions): Promise<T> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const what = options.what ?? 'a condition';
  return new Promise<T>((resolve, reject) => {
    let stop = (): void => undefined;
    let settled = false;
    const timer = setTimeout(() => {
      settled = true;
      stop();
      reject(timeoutError(timeoutMs, what, options.describe));
    }, timeoutMs);
    const settle = (done: () => void): void => {
      settled = true;
      clearTimeout(timer);
      stop();
      done();
    };
    const evaluate = (): boolean => {
      // A notification that was already under way when the wait ended changes nothing.
      if (settled) return true;
      let result: T | NotYet;
      try {
        result = check();
      } catch (error) {
        settle(() => reject(error));
        return true;
      }
      if (result === undefined || result === false) return false;
      const value = result;
      settle(() => resolve(value));
      return true;
    };
    if (evaluate()) return;
    const on = options.on;
    if (on === undefined) {
      let immediate: NodeJS.Immediate | undefined;
      const poll = (): void => {
        if (!evaluate()) immediate = setImmediate(poll);
      };
      immediate = setImmediate(poll);
      stop = () => clearImmediate(immediate);
    } else {
      const subscribe = on instanceof Signal ? on.subscribe : on;
      stop = subscribe(() => void evaluate());
    }
  });
}

function waitForEvent(
  emitter: EventEmitter,
  event: string | symbol,
  options: WaitOptions,
): Promise<unknown[]> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_WAIT_MS;
  const what = options.what ?? `the '${String(event)}' event`;
  return new Promise<unknown[]>((resolve, reject) => {
    const onEvent = (...args: unknown[]): void => {
      cleanup();
      resolve(args);
    };
    const onError = (error: unknown): void => {
      cleanup();
      reject(error);
    };
    const timer = setTimeout(() => {
      cleanup();
      reject(timeoutError(timeoutMs, what, options.describe));
    }, timeoutMs);
    const cleanup = (): void => {
      clearTimeout(timer);
      emitter.off(event, onEvent);
      if (event !== 'error') emitter.off('error', onError);
    };
    emitter.on(event, onEvent);
    if (event !== 'error') emitter.on('error', onError);
  });
}

/**
 * Resolves or rejects as `promise` does; rejects after `ms` with an error naming `what`.
 * The timer is cleared either way, so a settled wait keeps nothing alive.
 */
export function withTimeout<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(timeoutError(ms, what)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
