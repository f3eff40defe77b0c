/**
 * Function actors: an async function that takes its messages with `await self.receive()`.
 *
 * Unlike handler and machine actors, nothing here is queued for a callback: a message is
 * handed straight to the pending receive when one waits (and the scheduler allows), saved
 * for a later receive when the receive asked for that, or turned into a dead letter. A Stop
 * that no receive matches rejects the receive with ActorAborted, which ends the function.
 */
import type { Address, AnyMessage } from '@herald/codec';
import { Cell } from './cell.js';
import type { TimerHandle } from './clock.js';
import type { Envelope } from './envelope.js';
import { ActorAborted, RuntimeError } from './errors.js';
import { Stop, TimedOut } from './messages.js';
import { microtask } from './scheduler.js';
import type { Matcher, ReceiveOptions, Self } from './self.js';

const CLASS_MATCH = 0;
const CLASS_SAVE = 1;
const CLASS_STOP = 2;
const CLASS_DEAD = 3;

interface Waiter {
  readonly types: readonly Matcher[];
  readonly save: readonly Matcher[] | 'all' | undefined;
  readonly resolve: (message: AnyMessage) => void;
  readonly reject: (error: unknown) => void;
  timer: TimerHandle | undefined;
}

function matches(types: readonly Matcher[], type: string): boolean {
  for (let i = 0; i < types.length; i++) {
    const t = (types[i] as Matcher).type;
    if (t === type || t === '*') return true;
  }
  return false;
}

function classify(waiter: Waiter, type: string): number {
  if (matches(waiter.types, type)) return CLASS_MATCH;
  const save = waiter.save;
  if (save !== undefined) {
    if (save === 'all') {
      if (type !== Stop.type) return CLASS_SAVE;
    } else if (matches(save, type)) return CLASS_SAVE;
  }
  return type === Stop.type ? CLASS_STOP : CLASS_DEAD;
}

function splitArgs(args: readonly unknown[]): { types: Matcher[]; options: ReceiveOptions } {
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && last !== null && !('type' in last)) {
    return { types: args.slice(0, -1) as Matcher[], options: last as ReceiveOptions };
  }
  return { types: args as Matcher[], options: {} };
}

export class FunctionCell extends Cell {
  #waiter: Waiter | undefined;
  #saved: Envelope[] | undefined;
  #aborting = false;

  start(fn: (self: Self, ...args: any[]) => unknown, args: readonly unknown[]): void {
    microtask(() => {
      let result: unknown;
      try {
        result = fn(this, ...args);
      } catch (error) {
        this.end(this.core.faultFromError(this, error));
        return;
      }
      if (result instanceof Promise) {
        result.then(
          (value) => this.end(value),
          (error: unknown) => this.end(this.core.faultFromError(this, error)),
        );
      } else {
        this.end(result);
      }
    });
  }

  protected accept(envelope: Envelope): boolean {
    const waiter = this.#waiter;
    if (waiter !== undefined && this.mailbox.length === 0 && this.core.scheduler.take()) {
      this.#offer(waiter, envelope);
      return true;
    }
    if (!this.enqueue(envelope)) return false;
    if (waiter !== undefined) this.core.scheduler.schedule(this);
    return true;
  }

  /** Hands one envelope to a waiting receive, or saves / dead-letters / aborts. */
  #offer(waiter: Waiter, envelope: Envelope): boolean {
    switch (classify(waiter, envelope.message.type)) {
      case CLASS_MATCH:
        this.#settle(waiter);
        this.returnAddress = envelope.from;
        this.toAddress = envelope.to;
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
      default:
        this.deadLetter(envelope, 'unmatched');
        return false;
    }
  }

  #settle(waiter: Waiter): void {
    this.#waiter = undefined;
    if (waiter.timer !== undefined) this.core.clock.clearTimeout(waiter.timer);
  }

  process(budget: number): number {
    let n = 0;
    while (this.#waiter !== undefined && n < budget) {
      const envelope = this.mailbox.shift();
      if (envelope === undefined) break;
      n++;
      if (this.#offer(this.#waiter, envelope)) break;
    }
    if (this.#waiter !== undefined && this.mailbox.length > 0) this.core.scheduler.schedule(this);
    return n;
  }

  override receive(...args: unknown[]): Promise<any> {
    if (this.#waiter !== undefined) {
      return Promise.reject(
        new RuntimeError(
          'HERALD_ERR_CONCURRENT_RECEIVE',
          `${this.name}: receive() called while another receive is waiting`,
        ),
      );
    }
    if (this.#aborting || this.ended) return Promise.reject(new ActorAborted());
    const { types, options } = splitArgs(args);
    // Saved messages come back first, in arrival order.
    const saved = this.#saved;
    if (saved !== undefined && saved.length > 0) {
      for (let i = 0; i < saved.length; i++) {
        const envelope = saved[i] as Envelope;
        if (matches(types, envelope.message.type)) {
          saved.splice(i, 1);
          this.returnAddress = envelope.from;
          this.toAddress = envelope.to;
          return Promise.resolve(envelope.message);
        }
      }
    }
    return new Promise((resolve, reject) => {
      const waiter: Waiter = { types, save: options.save, resolve, reject, timer: undefined };
      this.#waiter = waiter;
      // Messages that arrived while the actor was busy are considered in order.
      while (this.#waiter === waiter) {
        const envelope = this.mailbox.shift();
        if (envelope === undefined) break;
        this.#offer(waiter, envelope);
      }
      if (this.#waiter === waiter && options.timeout !== undefined) {
        const after = options.timeout;
        waiter.timer = this.core.clock.setTimeout(() => {
          if (this.#waiter !== waiter) return;
          this.#waiter = undefined;
          this.returnAddress = this.address;
          this.toAddress = this.address;
          resolve(TimedOut({ after, explanation: `no answer within ${after} ms` }));
        }, after);
      }
    });
  }

  override ask(to: Address, message: AnyMessage, ...args: unknown[]): Promise<any> {
    const { types, options } = splitArgs(args);
    this.send(to, message);
    return this.receive(...types, { save: 'all', ...options });
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
