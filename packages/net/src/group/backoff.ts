/**
 * Reconnect backoff: the delays a group member waits between connection attempts.
 *
 * The schedule follows ansar's `RetryIntervals` / `smart_intervals` (ansar-anatomy §3.3): a
 * few growing first steps, then one regular delay repeated forever (or until `stepLimit`),
 * each with upward-only jitter added in whole quanta. Upward-only jitter keeps the documented minimum honest ("never sooner than 2 s")
 * while still spreading a crowd of clients that lost the same server at the same moment.
 *
 * Randomness is injected so schedules can be tested exactly, without timers.
 */
import { BadPolicyError } from './errors.js';
import type { AddressScope } from './scope.js';

/** How long to wait before each retry. All durations are in milliseconds. */
export interface BackoffPolicy {
  /** The first delays, used once each and in order. May be empty. */
  readonly steps: readonly number[];
  /** The delay used for every retry after `steps` run out. */
  readonly regular: number;
  /**
   * Upward jitter as a fraction of the base delay: `0.5` adds up to +50 %, `0` makes the
   * schedule exact.
   */
  readonly jitter: number;
  /** Jitter is added in whole multiples of this (ansar used 0.25 s). Must be positive. */
  readonly jitterQuantumMs: number;
  /**
   * How many delays {@link Backoff.next} hands out before reporting exhaustion, i.e. the
   * number of retries after the first attempt. Omit to retry forever.
   */
  readonly stepLimit?: number;
}

/** Jitter fraction of the scope policies: delays land in [base, 1.5 × base]. */
export const DEFAULT_BACKOFF_JITTER = 0.5;

/** Jitter is added in steps of 250 ms, as in ansar. */
export const DEFAULT_BACKOFF_JITTER_QUANTUM_MS = 250;

/** Retrying this machine (ansar `RETRY_LOCAL`): 2–3 s, 4–6 s, then 8–12 s forever. */
export const DEFAULT_BACKOFF_LOOPBACK: BackoffPolicy = freezePolicy({
  steps: [2000, 4000],
  regular: 8000,
  jitter: DEFAULT_BACKOFF_JITTER,
  jitterQuantumMs: DEFAULT_BACKOFF_JITTER_QUANTUM_MS,
});

/** Retrying the local network (ansar `RETRY_PRIVATE`): 4–6 s, 8–12 s, then 16–24 s forever. */
export const DEFAULT_BACKOFF_PRIVATE: BackoffPolicy = freezePolicy({
  steps: [4000, 8000],
  regular: 16000,
  jitter: DEFAULT_BACKOFF_JITTER,
  jitterQuantumMs: DEFAULT_BACKOFF_JITTER_QUANTUM_MS,
});

/**
 * Retrying a public address or any host name (ansar `RETRY_PUBLIC`): 8–12 s, 16–24 s,
 * 32–48 s, then 64–96 s forever.
 */
export const DEFAULT_BACKOFF_PUBLIC: BackoffPolicy = freezePolicy({
  steps: [8000, 16000, 32000],
  regular: 64000,
  jitter: DEFAULT_BACKOFF_JITTER,
  jitterQuantumMs: DEFAULT_BACKOFF_JITTER_QUANTUM_MS,
});

/**
 * Retrying a listen that failed (address in use, permission denied): exactly every 4 s,
 * forever.
 *
 * Unlike ansar's `LISTEN_RETRY` (4–8 s) this has no jitter. Jitter exists to spread many
 * clients hammering one remote server; a listen retry only touches this machine's own
 * socket table, so there is no crowd to spread, and the documented behaviour ("a failed
 * listen retries every 4 s") stays literally true. Pass a policy with `jitter` set to get
 * ansar's behaviour back.
 */
export const DEFAULT_LISTEN_RETRY: BackoffPolicy = freezePolicy({
  steps: [],
  regular: 4000,
  jitter: 0,
  jitterQuantumMs: DEFAULT_BACKOFF_JITTER_QUANTUM_MS,
});

/** The default reconnect policy for a host of the given scope (see `scopeOf`). */
export function backoffFor(scope: AddressScope): BackoffPolicy {
  switch (scope) {
    case 'loopback':
      return DEFAULT_BACKOFF_LOOPBACK;
    case 'private':
      return DEFAULT_BACKOFF_PRIVATE;
    case 'public':
      return DEFAULT_BACKOFF_PUBLIC;
  }
}

/**
 * Throws {@link BadPolicyError} (`HERALD_ERR_BAD_OPTION`) unless every delay and the jitter
 * are finite and non-negative, the quantum is finite and positive, and `stepLimit`, when
 * given, is a non-negative integer.
 */
export function validateBackoffPolicy(policy: BackoffPolicy): void {
  if (!Array.isArray(policy.steps)) {
    throw new BadPolicyError('steps', 'backoff policy: steps must be an array of delays in ms');
  }
  policy.steps.forEach((step, index) => requireNonNegative(`steps[${index}]`, step));
  requireNonNegative('regular', policy.regular);
  requireNonNegative('jitter', policy.jitter);
  if (!isFiniteNumber(policy.jitterQuantumMs) || policy.jitterQuantumMs <= 0) {
    throw new BadPolicyError(
      'jitterQuantumMs',
      `backoff policy: jitterQuantumMs must be a finite number above 0, got ${String(policy.jitterQuantumMs)}`,
    );
  }
  const { stepLimit } = policy;
  if (stepLimit !== undefined && (!Number.isSafeInteger(stepLimit) || stepLimit < 0)) {
    throw new BadPolicyError(
      'stepLimit',
      `backoff policy: stepLimit must be a non-negative integer (omit it to retry forever), got ${String(stepLimit)}`,
    );
  }
}

/**
 * The jittered delay for one base delay: `base + k × quantum`, with `k` a uniform integer
 * in `[0, floor(base × jitter / quantum)]`, so the result lies in `[base, base × (1 + jitter)]`.
 * `random` must return a number in [0, 1); values outside are clamped so the bounds hold
 * whatever it returns.
 */
export function jitteredDelay(base: number, policy: BackoffPolicy, random: () => number): number {
  const maxQuanta = Math.floor((base * policy.jitter) / policy.jitterQuantumMs);
  if (maxQuanta <= 0) return base;
  const draw = random();
  const k = Number.isFinite(draw)
    ? Math.min(maxQuanta, Math.max(0, Math.floor(draw * (maxQuanta + 1))))
    : 0;
  return base + k * policy.jitterQuantumMs;
}

/**
 * One retry schedule. Call {@link next} after each failed attempt to learn how long to wait;
 * call {@link reset} after a success so the next outage starts again from the first step
 * (ansar restarts the schedule when an established connection is abandoned).
 *
 * ```ts
 * const backoff = new Backoff(backoffFor(scopeOf(host)));
 * const delay = backoff.next(); // undefined once stepLimit retries have been handed out
 * ```
 */
export class Backoff {
  readonly policy: BackoffPolicy;
  readonly #random: () => number;
  #attempts = 0;

  /**
   * @param policy validated here; throws `BadPolicyError` if unusable.
   * @param random source of uniform numbers in [0, 1); defaults to `Math.random`.
   */
  constructor(policy: BackoffPolicy, random: () => number = Math.random) {
    validateBackoffPolicy(policy);
    this.policy = policy;
    this.#random = random;
  }

  /** How many delays have been handed out since construction or the last {@link reset}. */
  get attempts(): number {
    return this.#attempts;
  }

  /** True once `stepLimit` delays have been handed out; never true without a limit. */
  get exhausted(): boolean {
    const { stepLimit } = this.policy;
    return stepLimit !== undefined && this.#attempts >= stepLimit;
  }

  /**
   * The delay in ms before the next retry, or `undefined` when the step limit is reached
   * (the caller then gives up and reports exhaustion). Once exhausted it stays exhausted
   * until {@link reset}.
   */
  next(): number | undefined {
    if (this.exhausted) return undefined;
    const base = this.policy.steps[this.#attempts] ?? this.policy.regular;
    this.#attempts += 1;
    return jitteredDelay(base, this.policy, this.#random);
  }

  /** Starts the schedule again from the first step. */
  reset(): void {
    this.#attempts = 0;
  }
}

function isFiniteNumber(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function requireNonNegative(field: string, value: unknown): void {
  if (!isFiniteNumber(value) || value < 0) {
    throw new BadPolicyError(
      field,
      `backoff policy: ${field} must be a finite number of at least 0, got ${String(value)}`,
    );
  }
}

function freezePolicy(policy: BackoffPolicy): BackoffPolicy {
  return Object.freeze({ ...policy, steps: Object.freeze([...policy.steps]) });
}
