import type { Address, AnyMessage } from '@herald/codec';
import type { Logger } from 'pino';
import type { ArgsOf, Behavior, WithOptions } from './behavior.js';
import type { Envelope, Priority } from './envelope.js';
import type { TimedOut, Unanswered } from './messages.js';
import type { Runtime } from './runtime.js';
import type { RestartInfo } from './supervision.js';

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

/**
 * How a message is sent (docs/priorities.md, docs/observability.md). Both optional: a send
 * without options costs nothing more.
 */
export interface SendOptions {
  /**
   * The lane it waits in, in every mailbox and on every connection on its way: 'high'
   * before 'normal' before 'low'. Default: its type's declared priority
   * (`defineMessage(name, fields, { priority })`), else 'normal'.
   */
  readonly priority?: Priority;
  /**
   * The W3C traceparent it carries (`00-<32 hex>-<16 hex>-<2 hex>`). Default: the trace of
   * the message being handled (or the span the runtime's tracing hook made for it).
   */
  readonly trace?: string;
}

/** An ask's options: how long to wait and what to save (ReceiveOptions), how to send. */
export interface AskOptions extends ReceiveOptions, SendOptions {}

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
/** Ask options that carry no `timeout` (see UntimedOptions). */
type UntimedAskOptions = AskOptions & { readonly timeout?: undefined };

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
  /**
   * The address the last message was sent to, as this process sees it: for a message that
   * came over a connection, the one hop that names this actor here, not the sender's stack.
   */
  readonly toAddress: Address;

  /**
   * Sends with this actor as the return address. False when it became a dead letter here;
   * true means only that it left this actor: a message can still become a dead letter
   * later (on a connection, or on the far side), observed with `runtime.onDeadLetter`.
   */
  send(to: Address, message: AnyMessage, options?: SendOptions): boolean;
  /**
   * Answers the message received last (its return address, and its ask's correlation, so
   * the asker takes it as the answer to that request and no other).
   */
  reply(message: AnyMessage): boolean;
  /**
   * Answers `request`, a message this actor received (or, in a handler, its envelope):
   * `reply()` bound to one message. A request made with `ask` can be answered however many
   * messages were received since; a plain message while it is among the last 8 received
   * (pass the envelope to answer an older one). Throws HERALD_ERR_NOT_RECEIVED otherwise.
   */
  replyTo(request: AnyMessage | Envelope, message: AnyMessage): boolean;
  /**
   * Sends with another return address, taking this actor out of the conversation. When
   * `returnAddress` is the sender of the request being handled, the request's correlation
   * goes along, so the final `reply()` answers the original ask.
   */
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
   * Sends `message` to `to` as a request with a fresh correlation and waits for its
   * answer: a `reply()` to this request of one of the given types (or a message of one of
   * those types sent without `reply()` after the request). An answer to another (earlier)
   * ask is a `late-reply` dead letter, never this ask's answer. Ends with Unanswered at
   * once when `to` ends first, does not exist, or sits behind a connection that is lost;
   * with TimedOut after `timeout`.
   *
   * Function actors block: other messages that arrive meanwhile are saved for later, and a
   * Stop ends the actor. Handler and machine actors do not block: the promise settles
   * while they go on handling messages.
   */
  ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    ...types: D
  ): Promise<Received<D> | Unanswered>;
  ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    ...args: [...types: D, options: UntimedAskOptions]
  ): Promise<Received<D> | Unanswered>;
  ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    ...args: [...types: D, options: AskOptions]
  ): Promise<Received<D> | Unanswered | TimedOut>;

  /**
   * Set when this incarnation is a restart under a supervision policy: how many restarts,
   * the fault that ended the last incarnation, and what it passed to `saveState`.
   */
  readonly restart: RestartInfo | undefined;
  /**
   * Hands `state` to the next incarnation should this one fault and be restarted (it reads
   * `self.restart.state`). Call it whenever the state worth keeping changes.
   */
  saveState(state: unknown): void;

  /** Ends the actor with `value` (handler actors; function actors return instead). */
  complete(value?: unknown): void;
}
