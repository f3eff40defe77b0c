/**
 * Actor cells: the runtime's record of a live actor. A cell *is* the actor's `Self`, so an
 * idle actor costs one object, its address and its mailbox.
 */
import { Address, type AnyMessage } from '@herald/codec';
import { declaredPriority } from '@herald/codec/internal';
import type { Logger } from 'pino';
import type { ArgsOf, Behavior, WithOptions } from './behavior.js';
import type { TimerHandle } from './clock.js';
import {
  answerCorrelation,
  Envelope,
  isAnswer,
  Mailbox,
  NO_CORRELATION,
  PRIORITY_HIGH,
  PRIORITY_NORMAL,
  type DeadLetterReason,
} from './envelope.js';
import { messageDeliveredChannel } from './diagnostics.js';
import { RuntimeError } from './errors.js';
import {
  Aborted,
  Completed,
  Faulted,
  isFaulted,
  Stop,
  TimedOut,
  Terminated,
  Timer,
  Unanswered,
  Unwatch,
  Watch,
} from './messages.js';
import type { Runnable } from './scheduler.js';
import type {
  AskOptions,
  Matcher,
  ReceiveOptions,
  Self,
  SendOptions,
  TimerOptions,
} from './self.js';
import type { TraceSpan } from './tracing.js';
import type { RestartInfo, Supervision } from './supervision.js';
import type { Fault } from './messages.js';
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

/**
 * Whether a message of `type` matches one of `types`. `Any` ('*') matches everything but
 * Stop: a catch-all loop must still end on Stop unless it lists Stop itself.
 */
export function matches(types: readonly Matcher[], type: string): boolean {
  for (let i = 0; i < types.length; i++) {
    const t = (types[i] as Matcher).type;
    if (t === type || (t === '*' && type !== Stop.type)) return true;
  }
  return false;
}

/**
 * The trailing options object of `receive`/`ask` arguments, if there is one (anything last
 * that is an object but not a matcher). No allocation.
 */
export function trailingOptions(args: readonly unknown[]): ReceiveOptions | undefined {
  const last = args[args.length - 1];
  return last !== undefined && typeof last === 'object' && last !== null && !('type' in last)
    ? (last as ReceiveOptions)
    : undefined;
}

/** Splits `receive`/`ask` arguments into the matchers and the trailing options object. */
export function splitArgs(args: readonly unknown[]): {
  types: Matcher[];
  options: ReceiveOptions;
} {
  const last = args[args.length - 1];
  if (last !== undefined && typeof last === 'object' && last !== null && !('type' in last)) {
    return { types: args.slice(0, -1) as Matcher[], options: last as ReceiveOptions };
  }
  return { types: args as Matcher[], options: {} };
}

const KEEP_HIGH: SendOptions = Object.freeze({ priority: 'high' });
const KEEP_LOW: SendOptions = Object.freeze({ priority: 'low' });

/**
 * The options that give an answer (or a forward) the priority of the message it answers
 * (or passes on), unless its own type declares one: an urgent request gets an urgent
 * answer. Undefined (nothing to do) for a normal one; no allocation either way.
 */
function samePriority(
  envelope: Envelope | undefined,
  message: AnyMessage,
): SendOptions | undefined {
  if (envelope === undefined || envelope.priority === PRIORITY_NORMAL) return undefined;
  if (declaredPriority(message.type) !== undefined) return undefined;
  return envelope.priority === PRIORITY_HIGH ? KEEP_HIGH : KEEP_LOW;
}

/** What `runtime.actors()` says an actor is. */
export type ActorKind = 'function' | 'handler' | 'machine' | 'other';

/** An ask waiting for its answer, registered on the target's cell (see Cell.end). */
export interface AskGuard {
  readonly asker: Cell;
  readonly to: Address;
  readonly correlation: number;
}

/** A pending ask of a handler or machine actor (they ask without blocking). */
interface PendingAsk {
  readonly types: readonly Matcher[];
  readonly resolve: (message: AnyMessage) => void;
  timer: TimerHandle | undefined;
  guard: Cell | undefined;
}

/**
 * Plain (non-request) messages `replyTo` can still answer: the last this many received.
 * Requests (asks) can be answered however long ago they came.
 */
const RECENT_RECEIVED = 8;

interface TimerEntry {
  handle: TimerHandle;
  envelope: Envelope;
  ms: number;
  repeat: boolean;
}

/**
 * What most actors never use (a logger, children, watchers, timers, asks, tracing spans,
 * restarts), kept out of the cell and made on first use: an idle actor's cell is then a
 * few fields, where one slot per feature cost 8 bytes each (bench/README.md, runtime).
 */
interface CellExtras {
  log: Logger | undefined;
  children: Set<Cell> | undefined;
  watchers: Map<string, Address> | undefined;
  timers: Map<string, TimerEntry> | undefined;
  watching: Set<string> | undefined;
  span: TraceSpan | undefined;
  requests: WeakMap<object, Envelope> | undefined;
  askGuards: Map<number, AskGuard> | undefined;
  asks: Map<number, PendingAsk> | undefined;
  restart: RestartInfo | undefined;
  restartRequested: boolean;
  restartTimer: TimerHandle | undefined;
}

function newExtras(): CellExtras {
  return {
    log: undefined,
    children: undefined,
    watchers: undefined,
    timers: undefined,
    watching: undefined,
    span: undefined,
    requests: undefined,
    askGuards: undefined,
    asks: undefined,
    restart: undefined,
    restartRequested: false,
    restartTimer: undefined,
  };
}

export abstract class Cell implements Self, Runnable {
  readonly address: Address;
  readonly name: string;
  readonly parentCell: Cell | undefined;
  readonly core: RuntimeCore;
  readonly capacity: number;
  scheduled = false;
  ended = false;

  /** Where `reply()` sends: the sender of the message received last (derived, no slot). */
  get returnAddress(): Address {
    const current = this.current;
    return current === undefined ? this.address : current.from;
  }

  /** The address the message received last was sent to (derived, no slot). */
  get toAddress(): Address {
    const current = this.current;
    return current === undefined ? this.address : current.to;
  }
  /** Made on first push: a function actor waiting in receive never needs one. */
  #mailbox: Mailbox | undefined;
  #extras: CellExtras | undefined;

  protected get mailbox(): Mailbox {
    return (this.#mailbox ??= new Mailbox());
  }

  /** Messages waiting in the mailbox. */
  get queued(): number {
    return this.#mailbox === undefined ? 0 : this.#mailbox.length;
  }

  /** The next envelope to serve, if any (without making a mailbox). */
  protected nextQueued(): Envelope | undefined {
    return this.#mailbox?.shift();
  }

  /** The rarely used state (see CellExtras), made on first use. */
  #more(): CellExtras {
    return (this.#extras ??= newExtras());
  }

  get #log(): Logger | undefined {
    return this.#extras?.log;
  }
  set #log(log: Logger | undefined) {
    this.#more().log = log;
  }
  get #children(): Set<Cell> | undefined {
    return this.#extras?.children;
  }
  set #children(children: Set<Cell> | undefined) {
    this.#more().children = children;
  }
  get #watchers(): Map<string, Address> | undefined {
    return this.#extras?.watchers;
  }
  set #watchers(watchers: Map<string, Address> | undefined) {
    this.#more().watchers = watchers;
  }
  get #timers(): Map<string, TimerEntry> | undefined {
    return this.#extras?.timers;
  }
  set #timers(timers: Map<string, TimerEntry> | undefined) {
    this.#more().timers = timers;
  }
  /** Addresses this actor watches by its own `watch()` (keys). */
  get #watching(): Set<string> | undefined {
    return this.#extras?.watching;
  }
  set #watching(watching: Set<string> | undefined) {
    this.#more().watching = watching;
  }
  /** The message being handled (or received last): what `reply()` answers. */
  current: Envelope | undefined;
  /**
   * The traceparent sends carry while this actor handles `current`: the message's own, or
   * the span the tracing hook opened for its handling (tracing.ts). Undefined: untraced.
   */
  outTrace: string | undefined;
  /** The tracing hook's span for the handling in progress. */
  get #span(): TraceSpan | undefined {
    return this.#extras?.span;
  }
  set #span(span: TraceSpan | undefined) {
    // Clearing an absent span must not make the extras.
    if (span !== undefined || this.#extras !== undefined) this.#more().span = span;
  }
  /**
   * Requests (asks) received → their envelopes, so `replyTo(request, ...)` answers the right
   * one however long ago it came. Only requests: a WeakMap entry per plain message costs the
   * garbage collector more than the delivery itself (ping-pong fell from 1.9M to 0.1M msg/s).
   */
  get #requests(): WeakMap<object, Envelope> | undefined {
    return this.#extras?.requests;
  }
  set #requests(requests: WeakMap<object, Envelope> | undefined) {
    this.#more().requests = requests;
  }
  /** The last RECENT_RECEIVED envelopes of any kind, for `replyTo` of a plain message. */
  #recent: (Envelope | undefined)[] | undefined;
  #recentNext = 0;
  /** Asks of other actors waiting on this one (by request correlation). */
  get #askGuards(): Map<number, AskGuard> | undefined {
    return this.#extras?.askGuards;
  }
  set #askGuards(guards: Map<number, AskGuard> | undefined) {
    this.#more().askGuards = guards;
  }
  /** This actor's own non-blocking asks (handler and machine actors). */
  get #asks(): Map<number, PendingAsk> | undefined {
    return this.#extras?.asks;
  }
  set #asks(asks: Map<number, PendingAsk> | undefined) {
    this.#more().asks = asks;
  }
  /** How its parent handles this actor's faults (spawn option `supervision`). */
  supervision: Supervision | undefined;
  /** Set on a restarted incarnation (see supervision.ts). */
  get restart(): RestartInfo | undefined {
    return this.#extras?.restart;
  }
  set restart(restart: RestartInfo | undefined) {
    this.#more().restart = restart;
  }
  /** Between a fault and the restart: messages wait in the mailbox. */
  restarting = false;
  get #restartRequested(): boolean {
    return this.#extras?.restartRequested === true;
  }
  set #restartRequested(requested: boolean) {
    this.#more().restartRequested = requested;
  }
  get #restartTimer(): TimerHandle | undefined {
    return this.#extras?.restartTimer;
  }
  set #restartTimer(timer: TimerHandle | undefined) {
    this.#more().restartTimer = timer;
  }

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

  /** What kind of behaviour runs here (for `runtime.actors()`). */
  get kind(): ActorKind {
    return 'other';
  }

  /** The behaviour's current state as a JSON-safe value, if it has one (machine actors). */
  stateValue(): unknown {
    return undefined;
  }

  // ---- sending -------------------------------------------------------------------------

  send(to: Address, message: AnyMessage, options?: SendOptions): boolean {
    return this.core.post(to, message, this.address, this, NO_CORRELATION, options);
  }

  reply(message: AnyMessage): boolean {
    const current = this.current;
    const correlation =
      current === undefined ? NO_CORRELATION : answerCorrelation(current.correlation);
    return this.core.post(
      current === undefined ? this.address : current.from,
      message,
      this.address,
      this,
      correlation,
      samePriority(current, message),
    );
  }

  replyTo(request: AnyMessage | Envelope, message: AnyMessage): boolean {
    const envelope = request instanceof Envelope ? request : this.#receivedEnvelope(request);
    if (envelope === undefined) {
      throw new RuntimeError(
        'HERALD_ERR_NOT_RECEIVED',
        `${this.name}: replyTo() takes a message this actor received (or its envelope)`,
      );
    }
    return this.core.post(
      envelope.from,
      message,
      this.address,
      this,
      answerCorrelation(envelope.correlation),
      samePriority(envelope, message),
    );
  }

  forward(to: Address, message: AnyMessage, returnAddress: Address): boolean {
    // Forwarded on behalf of the sender of a request being handled: the request keeps its
    // correlation, so whoever answers in the end answers the original ask.
    const current = this.current;
    const correlation =
      current !== undefined &&
      current.correlation !== NO_CORRELATION &&
      !isAnswer(current.correlation) &&
      current.from.equals(returnAddress)
        ? current.correlation
        : NO_CORRELATION;
    const options = current?.message === message ? samePriority(current, message) : undefined;
    return this.core.post(to, message, returnAddress, this, correlation, options);
  }

  /** Records `envelope` as the message being handled: `reply()` and `replyTo()` answer it. */
  noteReceived(envelope: Envelope): void {
    this.current = envelope;
    // Untraced and unhooked (the common case): one field copy.
    if (this.core.tracing === undefined && this.#span === undefined) this.outTrace = envelope.trace;
    else this.#traceHandling(envelope);
    const correlation = envelope.correlation;
    if (correlation !== NO_CORRELATION && !isAnswer(correlation))
      (this.#requests ??= new WeakMap()).set(envelope.message, envelope);
    else {
      const recent = (this.#recent ??= new Array<Envelope | undefined>(RECENT_RECEIVED));
      recent[this.#recentNext] = envelope;
      this.#recentNext = (this.#recentNext + 1) % RECENT_RECEIVED;
    }
  }

  /** Ends the previous handling's span and asks the hook for this one's. */
  #traceHandling(envelope: Envelope): void {
    this.endSpan(undefined);
    const tracing = this.core.tracing;
    let span: TraceSpan | undefined;
    if (tracing !== undefined) {
      try {
        span = tracing.received({
          actor: this.address,
          actorName: this.name,
          from: envelope.from,
          messageType: envelope.message.type,
          traceparent: envelope.trace,
        });
      } catch (error) {
        this.log.error({ err: error }, 'tracing hook threw');
      }
    }
    this.#span = span;
    this.outTrace = span === undefined ? envelope.trace : span.traceparent;
  }

  /** Ends the span of the handling in progress, if the hook made one. */
  endSpan(error: unknown): void {
    const span = this.#span;
    if (span === undefined) return;
    this.#span = undefined;
    try {
      if (error === undefined) span.end();
      else span.end(error);
    } catch (thrown) {
      this.log.error({ err: thrown }, 'tracing span end() threw');
    }
  }

  #receivedEnvelope(message: AnyMessage): Envelope | undefined {
    const request = this.#requests?.get(message);
    if (request !== undefined) return request;
    for (const envelope of this.#recent ?? []) if (envelope?.message === message) return envelope;
    return undefined;
  }

  /** Forgets the message being handled (a receive that timed out answers nobody). */
  noteNothingReceived(): void {
    this.current = undefined;
    this.outTrace = undefined;
    this.endSpan(undefined);
  }

  saveState(state: unknown): void {
    if (this.supervision !== undefined) this.supervision.state = state;
  }

  // ---- asks -----------------------------------------------------------------------------

  /**
   * Registers an ask of `asker` waiting on this actor: if this actor ends first, the asker
   * gets Unanswered at once (for a proxy: the connection the target sits behind is lost).
   */
  addAskGuard(guard: AskGuard): void {
    (this.#askGuards ??= new Map()).set(guard.correlation, guard);
  }

  removeAskGuard(correlation: number): void {
    this.#askGuards?.delete(correlation);
  }

  /**
   * A non-blocking ask (handler and machine actors): the promise settles with the answer,
   * TimedOut or Unanswered; meanwhile other messages are handled as usual. Function actors
   * override this with a blocking ask.
   */
  ask(to: Address, message: AnyMessage, ...args: unknown[]): Promise<any> {
    const { types, options } = splitArgs(args);
    return new Promise((resolve) => {
      const correlation = this.core.nextCorrelation();
      const pending: PendingAsk = { types, resolve, timer: undefined, guard: undefined };
      (this.#asks ??= new Map()).set(correlation, pending);
      this.core.post(to, message, this.address, this, correlation, options as AskOptions);
      if (this.#asks.get(correlation) !== pending) return;
      pending.guard = this.core.guardAsk(this, to, correlation);
      const after = options.timeout;
      if (after !== undefined && this.#asks.get(correlation) === pending) {
        pending.timer = this.core.clock.setTimeout(() => {
          if (this.#asks?.get(correlation) !== pending) return;
          this.#settleAsk(correlation, pending);
          resolve(TimedOut({ after, explanation: `no answer within ${after} ms` }));
        }, after);
      }
    });
  }

  #settleAsk(correlation: number, pending: PendingAsk): void {
    this.#asks?.delete(correlation);
    if (pending.timer !== undefined) this.core.clock.clearTimeout(pending.timer);
    pending.guard?.removeAskGuard(correlation);
  }

  /**
   * An answer for a non-blocking ask: resolves it when it is the answer of a pending ask,
   * else a `late-reply` dead letter. Always consumes the envelope.
   */
  protected takeAnswer(envelope: Envelope): boolean {
    const correlation = envelope.correlation - 1;
    const pending = this.#asks?.get(correlation);
    const type = envelope.message.type;
    if (pending === undefined) {
      // A loss notice for an ask already answered is no news.
      if (type !== Unanswered.type) this.core.deadLetter(envelope, 'late-reply');
      return false;
    }
    if (type !== Unanswered.type && !matches(pending.types, type)) {
      this.core.deadLetter(envelope, 'unmatched');
      return false;
    }
    this.#settleAsk(correlation, pending);
    pending.resolve(envelope.message);
    return true;
  }

  spawn<B extends Behavior | WithOptions<Behavior>>(behavior: B, ...args: ArgsOf<B>): Address {
    return this.core.spawnCell(behavior, args, this).address;
  }

  stop(address: Address): void {
    this.send(address, Stop());
  }

  watch(address: Address): void {
    (this.#watching ??= new Set()).add(address.key);
    this.send(address, Watch());
  }

  unwatch(address: Address): void {
    this.#watching?.delete(address.key);
    this.send(address, Unwatch());
  }

  /** Whether this actor itself watches `address` (an ask's own watch must not undo it). */
  isWatching(address: Address): boolean {
    return this.#watching?.has(address.key) === true;
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
    this.#mailbox?.remove((e) => e === entry.envelope);
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
    if (this.restarting && type === Stop.type && envelope.to.isLocal) {
      // Stopped while waiting to restart: there is no incarnation to ask, it just ends.
      this.end(Aborted());
      return true;
    }
    if (this.core.debug) this.logReceived(envelope);
    if (messageDeliveredChannel.hasSubscribers) this.#publishDelivered(envelope);
    return this.accept(envelope);
  }

  #publishDelivered(envelope: Envelope): void {
    messageDeliveredChannel.publish({
      runtime: this.core.runtime,
      actor: this.address,
      from: envelope.from,
      messageType: envelope.message.type,
      trace: envelope.trace,
    });
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

  complete(value?: unknown): void {
    this.end(value);
  }

  // ---- ending --------------------------------------------------------------------------

  /** Ends the actor with `value`: children stopped, parent and watchers told, leftovers dead-lettered. */
  end(value: unknown): void {
    if (this.ended) return;
    let escalate: Fault | undefined;
    const supervision = this.supervision;
    if (supervision !== undefined && !this.core.runtime.closed && this.parentCell?.ended !== true) {
      if (this.#restartRequested) {
        // A one-for-all sibling faulted: this incarnation was interrupted to restart too.
        this.#restartRequested = false;
        this.#beginRestart(Aborted({ explanation: 'restarted with a sibling' }), 0, false);
        return;
      }
      if (!this.restarting) {
        const decision = supervision.decide(value);
        if (decision.kind === 'restart') {
          this.#beginRestart(value as Fault, decision.delayMs, true);
          return;
        }
        if (decision.kind === 'escalate') escalate = decision.fault;
      }
    }
    this.ended = true;
    this.restarting = false;
    this.endSpan(isFaulted(value) ? value : undefined);
    if (this.#restartTimer !== undefined) this.core.clock.clearTimeout(this.#restartTimer);
    this.#cancelAllTimers();
    this.onEnd(value);
    this.core.unregister(this);
    if (this.#children !== undefined) {
      for (const child of this.#children)
        if (!child.ended) this.core.post(child.address, Stop(), this.address, this);
    }
    if (this.#mailbox !== undefined)
      for (const envelope of this.#mailbox.drain()) this.leftover(envelope);
    this.dropSaved();
    if (this.#asks !== undefined) {
      // Asks of an ended actor are over: nobody is left to take their answers.
      for (const [correlation, pending] of [...this.#asks]) this.#settleAsk(correlation, pending);
    }
    if (this.#askGuards !== undefined) {
      // Asks waiting on this actor will get no answer now: each asker is told at once.
      for (const guard of this.#askGuards.values()) {
        guard.asker.deliver(
          new Envelope(
            guard.asker.address,
            guard.to,
            Unanswered({
              address: guard.to,
              value,
              explanation: `${guard.to} ended before it answered`,
            }),
            guard.correlation + 1,
          ),
        );
      }
      this.#askGuards = undefined;
    }
    if (this.parentCell !== undefined) {
      this.parentCell.removeChild(this);
      if (!this.parentCell.ended)
        this.core.post(this.parentCell.address, Completed({ value }), this.address, this);
    }
    if (this.#watchers !== undefined) {
      // Remote watchers first: a proxy that watches this actor (its controller) closes its
      // connection on the notice, and notices for watchers behind it must be queued first.
      for (const local of [false, true]) {
        for (const watcher of this.#watchers.values()) {
          if (watcher.isLocal === local)
            this.core.post(
              watcher,
              Terminated({ address: this.address, value }),
              this.address,
              this,
            );
        }
      }
    }
    this.core.ended(this, value);
    const parent = this.parentCell;
    if (escalate !== undefined && parent !== undefined && !parent.ended) {
      parent.end(
        Faulted({
          code: 'HERALD_ESCALATED',
          explanation: `child ${this.name} ${this.address} faulted: ${escalate.explanation}`,
        }),
      );
    }
  }

  // ---- supervision ---------------------------------------------------------------------

  /**
   * Puts this actor between incarnations: timers cancelled, children stopped, the
   * behaviour's own cleanup run; then after `delayMs` the behaviour starts again at the
   * same address. One-for-all siblings are interrupted to restart with it.
   */
  #beginRestart(fault: Fault, delayMs: number, withSiblings: boolean): void {
    const supervision = this.supervision as Supervision;
    this.restarting = true;
    this.#cancelAllTimers();
    if (this.#children !== undefined) {
      for (const child of this.#children)
        if (!child.ended) this.core.post(child.address, Stop(), this.address, this);
    }
    this.suspend(fault);
    this.log.warn({ fault: fault.code, delayMs, restarts: supervision.count }, 'restarting');
    if (withSiblings && supervision.oneForAll && this.parentCell !== undefined) {
      for (const sibling of this.parentCell.#children ?? []) {
        if (sibling !== this && sibling.supervision?.oneForAll === true && !sibling.ended)
          sibling.requestRestart();
      }
    }
    const resume = (): void => {
      this.#restartTimer = undefined;
      if (this.ended) return;
      this.restarting = false;
      supervision.count++;
      this.restart = { count: supervision.count, fault, state: supervision.state };
      this.resume();
    };
    this.#restartTimer = this.core.clock.setTimeout(resume, delayMs);
  }

  /** Interrupts this incarnation so that it restarts (a one-for-all sibling faulted). */
  requestRestart(): void {
    if (this.restarting || this.ended) return;
    this.#restartRequested = true;
    this.interrupt();
  }

  /** Ends the current incarnation as soon as possible (function actors: at their receive). */
  protected interrupt(): void {
    this.end(Aborted({ explanation: 'restarted with a sibling' }));
  }

  /** Hook: release the current incarnation (its behaviour's cleanup). */
  protected suspend(_fault: Fault): void {}

  /** Hook: start the behaviour again (the same behaviour and arguments). */
  protected resume(): void {}

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
    // Answers to this actor go to the ask that waits for them, never into the mailbox;
    // answers addressed through it (a proxy, to a remote asker) travel on.
    if (isAnswer(envelope.correlation) && envelope.to.isLocal) return this.takeAnswer(envelope);
    if (!this.enqueue(envelope)) return false;
    this.core.scheduler.schedule(this);
    return true;
  }

  /** Handles one message; `returnAddress`/`toAddress` are already set. */
  protected abstract handle(envelope: Envelope): void;

  process(budget: number): number {
    let n = 0;
    while (!this.ended && !this.restarting && n < budget) {
      const envelope = this.nextQueued();
      if (envelope === undefined) break;
      n++;
      this.noteReceived(envelope);
      try {
        this.handle(envelope);
      } catch (error) {
        this.end(this.core.faultFromError(this, error));
      }
      // Handling is synchronous here: its span ends when it returns.
      this.endSpan(undefined);
    }
    if (!this.ended && !this.restarting && this.queued > 0) this.core.scheduler.schedule(this);
    return n;
  }

  /** After a restart, messages that waited are handled by the new incarnation. */
  protected scheduleWaiting(): void {
    if (this.queued > 0) this.core.scheduler.schedule(this);
  }
}
