import type { AnyMessage } from '@herald/codec';
import type { AnyStateMachine, OutputFrom } from 'xstate';
import type { Fault } from './messages.js';
import type { Envelope } from './envelope.js';
import type { Self } from './self.js';
import type { SupervisionPolicy } from './supervision.js';

/** An async function actor: runs once; its return value is its completion value. */
export type FunctionBehavior<A extends unknown[] = any[], R = unknown> = (
  self: Self,
  ...args: A
) => Promise<R> | R;

/**
 * A handler actor: a synchronous callback per message, the lightest kind of actor (no
 * promise per message). It ends when it calls `self.complete(value)`. A Stop ends it with
 * Aborted unless `onStop` is given.
 */
export interface Handler {
  readonly name?: string;
  /** Called once before the first message. */
  start?(self: Self): void;
  receive(self: Self, message: AnyMessage, envelope: Envelope): void;
  /** Called on Stop; the handler decides when to complete. */
  onStop?(self: Self): void;
  /** Called once when the actor ends, for cleanup. */
  end?(self: Self, value: unknown): void;
}

export type Behavior = FunctionBehavior | Handler | AnyStateMachine;

export interface SpawnOptions {
  /** Shown in logs and inspection; defaults to the function's or machine's name. */
  readonly name?: string;
  /** Mailbox capacity; defaults to the runtime's. */
  readonly capacity?: number;
  /**
   * How the parent handles this child's faults: restart in place (same address) with
   * backoff, stop, or escalate; one-for-one or one-for-all (docs/supervision.md). Without
   * it a fault ends the child and the parent gets Completed with the fault.
   */
  readonly supervision?: SupervisionPolicy;
}

const OPTIONS = Symbol('herald.spawnOptions');

export interface WithOptions<B extends Behavior> {
  readonly [OPTIONS]: SpawnOptions;
  readonly behavior: B;
}

/** Attaches spawn options to a behavior: `spawn(withOptions(worker, { name: 'w1' }), ...)`. */
export function withOptions<B extends Behavior>(
  behavior: B,
  options: SpawnOptions,
): WithOptions<B> {
  return { [OPTIONS]: options, behavior };
}

export function unwrapBehavior(b: Behavior | WithOptions<Behavior>): {
  behavior: Behavior;
  options: SpawnOptions;
} {
  if (typeof b === 'object' && b !== null && OPTIONS in b) {
    return {
      behavior: (b as WithOptions<Behavior>).behavior,
      options: (b as WithOptions<Behavior>)[OPTIONS],
    };
  }
  return { behavior: b as Behavior, options: {} };
}

/** The argument list a behavior takes after `self`. */
export type ArgsOf<B> =
  B extends WithOptions<infer Inner>
    ? ArgsOf<Inner>
    : B extends FunctionBehavior<infer A, unknown>
      ? A
      : B extends AnyStateMachine
        ? [input?: unknown]
        : [];

/**
 * The value an actor of behaviour `B` ends with: what a function returns (awaited) or a
 * machine's output, or a fault (a throw, a stop). Handler actors complete with any value.
 */
export type CompletionOf<B> =
  B extends WithOptions<infer Inner>
    ? CompletionOf<Inner>
    : B extends AnyStateMachine
      ? OutputFrom<B> | Fault
      : B extends (...args: any[]) => infer R
        ? Awaited<R> | Fault
        : unknown;
