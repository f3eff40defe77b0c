/**
 * Actor cells: the runtime's record of a live actor. A cell *is* the actor's `Self`, so an
 * idle actor costs one object, its address and its mailbox.
 */
import { Address, type AnyMessage } from '@herald/codec';
import type { Logger } from 'pino';
import type { ArgsOf, Behavior, WithOptions } from './behavior.js';
import type { TimerHandle } from './clock.js';
import { Envelope, Mailbox, type DeadLetterReason } from './envelope.js';
import { RuntimeError } from './errors.js';
import { Completed, Stop, Terminated, Timer, Unwatch, Watch } from './messages.js';
import type { Runnable } from './scheduler.js';
import type { Self, TimerOptions } from './self.js';
import type { RuntimeCore } from './runtime.js';

/**
 * Messages that are never refused for capacity: control must always get through. These
 * are the runtime's and the net layer's own notices (`herald.*`: Stop, Completed,
 * Terminated, Accepted, Abandoned, Closed, Congested, ...), which a peer can never send
 * (docs/security.md). Relayed frames are the exception: they are a peer's traffic.
 */
function isControl(type: string): boolean {
  return type.startsWith('herald.') && type !== RELAY_TYPE;
}
const RELAY_TYPE = 'herald.Relay';

/** Lifecycle notices that are not worth a dead letter once their receiver has ended. */
const NOTICES = new Set<string>([Stop.type, Completed.type, Terminated.type]);

interface TimerEntry {
  handle: TimerHandle;
  envelope: Envelope;
  ms: number;
  repeat: boolean;
}

export abstract class Cell implements Self, Runnable {
  readonly address: Address;
  readonly name: string;
  readonly parentCell: Cell | undefined;
  readonly core: RuntimeCore;
  readonly capacity: number;
  scheduled = false;
  ended = false;
  returnAddress: Address;
  toAddress: Address;
  protected readonly mailbox = new Mailbox();

  /** Messages waiting in the mailbox. */
  get queued(): number {
    return this.mailbox.length;
  }
  #log: Logger | undefined;
  #children: Set<Cell> | undefined;
  #watchers: Map<string, Address> | undefined;
  #timers: Map<string, TimerEntry> | undefined;

  constructor(
    core: RuntimeCore,
    id: number,
    name: string,
    parent: Cell | undefined,
    capacity: number,
  ) {
    this.core = core;
    this.address = new Address([id]);
    this.name = name;
    this.parentCell = parent;
    this.capacity = capacity;
    this.returnAddress = this.address;
    this.toAddress = this.address;
    parent?.addChild(this);
  }

  get parent(): Address | undefined {
    return this.parentCell?.address;
  }

  get runtime() {
    return this.core.runtime;
  }

  get log(): Logger {
    if (this.#log === undefined) {
      this.#log = this.core.logger.child({ actor: this.address.toString(), name: this.name });
    }
    return this.#log;
  }

  /** The child logger if one was created (for level changes). */
  get existingLog(): Logger | undefined {
    return this.#log;
  }

  /** A short state label for logs (machine actors override). */
  stateLabel(): string | undefined {
    return undefined;
  }

  // ---- sending -------------------------------------------------------------------------

  send(to: Address, message: AnyMessage): boolean {
    return this.core.send(to, message, this.address, this);
  }

  reply(message: AnyMessage): boolean {
    return this.core.send(this.returnAddress, message, this.address, this);
  }

  forward(to: Address, message: AnyMessage, returnAddress: Address): boolean {
    return this.core.send(to, message, returnAddress, this);
  }

  spawn<B extends Behavior | WithOptions<Behavior>>(behavior: B, ...args: ArgsOf<B>): Address {
    return this.core.spawnCell(behavior, args, this).address;
  }

  stop(address: Address): void {
    this.send(address, Stop());
  }

  watch(address: Address): void {
    this.send(address, Watch());
  }

  unwatch(address: Address): void {
    this.send(address, Unwatch());
  }

  children(): Address[] {
    return this.#children === undefined ? [] : [...this.#children].map((c) => c.address);
  }

  addChild(child: Cell): void {
    (this.#children ??= new Set()).add(child);
  }

  removeChild(child: Cell): void {
    this.#children?.delete(child);
  }

  // ---- timers --------------------------------------------------------------------------

  startTimer(key: string, ms: number, options: TimerOptions = {}): void {
    if (this.ended) return;
    this.cancelTimer(key);
    const timers = (this.#timers ??= new Map());
    const envelope = new Envelope(this.address, this.address, options.message ?? Timer({ key }));
    const entry: TimerEntry = { handle: undefined, envelope, ms, repeat: options.repeat === true };
    // A fired one-shot entry stays in the table (without a handle) so that a later cancel
    // or restart can still pull its firing out of the mailbox.
    const fire = (): void => {
      if (timers.get(key) !== entry) return;
      entry.handle = entry.repeat ? this.core.clock.setTimeout(fire, entry.ms) : undefined;
      this.deliver(entry.envelope);
    };
    entry.handle = this.core.clock.setTimeout(fire, ms);
    timers.set(key, entry);
  }

  cancelTimer(key: string): void {
    const entry = this.#timers?.get(key);
    if (entry === undefined) {
      return;
    }
    this.#timers?.delete(key);
    if (entry.handle !== undefined) this.core.clock.clearTimeout(entry.handle);
    // A firing already queued must not surface after the cancel.
    this.mailbox.remove((e) => e === entry.envelope);
  }

  #cancelAllTimers(): void {
    if (this.#timers === undefined) return;
    for (const entry of this.#timers.values()) {
      if (entry.handle !== undefined) this.core.clock.clearTimeout(entry.handle);
    }
    this.#timers.clear();
  }

  // ---- delivery ------------------------------------------------------------------------

  /** Entry point for every message addressed to this actor. */
  deliver(envelope: Envelope): boolean {
    if (this.ended) {
      this.core.deadLetter(envelope, 'actor-ended');
      return false;
    }
    const type = envelope.message.type;
    // Watch/Unwatch addressed to this actor itself are the runtime's business; addressed
    // through it (a proxy, to a remote actor) they travel on like any message.
    if (type === Watch.type && envelope.to.isLocal) {
      (this.#watchers ??= new Map()).set(envelope.from.key, envelope.from);
      return true;
    }
    if (type === Unwatch.type && envelope.to.isLocal) {
      this.#watchers?.delete(envelope.from.key);
      return true;
    }
    if (this.core.debug) this.logReceived(envelope);
    return this.accept(envelope);
  }

  protected logReceived(envelope: Envelope): void {
    if (this.core.logDebug) {
      const state = this.stateLabel();
      this.log.debug(
        {
          from: envelope.from.toString(),
          type: envelope.message.type,
          ...(state === undefined ? {} : { state }),
        },
        'received',
      );
    }
    this.core.emit({
      kind: 'received',
      actor: this.address,
      name: this.name,
      from: envelope.from,
      messageType: envelope.message.type,
    });
  }

  /** Queues (or hands over) a delivered message. Subclasses decide how it is consumed. */
  protected abstract accept(envelope: Envelope): boolean;

  abstract process(budget: number): number;

  /** Pushes onto the mailbox, enforcing capacity; false (and a dead letter) when full. */
  protected enqueue(envelope: Envelope): boolean {
    if (this.mailbox.length >= this.capacity && !isControl(envelope.message.type)) {
      this.core.deadLetter(envelope, 'mailbox-full');
      return false;
    }
    this.mailbox.push(envelope);
    return true;
  }

  // ---- receive (function actors override) ---------------------------------------------

  receive(..._args: unknown[]): Promise<any> {
    return Promise.reject(
      new RuntimeError(
        'HERALD_ERR_RECEIVE_OUTSIDE_ACTOR',
        `${this.name}: receive() is only available to function actors`,
      ),
    );
  }

  ask(to: Address, message: AnyMessage, ...args: unknown[]): Promise<any> {
    void to;
    void message;
    return this.receive(...args);
  }

  complete(value?: unknown): void {
    this.end(value);
  }

  // ---- ending --------------------------------------------------------------------------

  /** Ends the actor with `value`: children stopped, parent and watchers told, leftovers dead-lettered. */
  end(value: unknown): void {
    if (this.ended) return;
    this.ended = true;
    this.#cancelAllTimers();
    this.onEnd(value);
    this.core.unregister(this);
    if (this.#children !== undefined) {
      for (const child of this.#children)
        if (!child.ended) this.core.send(child.address, Stop(), this.address, this);
    }
    for (const envelope of this.mailbox.drain()) this.leftover(envelope);
    this.dropSaved();
    if (this.parentCell !== undefined) {
      this.parentCell.removeChild(this);
      if (!this.parentCell.ended)
        this.core.send(this.parentCell.address, Completed({ value }), this.address, this);
    }
    if (this.#watchers !== undefined) {
      for (const watcher of this.#watchers.values()) {
        this.core.send(watcher, Terminated({ address: this.address, value }), this.address, this);
      }
    }
    this.core.ended(this, value);
  }

  /** Hook for subclasses: release their own resources. */
  protected onEnd(_value: unknown): void {}

  /** Hook for subclasses holding saved messages. */
  protected dropSaved(): void {}

  protected leftover(envelope: Envelope): void {
    // Lifecycle notices to an actor that has ended have nobody left to act on them.
    if (NOTICES.has(envelope.message.type)) return;
    this.core.deadLetter(envelope, 'actor-ended');
  }

  protected deadLetter(envelope: Envelope, reason: DeadLetterReason): void {
    this.core.deadLetter(envelope, reason);
  }
}

// ---- queued actors (handlers, machines) ------------------------------------------------

/**
 * An actor that takes its messages one at a time from the mailbox, on the scheduler's
 * turn. Subclasses say what one message does; an exception ends the actor with a fault.
 */
export abstract class QueuedCell extends Cell {
  protected accept(envelope: Envelope): boolean {
    if (!this.enqueue(envelope)) return false;
    this.core.scheduler.schedule(this);
    return true;
  }

  /** Handles one message; `returnAddress`/`toAddress` are already set. */
  protected abstract handle(envelope: Envelope): void;

  process(budget: number): number {
    let n = 0;
    while (!this.ended && n < budget) {
      const envelope = this.mailbox.shift();
      if (envelope === undefined) break;
      n++;
      this.returnAddress = envelope.from;
      this.toAddress = envelope.to;
      try {
        this.handle(envelope);
      } catch (error) {
        this.end(this.core.faultFromError(this, error));
      }
    }
    if (!this.ended && this.mailbox.length > 0) this.core.scheduler.schedule(this);
    return n;
  }
}
