/**
 * Supervision: a parent declares, when it spawns a child, what happens when the child
 * faults (throws, or ends with a fault value other than Aborted):
 *
 * - `restart`: the child starts again after a backoff, in place. It keeps its ADDRESS, so
 *   peers that hold it (local actors, remote peers, groups) keep working; its mailbox is
 *   kept (messages sent during the backoff wait for the new incarnation), its timers are
 *   cancelled and its children stopped. The new incarnation sees `self.restart`
 *   (`{ count, fault, state }`), where `state` is what the last incarnation handed to
 *   `self.saveState(state)`: the behaviour chooses what survives.
 * - `stop`: the child ends with its fault and the parent gets Completed (the default, as
 *   without a policy).
 * - `escalate`: the child ends, and the parent faults with HERALD_ESCALATED (so the
 *   parent's own policy, if any, applies next).
 *
 * `strategy: 'one-for-all'` restarts, with the faulted child, every sibling that was
 * spawned with a one-for-all policy too (a set of children that only work together);
 * `'one-for-one'` (the default) restarts the faulted child alone. More than `maxRestarts`
 * restarts of one child within `withinMs` and the child is given up on: it ends with its
 * fault, or faults its parent when `whenExhausted` is `escalate`.
 *
 * Models: Erlang/OTP supervisor (restart intensity MaxR within MaxT, one_for_one /
 * one_for_all), Akka's SupervisorStrategy and BackoffSupervisor. Unlike OTP, the restarted
 * child keeps its address (Akka's restart, not OTP's new pid) and its mailbox.
 */
import type { Clock } from './clock.js';
import {
  DEFAULT_RESTART_BACKOFF_FACTOR,
  DEFAULT_RESTART_INITIAL_MS,
  DEFAULT_RESTART_MAX_MS,
  DEFAULT_RESTART_WINDOW_MS,
  DEFAULT_MAX_RESTARTS,
} from './constants.js';
import { RuntimeError } from './errors.js';
import { Aborted, isFaulted, type Fault } from './messages.js';

/** How a parent handles a child that faults. */
export interface SupervisionPolicy {
  /** What to do when the child faults. */
  readonly onFault: 'restart' | 'stop' | 'escalate';
  /** Restart the faulted child alone (default) or with its one-for-all siblings. */
  readonly strategy?: 'one-for-one' | 'one-for-all';
  /** Restarts allowed within `withinMs` before the child is given up on. Default 3. */
  readonly maxRestarts?: number;
  /** The window, in milliseconds on the runtime's clock, restarts are counted in. Default 5 s. */
  readonly withinMs?: number;
  /**
   * Delay before each restart: `initialMs · factor^(n−1)` for the n-th restart within the
   * window, at most `maxMs` (all milliseconds on the runtime's clock). Default 100 ms,
   * doubling, at most 10 s. `{ initialMs: 0 }` restarts at once.
   */
  readonly backoff?: {
    readonly initialMs?: number;
    readonly factor?: number;
    readonly maxMs?: number;
  };
  /** When restarts run out: end with the fault (`stop`, default) or fault the parent. */
  readonly whenExhausted?: 'stop' | 'escalate';
}

/** What a restarted incarnation knows of the one before (`self.restart`). */
export interface RestartInfo {
  /** Restarts of this child so far (1 for the first restart). */
  readonly count: number;
  /** The fault that ended the last incarnation (Aborted for a one-for-all sibling). */
  readonly fault: Fault;
  /** What the last incarnation passed to `self.saveState()`, if anything. */
  readonly state: unknown;
}

/** What to do with an ending child, decided by its Supervision. */
export type Decision =
  | { readonly kind: 'end' }
  | { readonly kind: 'escalate'; readonly fault: Fault }
  | { readonly kind: 'restart'; readonly delayMs: number };

/** A fault worth supervising: any fault but Aborted (a stop is not a failure). */
export function isSupervisedFault(value: unknown): value is Fault {
  return isFaulted(value) && !Aborted.is(value);
}

/** Checks a policy at spawn time: HERALD_ERR_BAD_OPTION for nonsense, nothing started. */
export function checkPolicy(policy: SupervisionPolicy): void {
  const bad = (message: string): never => {
    throw new RuntimeError('HERALD_ERR_BAD_OPTION', `supervision: ${message}`);
  };
  if (!['restart', 'stop', 'escalate'].includes(policy.onFault))
    bad(`onFault must be restart, stop or escalate, got ${String(policy.onFault)}`);
  if (policy.strategy !== undefined && !['one-for-one', 'one-for-all'].includes(policy.strategy))
    bad(`strategy must be one-for-one or one-for-all, got ${String(policy.strategy)}`);
  const nonNegative = (name: string, v: number | undefined): void => {
    if (v !== undefined && !(Number.isFinite(v) && v >= 0)) bad(`${name} must be ≥ 0, got ${v}`);
  };
  nonNegative('maxRestarts', policy.maxRestarts);
  nonNegative('withinMs', policy.withinMs);
  nonNegative('backoff.initialMs', policy.backoff?.initialMs);
  nonNegative('backoff.maxMs', policy.backoff?.maxMs);
  if (policy.backoff?.factor !== undefined && !(policy.backoff.factor >= 1))
    bad(`backoff.factor must be ≥ 1, got ${policy.backoff.factor}`);
}

/** One child's supervision: its policy and its restart history. */
export class Supervision {
  readonly policy: SupervisionPolicy;
  readonly #clock: Clock;
  /** Times (clock ms) of the restarts within the window. */
  #restarts: number[] = [];
  /** Restarts over the child's life. */
  count = 0;
  /** What the current incarnation saved for the next. */
  state: unknown;

  constructor(policy: SupervisionPolicy, clock: Clock) {
    checkPolicy(policy);
    this.policy = policy;
    this.#clock = clock;
  }

  get oneForAll(): boolean {
    return this.policy.strategy === 'one-for-all';
  }

  /** Decides what a child ending with `value` does. */
  decide(value: unknown): Decision {
    if (!isSupervisedFault(value)) return { kind: 'end' };
    const p = this.policy;
    if (p.onFault === 'stop') return { kind: 'end' };
    if (p.onFault === 'escalate') return { kind: 'escalate', fault: value };
    const now = this.#clock.now();
    const window = p.withinMs ?? DEFAULT_RESTART_WINDOW_MS;
    this.#restarts = this.#restarts.filter((t) => now - t < window);
    if (this.#restarts.length >= (p.maxRestarts ?? DEFAULT_MAX_RESTARTS)) {
      return p.whenExhausted === 'escalate' ? { kind: 'escalate', fault: value } : { kind: 'end' };
    }
    this.#restarts.push(now);
    return { kind: 'restart', delayMs: this.delayFor(this.#restarts.length) };
  }

  /** Backoff before the n-th restart within the window. */
  delayFor(n: number): number {
    const b = this.policy.backoff ?? {};
    const initial = b.initialMs ?? DEFAULT_RESTART_INITIAL_MS;
    const factor = b.factor ?? DEFAULT_RESTART_BACKOFF_FACTOR;
    const max = b.maxMs ?? DEFAULT_RESTART_MAX_MS;
    return Math.min(max, initial * factor ** Math.max(0, n - 1));
  }
}
