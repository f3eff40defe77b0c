import type { Address, AnyMessage } from '@herald/codec';
import type { Logger } from 'pino';
import type { ArgsOf, Behavior, WithOptions } from './behavior.js';
import type { TimedOut } from './messages.js';
import type { Runtime } from './runtime.js';

export interface ReceiveOptions {
  /** Give up after this many milliseconds (on the runtime's clock) with a TimedOut message. */
  readonly timeout?: number;
  /**
   * Message types to keep for a later receive instead of turning them into dead letters,
   * or `'all'` to keep everything that does not match (except Stop). Saved messages come
   * back, in arrival order, the next time the actor receives.
   */
  readonly save?: readonly Matcher[] | 'all';
}

export interface TimerOptions {
  /** Fire every `ms` until cancelled. */
  readonly repeat?: boolean;
  /** The message delivered when the timer fires; defaults to `Timer({ key })`. */
  readonly message?: AnyMessage;
}

/**
 * What `receive()` and `ask()` take: any declared message type (its `type` name and guard),
 * or `Any`.
 */
export interface Matcher {
  readonly type: string;
  is(value: unknown): boolean;
}

/** The message type a matcher's guard narrows to. */
export type MatchedBy<D> = D extends { is(value: unknown): value is infer M } ? M : never;

type Received<D extends readonly Matcher[]> = MatchedBy<D[number]>;

/**
 * Receive options that certainly carry no `timeout` (only `save`): a receive given these
 * cannot end in TimedOut, so its result type leaves TimedOut out.
 */
type UntimedOptions = ReceiveOptions & { readonly timeout?: undefined };

/**
 * What an actor sees of itself. Function actors get it as their first argument; handler
 * actors and machine actions (through `herald.self()`) get the same interface.
 */
export interface Self {
  readonly address: Address;
  readonly name: string;
  /** The actor that spawned this one; undefined for top-level actors. */
  readonly parent: Address | undefined;
  readonly runtime: Runtime;
  /** This actor's child logger (bound to `actor` and `name`). */
  readonly log: Logger;
  /** Return address of the message received last: where `reply()` sends. */
  readonly returnAddress: Address;
  /** The full address the last message was sent to (a hop stack for relayed messages). */
  readonly toAddress: Address;

  /** Sends with this actor as the return address. False when it became a dead letter here. */
  send(to: Address, message: AnyMessage): boolean;
  /** Sends to the return address of the message received last. */
  reply(message: AnyMessage): boolean;
  /** Sends with another return address, taking this actor out of the conversation. */
  forward(to: Address, message: AnyMessage, returnAddress: Address): boolean;

  /** Starts a child. Its completion value comes back as Completed from the child's address. */
  spawn<B extends Behavior | WithOptions<Behavior>>(behavior: B, ...args: ArgsOf<B>): Address;
  /** Sends Stop. */
  stop(address: Address): void;
  /** Delivers Terminated(address, value) when `address` ends, or its connection is lost. */
  watch(address: Address): void;
  unwatch(address: Address): void;
  /** Addresses of the live children. */
  children(): Address[];

  /** Starts (or restarts) the timer `key`. Timers of one actor are independent by key. */
  startTimer(key: string, ms: number, options?: TimerOptions): void;
  /** Cancels the timer `key`; a firing already queued in the mailbox is removed too. */
  cancelTimer(key: string): void;

  /**
   * Waits for the next message of one of the given types (function actors only).
   * Messages that neither match nor are saved become dead letters. A Stop that is not
   * matched ends the actor with Aborted. The result is typed as the union of the given
   * types, plus TimedOut when the options may carry a `timeout`.
   */
  receive<const D extends readonly Matcher[]>(...types: D): Promise<Received<D>>;
  receive<const D extends readonly Matcher[]>(
    ...args: [...types: D, options: UntimedOptions]
  ): Promise<Received<D>>;
  receive<const D extends readonly Matcher[]>(
    ...args: [...types: D, options: ReceiveOptions]
  ): Promise<Received<D> | TimedOut>;

  /**
   * Sends `message` to `to` and waits for a reply of one of the given types. Other
   * messages that arrive meanwhile are saved for later. Function actors only. Typed as
   * `receive` is.
   */
  ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    ...types: D
  ): Promise<Received<D>>;
  ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    ...args: [...types: D, options: UntimedOptions]
  ): Promise<Received<D>>;
  ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    ...args: [...types: D, options: ReceiveOptions]
  ): Promise<Received<D> | TimedOut>;

  /** Ends the actor with `value` (handler actors; function actors return instead). */
  complete(value?: unknown): void;
}
