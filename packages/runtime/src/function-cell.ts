/**
 * Function actors: an async function that takes its messages with `await self.receive()`.
 *
 * Unlike handler and machine actors, nothing here is queued for a callback: a message is
 * handed straight to the pending receive when one waits (and the scheduler allows), saved
 * for a later receive when the receive asked for that, or turned into a dead letter. A Stop
 * that no receive matches rejects the receive with ActorAborted, which ends the function.
 */
import type { Address, AnyMessage } from '@herald/codec';
import { Cell, matches, trailingOptions } from './cell.js';
import type { TimerHandle } from './clock.js';
import { isAnswer, NO_CORRELATION, type Envelope } from './envelope.js';
import { ActorAborted, RuntimeError } from './errors.js';
import { Stop, Terminated, TimedOut, Unanswered, Unwatch, Watch } from './messages.js';
import { microtask } from './scheduler.js';
import type { AskOptions, Matcher, ReceiveOptions, Self } from './self.js';

const CLASS_MATCH = 0;
const CLASS_SAVE = 1;
const CLASS_STOP = 2;
const CLASS_DEAD = 3;
const CLASS_LATE = 4;
const CLASS_DROP = 5;
const CLASS_LOST = 6;

/**
 * Hops of a target at least two connections away (actor, far proxy, near proxy): the proxy
 * whose end the ask's guard sees is not the one whose connection may be lost, so the ask
 * watches the target itself for its duration (the relays settle watches on loss).
 */
const RELAYED_HOPS = 3;

interface Waiter {
  readonly types: readonly Matcher[];
  readonly save: readonly Matcher[] | 'all' | undefined;
  readonly resolve: (message: AnyMessage) => void;
  readonly reject: (error: unknown) => void;
  timer: TimerHandle | undefined;
  /** The ask's request correlation; NO_CORRELATION for a plain receive. */
  readonly correlation: number;
  /**
   * False while an ask looks at what was queued before its request went out: none of that
   * can be its answer, so nothing uncorrelated matches then (it is saved).
   */
  current: boolean;
  /** The cell the ask's guard is registered on (the target, or the proxy it sits behind). */
  guard: Cell | undefined;
  /** A relayed target the ask watches for its duration (its Terminated ends the ask). */
  watched: Address | undefined;
}

/** A receive without options. */
const NO_OPTIONS: ReceiveOptions = Object.freeze({});
/** An ask without options: it saves what is not its answer. */
const SAVE_ALL: ReceiveOptions = Object.freeze({ save: 'all' });

/**
 * A promise's resolving functions, taken by one shared executor: a receive then allocates
 * no executor closure (and no context for it) per message.
 */
const unset = (): void => {};
const captured: { resolve: (value: any) => void; reject: (error: unknown) => void } = {
  resolve: unset,
  reject: unset,
};
function capture(resolve: (value: any) => void, reject: (error: unknown) => void): void {
  captured.resolve = resolve;
  captured.reject = reject;
}

interface Incarnation {
  readonly fn: (self: Self, ...args: any[]) => unknown;
  readonly args: readonly unknown[];
}

function classify(waiter: Waiter, envelope: Envelope): number {
  const type = envelope.message.type;
  const correlation = envelope.correlation;
  if (isAnswer(correlation)) {
    // An answer answers its own ask or nothing: never a receive, never another ask.
    if (waiter.correlation !== NO_CORRELATION && correlation === waiter.correlation + 1)
      return type === Unanswered.type || matches(waiter.types, type) ? CLASS_MATCH : CLASS_DEAD;
    return type === Unanswered.type ? CLASS_DROP : CLASS_LATE;
  }
  if (
    waiter.watched !== undefined &&
    type === Terminated.type &&
    (envelope.message as Terminated).address.equals(waiter.watched)
  )
    return CLASS_LOST;
  if (waiter.current && matches(waiter.types, type)) return CLASS_MATCH;
  const save = waiter.save;
  if (save !== undefined) {
    if (save === 'all') {
      if (type !== Stop.type) return CLASS_SAVE;
    } else if (matches(save, type)) return CLASS_SAVE;
  }
  return type === Stop.type ? CLASS_STOP : CLASS_DEAD;
}

export class FunctionCell extends Cell {
  override get kind(): 'function' {
    return 'function';
  }

  #waiter: Waiter | undefined;
  #saved: Envelope[] | undefined;
  #aborting = false;

  /** The function and arguments a restart runs again; kept only when supervised. */
  #incarnation: Incarnation | undefined;

  start(fn: (self: Self, ...args: any[]) => unknown, args: readonly unknown[]): void {
    if (this.supervision !== undefined) this.#incarnation = { fn, args };
    microtask(() => this.#run(fn, args));
  }

  #run(fn: (self: Self, ...args: any[]) => unknown, args: readonly unknown[]): void {
    let result: unknown;
    try {
      result = fn(this, ...args);
    } catch (error) {
      this.end(this.core.faultFromError(this, error));
      return;
    }
    if (result instanceof Promise) this.#endWith(result);
    else this.end(result);
  }

  /**
   * Ends the actor when `result` settles. A method of its own so that the two callbacks
   * hold only the cell, not the function's arguments, for the actor's whole life.
   */
  #endWith(result: Promise<unknown>): void {
    result.then(
      (value) => this.end(value),
      (error: unknown) => this.end(this.core.faultFromError(this, error)),
    );
  }

  protected accept(envelope: Envelope): boolean {
    const waiter = this.#waiter;
    if (waiter !== undefined && this.queued === 0 && this.core.scheduler.take()) {
      this.#offer(waiter, envelope);
      return true;
    }
    if (!this.enqueue(envelope)) return false;
    if (waiter !== undefined) this.core.scheduler.schedule(this);
    return true;
  }

  /** Hands one envelope to a waiting receive, or saves / dead-letters / aborts. */
  #offer(waiter: Waiter, envelope: Envelope): boolean {
    switch (classify(waiter, envelope)) {
      case CLASS_MATCH:
        this.#settle(waiter);
        this.noteReceived(envelope);
        waiter.resolve(envelope.message);
        return true;
      case CLASS_SAVE:
        (this.#saved ??= []).push(envelope);
        return false;
      case CLASS_STOP:
        this.#settle(waiter);
        this.#aborting = true;
        waiter.reject(new ActorAborted());
        return true;
      case CLASS_LATE:
        this.deadLetter(envelope, 'late-reply');
        return false;
      case CLASS_DROP:
        return false;
      case CLASS_LOST: {
        // The relayed target ended, or a connection on the way was lost.
        const watched = waiter.watched as Address;
        this.#settle(waiter);
        // The actor's own watch of the same target still gets its Terminated.
        if (this.isWatching(watched)) (this.#saved ??= []).push(envelope);
        this.noteNothingReceived();
        const value = (envelope.message as Terminated).value;
        waiter.resolve(
          Unanswered({ address: watched, value, explanation: `${watched} ended or was lost` }),
        );
        return true;
      }
      default:
        this.deadLetter(envelope, 'unmatched');
        return false;
    }
  }

  #settle(waiter: Waiter): void {
    this.#waiter = undefined;
    if (waiter.timer !== undefined) this.core.clock.clearTimeout(waiter.timer);
    if (waiter.guard !== undefined) waiter.guard.removeAskGuard(waiter.correlation);
    const watched = waiter.watched;
    if (watched !== undefined) {
      waiter.watched = undefined;
      if (!this.isWatching(watched) && !this.ended)
        this.core.post(watched, Unwatch(), this.address, this);
    }
  }

  process(budget: number): number {
    let n = 0;
    while (this.#waiter !== undefined && n < budget) {
      const envelope = this.nextQueued();
      if (envelope === undefined) break;
      n++;
      if (this.#offer(this.#waiter, envelope)) break;
    }
    if (this.#waiter !== undefined && this.queued > 0) this.core.scheduler.schedule(this);
    return n;
  }

  override receive(...args: unknown[]): Promise<any> {
    // The common receive (types only) passes its arguments on as they are: no allocation.
    const options = trailingOptions(args);
    if (options === undefined)
      return this.#wait(args as Matcher[], NO_OPTIONS, undefined, undefined);
    return this.#wait(args.slice(0, -1) as Matcher[], options, undefined, undefined);
  }

  /**
   * Waits for a message. For an ask (`to` and `request` given) the request is sent once the
   * waiter is in place, and the answer is the envelope carrying its correlation, or an
   * uncorrelated message of a matching type that arrives after the request (a sender that
   * used `send()` rather than `reply()`).
   */
  #wait(
    types: readonly Matcher[],
    options: ReceiveOptions,
    to: Address | undefined,
    request: AnyMessage | undefined,
  ): Promise<any> {
    if (this.#waiter !== undefined) {
      return Promise.reject(
        new RuntimeError(
          'HERALD_ERR_CONCURRENT_RECEIVE',
          `${this.name}: receive() called while another receive is waiting`,
        ),
      );
    }
    if (this.#aborting || this.ended) return Promise.reject(new ActorAborted());
    const asking = to !== undefined;
    // Saved messages come back first, in arrival order (not for an ask: what was saved
    // came before its request).
    const saved = this.#saved;
    if (!asking && saved !== undefined && saved.length > 0) {
      for (let i = 0; i < saved.length; i++) {
        const envelope = saved[i] as Envelope;
        if (matches(types, envelope.message.type)) {
          saved.splice(i, 1);
          this.noteReceived(envelope);
          return Promise.resolve(envelope.message);
        }
      }
    }
    const promise = new Promise<any>(capture);
    const resolve = captured.resolve;
    const waiter: Waiter = {
      types,
      save: options.save,
      resolve,
      reject: captured.reject,
      timer: undefined,
      correlation: asking ? this.core.nextCorrelation() : NO_CORRELATION,
      current: !asking,
      guard: undefined,
      watched: undefined,
    };
    captured.resolve = captured.reject = unset;
    // What follows ran inside the promise's executor: what it throws rejects the promise.
    try {
      this.#begin(waiter, resolve, options, to, request);
    } catch (error) {
      waiter.reject(error);
    }
    return promise;
  }

  /** Puts `waiter` in place, offers it what waited, sends an ask's request, arms the timer. */
  #begin(
    waiter: Waiter,
    resolve: (message: AnyMessage) => void,
    options: ReceiveOptions,
    to: Address | undefined,
    request: AnyMessage | undefined,
  ): void {
    this.#waiter = waiter;
    // Messages that arrived while the actor was busy are considered in order.
    while (this.#waiter === waiter) {
      const envelope = this.nextQueued();
      if (envelope === undefined) break;
      this.#offer(waiter, envelope);
    }
    if (this.#waiter !== waiter) return;
    if (to !== undefined) {
      waiter.current = true;
      if (to.hops.length >= RELAYED_HOPS && !this.isWatching(to)) {
        // Ahead of the request, so a loss after it is reported.
        waiter.watched = to;
        this.core.post(to, Watch(), this.address, this);
      }
      this.core.post(
        to,
        request as AnyMessage,
        this.address,
        this,
        waiter.correlation,
        options as AskOptions,
      );
      if (this.#waiter !== waiter) return;
      waiter.guard = this.core.guardAsk(this, to, waiter.correlation);
      if (this.#waiter !== waiter) return;
    }
    if (options.timeout !== undefined) {
      const after = options.timeout;
      waiter.timer = this.core.clock.setTimeout(() => {
        if (this.#waiter !== waiter) return;
        this.#settle(waiter);
        this.noteNothingReceived();
        resolve(TimedOut({ after, explanation: `no answer within ${after} ms` }));
      }, after);
    }
  }

  override ask(to: Address, message: AnyMessage, ...args: unknown[]): Promise<any> {
    const options = trailingOptions(args);
    if (options === undefined) return this.#wait(args as Matcher[], SAVE_ALL, to, message);
    return this.#wait(args.slice(0, -1) as Matcher[], { save: 'all', ...options }, to, message);
  }

  protected override onEnd(): void {
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#settle(waiter);
      waiter.reject(new ActorAborted());
    }
  }

  protected override dropSaved(): void {
    if (this.#saved === undefined) return;
    for (const envelope of this.#saved) this.leftover(envelope);
    this.#saved = undefined;
  }

  protected override interrupt(): void {
    this.abort();
  }

  protected override suspend(): void {
    const waiter = this.#waiter;
    if (waiter !== undefined) this.#settle(waiter);
    this.#aborting = false;
  }

  protected override resume(): void {
    const incarnation = this.#incarnation;
    if (incarnation !== undefined) this.start(incarnation.fn, incarnation.args);
  }

  /** Ends the actor at its next receive (runtime closing, parent ended). */
  abort(): void {
    if (this.ended) return;
    this.#aborting = true;
    const waiter = this.#waiter;
    if (waiter !== undefined) {
      this.#settle(waiter);
      waiter.reject(new ActorAborted());
    }
  }
}
