/**
 * createRuntime(): one actor system. No global state: two runtimes in one process share
 * nothing (ids, clocks, loggers, dead letters and network resources are per runtime).
 */
import {
  Address,
  createCatalogue,
  type AnyMessage,
  type AnyMessageType,
  type Catalogue,
} from '@herald/codec';
import { StateMachine } from 'xstate';
import type { Logger } from 'pino';
import {
  unwrapBehavior,
  type ArgsOf,
  type Behavior,
  type Handler,
  type WithOptions,
} from './behavior.js';
import type { ActorKind, AskGuard, Cell } from './cell.js';
import { actorCreatedChannel, actorDestroyedChannel, deadLetterChannel } from './diagnostics.js';
import { FunctionCell } from './function-cell.js';
import { systemClock, type Clock } from './clock.js';
import {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAILBOX_CAPACITY,
  DEFAULT_TURN_BUDGET,
} from './constants.js';
import {
  Envelope,
  MAX_ASK_ID,
  NO_CORRELATION,
  PRIORITY_HIGH,
  PRIORITY_LOW,
  PRIORITY_NORMAL,
  requestCorrelation,
  typePriority,
  type PriorityLevel,
  type DeadLetter,
  type DeadLetterReason,
} from './envelope.js';
import { ActorAborted, RuntimeError } from './errors.js';
import { HandlerCell } from './handler-cell.js';
import { LogThrottle } from './log-throttle.js';
import type { InspectionEvent, InspectionListener } from './inspect.js';
import { createLogger, parseLogLevel, type LogLevel } from './logging.js';
import { MachineCell } from './machine-cell.js';
import {
  Aborted,
  Completed,
  Faulted,
  isFaulted,
  lifecycleMessages,
  Stop,
  Terminated,
  Unanswered,
  Watch,
  type TimedOut,
} from './messages.js';
import { Scheduler } from './scheduler.js';
import { Supervision } from './supervision.js';
import type { AskOptions, Matcher, MatchedBy, Self, SendOptions } from './self.js';
import { isTraceparent, type Tracing } from './tracing.js';

export interface RuntimeOptions {
  /** Shown in logs. */
  readonly name?: string;
  /** A pino logger; defaults to `createLogger(logLevel)` (stderr, JSON or pretty: logging.ts). */
  readonly logger?: Logger;
  /** Level for the default logger (ignored when `logger` is given). Default 'warn'. */
  readonly logLevel?: LogLevel | string;
  /** Time source for timers, timeouts, machine delays; TestClock in tests. */
  readonly clock?: Clock;
  /** Random source in [0, 1) (jitter); seeded in tests. */
  readonly random?: () => number;
  /** Default mailbox capacity per actor. */
  readonly mailboxCapacity?: number;
  /** Deliveries per event-loop turn before yielding to I/O. */
  readonly turnBudget?: number;
  /**
   * Message types this runtime can receive from the network (the lifecycle messages are
   * always included). More can be added later with `runtime.catalogue.add(...)`.
   */
  readonly messages?: readonly AnyMessageType[];
}

export type Unsubscribe = () => void;

/** Messages queued for an actor, and how many its mailbox holds. */
export interface MailboxLoad {
  readonly queued: number;
  readonly capacity: number;
}

/** One live actor, as `runtime.actors()` lists it (for management tools and inspectors). */
export interface ActorInfo {
  readonly address: Address;
  readonly name: string;
  /** Function, handler or xstate machine actor ('other': none of these). */
  readonly kind: ActorKind;
  /** The actor that spawned it; undefined for top-level actors. */
  readonly parent: Address | undefined;
  /** Messages waiting in its mailbox. */
  readonly mailbox: number;
  /** How many its mailbox holds. */
  readonly capacity: number;
  /** A machine actor's current state value (JSON-safe); absent for other kinds. */
  readonly state?: unknown;
}

/** The public face of a runtime. */
export interface Runtime {
  readonly name: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  /** The message types this runtime knows by name (for decoding what arrives from peers). */
  readonly catalogue: Catalogue;
  /** True once close() was called. */
  readonly closed: boolean;

  /** Starts a top-level actor and returns its address. */
  spawn<B extends Behavior | WithOptions<Behavior>>(behavior: B, ...args: ArgsOf<B>): Address;
  /** Starts a top-level actor and resolves with its completion value. */
  run<B extends Behavior | WithOptions<Behavior>>(
    behavior: B,
    ...args: ArgsOf<B>
  ): Promise<unknown>;
  /** Resolves with the completion value of a top-level actor. */
  completion(address: Address): Promise<unknown>;
  /**
   * Sends from outside any actor (the return address is `from`, or nobody), with a
   * priority and a trace if given (SendOptions).
   */
  send(to: Address, message: AnyMessage, from?: Address, options?: SendOptions): boolean;
  /**
   * Delivers an envelope as it is, return address and correlation kept (for transports:
   * a message that arrived from a peer). False when it became a dead letter here.
   */
  deliver(envelope: Envelope): boolean;
  /**
   * Sends and waits for a reply of one of `types`, from outside any actor: Unanswered when
   * the target ends (or its connection is lost) first, TimedOut after `options.timeout`.
   */
  ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    types: D,
    options?: AskOptions,
  ): Promise<MatchedBy<D[number]> | Unanswered | TimedOut>;
  /** Sends Stop. */
  stop(address: Address): void;
  isAlive(address: Address): boolean;
  /**
   * How full the mailbox of the actor that receives for `address` is (its last hop), or
   * undefined when there is no such actor. Transports use it to stop reading a peer before
   * its messages would overflow a mailbox.
   */
  mailboxLoad(address: Address): MailboxLoad | undefined;
  /** Number of live actors. */
  readonly size: number;
  /**
   * Every live actor, in creation order: a snapshot built on each call (nothing is kept
   * for it between calls), for management tools and inspectors.
   */
  actors(): readonly ActorInfo[];

  /**
   * Reports a message that could not be delivered (for transports: a connection that could
   * not carry it). It is counted, logged and shown to dead-letter observers.
   */
  reportDeadLetter(deadLetter: DeadLetter): void;
  /** Observes every dead letter. */
  onDeadLetter(listener: (deadLetter: DeadLetter) => void): Unsubscribe;
  /** Dead letters so far. */
  readonly deadLetterCount: number;
  /** Observes actor lifecycle and message events. */
  inspect(listener: InspectionListener): Unsubscribe;
  /**
   * Installs (or, with undefined, removes) the tracing hook: called each time an actor is
   * about to handle a message; sends made while handling carry the span it returns
   * (tracing.ts, docs/observability.md).
   */
  setTracing(tracing: Tracing | undefined): void;
  /** Changes the level of the runtime's logger and every actor's child logger. */
  setLogLevel(level: LogLevel | string): void;

  /** Registers cleanup that runs when the runtime closes (used by @herald/net for sockets). */
  onClose(hook: () => Promise<void> | void): Unsubscribe;
  /** Stops every actor (Stop, then abort after a bound) and runs close hooks. */
  close(options?: { timeoutMs?: number }): Promise<void>;
}

interface Deferred {
  promise: Promise<unknown>;
  resolve: (value: unknown) => void;
}

/** What cells need from their runtime. Internal. */
export interface RuntimeCore {
  readonly runtime: Runtime;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  /** Log or inspect per-message events. */
  readonly debug: boolean;
  readonly logDebug: boolean;
  /** A send from an actor (`sender`) or from outside (none): the one path every send takes. */
  post(
    to: Address,
    message: AnyMessage,
    from: Address,
    sender?: Cell,
    correlation?: number,
    options?: SendOptions,
  ): boolean;
  /** The tracing hook, if one is installed. */
  readonly tracing: Tracing | undefined;
  /** Whether any inspection listener is attached (machine actors forward xstate events). */
  readonly inspecting: boolean;
  /** A fresh request correlation for an ask. */
  nextCorrelation(): number;
  /**
   * Makes the ask with `correlation` end with Unanswered when the cell that receives for
   * `to` (the target, or the proxy of the connection it sits behind) ends first; at once
   * when there is no such cell. Returns the cell the guard is on.
   */
  guardAsk(asker: Cell, to: Address, correlation: number): Cell | undefined;
  spawnCell(
    behavior: Behavior | WithOptions<Behavior>,
    args: readonly unknown[],
    parent: Cell | undefined,
  ): Cell;
  deadLetter(envelope: Envelope, reason: DeadLetterReason, detail?: string): void;
  unregister(cell: Cell): void;
  ended(cell: Cell, value: unknown): void;
  emit(event: InspectionEvent): void;
  faultFromError(cell: Cell, error: unknown): unknown;
}

/** Dead-letter warnings: at most DEAD_LETTER_LOG_BURST lines per reason per interval. */
const DEAD_LETTER_LOG_INTERVAL_MS = 1_000;
const DEAD_LETTER_LOG_BURST = 20;

/** How many ended top-level actors keep their value for a late completion() call. */
const RECENT_COMPLETIONS = 1024;

/** Nobody: the return address of sends made from outside any actor. */
const NOBODY = new Address([0]);

class HeraldRuntime implements Runtime, RuntimeCore {
  readonly name: string;
  readonly clock: Clock;
  readonly random: () => number;
  readonly logger: Logger;
  readonly scheduler: Scheduler;
  readonly catalogue: Catalogue;
  readonly runtime: Runtime = this;
  readonly #capacity: number;
  #nextId = 1;
  #nextAsk = 0;
  #cells = new Map<number, Cell>();
  /**
   * Completions asked for (`completion()`, `run()`, `close()`) of live top-level actors,
   * made on first ask: an actor nobody awaits costs no promise (bench/README.md, runtime).
   */
  #completions = new Map<number, Deferred>();
  /** Values of recently ended top-level actors, so completion() works after the end too. */
  #recentlyEnded = new Map<number, unknown>();
  #deadLetterListeners: ((d: DeadLetter) => void)[] = [];
  #inspectors: InspectionListener[] = [];
  #closeHooks: (() => Promise<void> | void)[] = [];
  #deadLetters = 0;
  /**
   * Dead-letter warnings are rate limited per reason (a peer can cause many), counted and
   * summarized; every dead letter still reaches `onDeadLetter` and the inspection stream.
   */
  readonly #deadLetterLog: LogThrottle;
  #closed = false;
  #closing = false;
  debug = false;
  logDebug = false;
  tracing: Tracing | undefined = undefined;

  constructor(options: RuntimeOptions) {
    checkRuntimeOptions(options);
    this.name = options.name ?? 'herald';
    this.clock = options.clock ?? systemClock;
    this.random = options.random ?? Math.random;
    this.logger = (options.logger ?? createLogger(parseLogLevel(options.logLevel ?? 'warn'))).child(
      { runtime: this.name },
    );
    this.scheduler = new Scheduler(options.turnBudget ?? DEFAULT_TURN_BUDGET);
    this.catalogue = createCatalogue([...lifecycleMessages, ...(options.messages ?? [])]);
    this.#deadLetterLog = new LogThrottle(
      () => this.clock.now(),
      DEAD_LETTER_LOG_INTERVAL_MS,
      DEAD_LETTER_LOG_BURST,
    );
    this.#capacity = options.mailboxCapacity ?? DEFAULT_MAILBOX_CAPACITY;
    this.#refreshDebug();
  }

  get closed(): boolean {
    return this.#closed;
  }

  get size(): number {
    return this.#cells.size;
  }

  get inspecting(): boolean {
    return this.#inspectors.length > 0;
  }

  get deadLetterCount(): number {
    return this.#deadLetters;
  }

  #refreshDebug(): void {
    this.logDebug = this.logger.isLevelEnabled('debug');
    this.debug = this.logDebug || this.#inspectors.length > 0;
  }

  // ---- spawning ------------------------------------------------------------------------

  spawn<B extends Behavior | WithOptions<Behavior>>(behavior: B, ...args: ArgsOf<B>): Address {
    return this.spawnCell(behavior, args, undefined).address;
  }

  async run<B extends Behavior | WithOptions<Behavior>>(
    behavior: B,
    ...args: ArgsOf<B>
  ): Promise<unknown> {
    const address = this.spawn(behavior, ...args);
    return this.completion(address);
  }

  completion(address: Address): Promise<unknown> {
    const id = address.local;
    const deferred = this.#completions.get(id);
    if (deferred !== undefined) return deferred.promise;
    const cell = this.#cells.get(id);
    if (cell !== undefined && cell.parentCell === undefined && !cell.ended)
      return this.#completionOf(id).promise;
    if (this.#recentlyEnded.has(id)) return Promise.resolve(this.#recentlyEnded.get(id));
    return Promise.reject(
      new RuntimeError('HERALD_ERR_BAD_OPTION', `${address} is not a live top-level actor`),
    );
  }

  /** The completion of the live top-level actor `id`, made on first ask. */
  #completionOf(id: number): Deferred {
    let deferred = this.#completions.get(id);
    if (deferred === undefined) {
      let resolve!: (value: unknown) => void;
      const promise = new Promise<unknown>((r) => (resolve = r));
      deferred = { promise, resolve };
      this.#completions.set(id, deferred);
    }
    return deferred;
  }

  spawnCell(
    input: Behavior | WithOptions<Behavior>,
    args: readonly unknown[],
    parent: Cell | undefined,
  ): Cell {
    if (this.#closed)
      throw new RuntimeError('HERALD_ERR_RUNTIME_CLOSED', `runtime ${this.name} is closed`);
    const { behavior, options } = unwrapBehavior(input);
    // A bad supervision policy throws here, before anything is started.
    const supervision =
      options.supervision === undefined
        ? undefined
        : new Supervision(options.supervision, this.clock);
    const id = this.#nextId++;
    const capacity = options.capacity ?? this.#capacity;
    let cell: Cell;
    if (typeof behavior === 'function') {
      const c = new FunctionCell(
        this,
        id,
        options.name ?? (behavior.name || 'anonymous'),
        parent,
        capacity,
      );
      c.supervision = supervision;
      this.#register(c);
      c.start(behavior, args);
      cell = c;
    } else if (behavior instanceof StateMachine) {
      const c = new MachineCell(
        this,
        id,
        options.name ?? (behavior.id || 'machine'),
        parent,
        capacity,
      );
      c.supervision = supervision;
      this.#register(c);
      c.start(behavior, args[0]);
      cell = c;
    } else if (
      typeof behavior === 'object' &&
      behavior !== null &&
      typeof (behavior as Handler).receive === 'function'
    ) {
      const handler = behavior as Handler;
      const c = new HandlerCell(
        this,
        id,
        options.name ?? handler.name ?? 'handler',
        parent,
        capacity,
      );
      c.supervision = supervision;
      this.#register(c);
      c.start(handler);
      cell = c;
    } else {
      throw new RuntimeError(
        'HERALD_ERR_NOT_A_BEHAVIOR',
        'spawn() takes an async function, an xstate machine or a handler object',
      );
    }
    return cell;
  }

  #register(cell: Cell): void {
    this.#cells.set(cell.address.local, cell);
    if (this.debug) {
      if (this.logDebug) cell.log.debug({ parent: cell.parent?.toString() }, 'created');
      this.emit({ kind: 'created', actor: cell.address, name: cell.name, parent: cell.parent });
    }
    if (actorCreatedChannel.hasSubscribers)
      actorCreatedChannel.publish({
        runtime: this,
        actor: cell.address,
        name: cell.name,
        parent: cell.parent,
      });
  }

  // ---- messaging -----------------------------------------------------------------------

  send(to: Address, message: AnyMessage, from: Address = NOBODY, options?: SendOptions): boolean {
    return this.post(to, message, from, undefined, NO_CORRELATION, options);
  }

  post(
    to: Address,
    message: AnyMessage,
    from: Address = NOBODY,
    sender?: Cell,
    correlation: number = NO_CORRELATION,
    options?: SendOptions,
  ): boolean {
    if (this.debug && sender !== undefined) {
      if (this.logDebug) sender.log.debug({ to: to.toString(), type: message.type }, 'sent');
      this.emit({ kind: 'sent', actor: sender.address, to, messageType: message.type });
    }
    // The handling's trace goes along (propagation); options, then the type's declared
    // priority, decide the lane. Without either: one call that finds no declarations.
    let trace = sender === undefined ? undefined : sender.outTrace;
    let priority: PriorityLevel | undefined;
    if (options !== undefined) {
      if (options.priority !== undefined) priority = checkedPriority(options.priority);
      if (options.trace !== undefined) trace = checkedTrace(options.trace);
    }
    if (priority === undefined) priority = typePriority(message.type);
    return this.deliver(new Envelope(to, from, message, correlation, priority, trace));
  }

  setTracing(tracing: Tracing | undefined): void {
    if (tracing !== undefined && typeof tracing.received !== 'function')
      throw new RuntimeError('HERALD_ERR_BAD_OPTION', 'setTracing takes { received(event) }');
    this.tracing = tracing;
  }

  deliver(envelope: Envelope): boolean {
    const { to, from, message } = envelope;
    const cell = this.#cells.get(to.local);
    if (cell === undefined) {
      if (message.type === Watch.type) {
        // Watching an actor that does not exist: it has, in effect, already ended.
        this.send(
          from,
          Terminated({
            address: to,
            value: Faulted({ code: 'HERALD_NO_SUCH_ACTOR', explanation: `no actor at ${to}` }),
          }),
          to,
        );
        return true;
      }
      if (message.type === Completed.type || message.type === Terminated.type) {
        // A lifecycle notice to an actor that has itself ended: nobody is left to act on it.
        if (this.logDebug)
          this.logger.debug({ to: to.toString(), type: message.type }, 'notice to an ended actor');
        return false;
      }
      this.deadLetter(envelope, this.#closed ? 'runtime-closed' : 'no-such-actor');
      return false;
    }
    return cell.deliver(envelope);
  }

  nextCorrelation(): number {
    this.#nextAsk = this.#nextAsk >= MAX_ASK_ID ? 1 : this.#nextAsk + 1;
    return requestCorrelation(this.#nextAsk);
  }

  guardAsk(asker: Cell, to: Address, correlation: number): Cell | undefined {
    const target = this.#cells.get(to.local);
    if (target === undefined || target.ended) {
      asker.deliver(
        new Envelope(
          asker.address,
          to,
          Unanswered({
            address: to,
            value: Faulted({ code: 'HERALD_NO_SUCH_ACTOR', explanation: `no actor at ${to}` }),
            explanation: `no actor at ${to}`,
          }),
          correlation + 1,
        ),
      );
      return undefined;
    }
    const guard: AskGuard = { asker, to, correlation };
    target.addAskGuard(guard);
    return target;
  }

  async ask<const D extends readonly Matcher[]>(
    to: Address,
    message: AnyMessage,
    types: D,
    options: AskOptions = {},
  ): Promise<MatchedBy<D[number]> | Unanswered | TimedOut> {
    const asker = async (self: Self) => self.ask(to, message, ...types, options);
    return (await this.run(asker)) as MatchedBy<D[number]> | Unanswered | TimedOut;
  }

  stop(address: Address): void {
    this.send(address, Stop());
  }

  isAlive(address: Address): boolean {
    return address.isLocal && this.#cells.has(address.local);
  }

  actors(): readonly ActorInfo[] {
    const out: ActorInfo[] = [];
    for (const cell of this.#cells.values()) {
      const state = cell.stateValue();
      const info: ActorInfo = {
        address: cell.address,
        name: cell.name,
        kind: cell.kind,
        parent: cell.parent,
        mailbox: cell.queued,
        capacity: cell.capacity,
      };
      out.push(state === undefined ? info : { ...info, state });
    }
    return out;
  }

  mailboxLoad(address: Address): MailboxLoad | undefined {
    const cell = this.#cells.get(address.local);
    return cell === undefined ? undefined : { queued: cell.queued, capacity: cell.capacity };
  }

  // ---- dead letters, inspection, logging -----------------------------------------------

  deadLetter(envelope: Envelope, reason: DeadLetterReason, detail?: string): void {
    this.#deadLetters++;
    const deadLetter: DeadLetter =
      detail === undefined
        ? { to: envelope.to, from: envelope.from, message: envelope.message, reason }
        : { to: envelope.to, from: envelope.from, message: envelope.message, reason, detail };
    const fields = {
      to: envelope.to.toString(),
      from: envelope.from.toString(),
      type: envelope.message.type,
      reason,
      ...(detail === undefined ? {} : { detail }),
    };
    // While closing, actors stop in any order and notices between them cannot land:
    // still counted and observable, but not worth a warning.
    if (this.#closing) this.logger.debug(fields, 'dead letter');
    else this.#deadLetterLog.log(this.logger, 'warn', reason, fields, 'dead letter');
    for (const listener of this.#deadLetterListeners) listener(deadLetter);
    if (this.#inspectors.length > 0) this.emit({ kind: 'dead-letter', deadLetter });
    if (deadLetterChannel.hasSubscribers) deadLetterChannel.publish({ runtime: this, deadLetter });
  }

  reportDeadLetter(d: DeadLetter): void {
    this.deadLetter(new Envelope(d.to, d.from, d.message), d.reason, d.detail);
  }

  onDeadLetter(listener: (deadLetter: DeadLetter) => void): Unsubscribe {
    this.#deadLetterListeners = [...this.#deadLetterListeners, listener];
    return () => {
      this.#deadLetterListeners = this.#deadLetterListeners.filter((l) => l !== listener);
    };
  }

  inspect(listener: InspectionListener): Unsubscribe {
    this.#inspectors = [...this.#inspectors, listener];
    this.#refreshDebug();
    return () => {
      this.#inspectors = this.#inspectors.filter((l) => l !== listener);
      this.#refreshDebug();
    };
  }

  emit(event: InspectionEvent): void {
    for (const listener of this.#inspectors) {
      try {
        listener(event);
      } catch (error) {
        this.logger.error({ err: error }, 'inspection listener threw');
      }
    }
  }

  setLogLevel(level: LogLevel | string): void {
    const parsed = parseLogLevel(level);
    this.logger.level = parsed;
    for (const cell of this.#cells.values()) {
      const log = cell.existingLog;
      if (log !== undefined) log.level = parsed;
    }
    this.#refreshDebug();
  }

  faultFromError(cell: Cell, error: unknown): unknown {
    if (error instanceof ActorAborted) return Aborted();
    if (isFaulted(error)) return error;
    const explanation = error instanceof Error ? error.message : String(error);
    cell.log.error({ err: error }, 'actor threw');
    return Faulted({ code: 'HERALD_ACTOR_THREW', explanation });
  }

  // ---- ending --------------------------------------------------------------------------

  unregister(cell: Cell): void {
    this.#cells.delete(cell.address.local);
  }

  ended(cell: Cell, value: unknown): void {
    if (this.debug) {
      if (this.logDebug) {
        const fault = isFaulted(value) ? { fault: value.code } : {};
        cell.log.debug(fault, 'destroyed');
      }
      this.emit({ kind: 'destroyed', actor: cell.address, name: cell.name, value });
    }
    if (actorDestroyedChannel.hasSubscribers)
      actorDestroyedChannel.publish({ runtime: this, actor: cell.address, name: cell.name });
    if (cell.parentCell === undefined) {
      const id = cell.address.local;
      this.#recentlyEnded.set(id, value);
      if (this.#recentlyEnded.size > RECENT_COMPLETIONS) {
        this.#recentlyEnded.delete(this.#recentlyEnded.keys().next().value as number);
      }
      const top = this.#completions.get(id);
      if (top !== undefined) {
        this.#completions.delete(id);
        top.resolve(value);
      }
    }
  }

  onClose(hook: () => Promise<void> | void): Unsubscribe {
    this.#closeHooks.push(hook);
    return () => {
      this.#closeHooks = this.#closeHooks.filter((h) => h !== hook);
    };
  }

  #closePromise: Promise<void> | undefined;

  close(options: { timeoutMs?: number } = {}): Promise<void> {
    this.#closePromise ??= this.#close(options);
    return this.#closePromise;
  }

  async #close(options: { timeoutMs?: number }): Promise<void> {
    this.#closing = true;
    const timeoutMs = options.timeoutMs ?? DEFAULT_CLOSE_TIMEOUT_MS;
    // Ask every top-level actor to stop; their children follow.
    const top: number[] = [];
    for (const cell of this.#cells.values())
      if (cell.parentCell === undefined && !cell.ended) top.push(cell.address.local);
    const pending = top.map((id) => this.#completionOf(id).promise);
    for (const id of top) this.send(new Address([id]), Stop());
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      Promise.all(pending),
      // Not unref'd: close() was asked for and awaited, so the bound must be able to fire
      // even when nothing else keeps the process alive (an actor that ignores Stop).
      new Promise<void>((resolve) => {
        timer = setTimeout(resolve, timeoutMs);
      }),
    ]);
    if (timer !== undefined) clearTimeout(timer);
    this.#closed = true;
    // Whatever did not stop in time is ended now.
    for (const cell of [...this.#cells.values()]) {
      if (cell instanceof FunctionCell) cell.abort();
      cell.end(Aborted({ explanation: 'runtime closed' }));
    }
    for (const hook of this.#closeHooks.splice(0).reverse()) {
      try {
        await hook();
      } catch (error) {
        this.logger.error({ err: error }, 'close hook failed');
      }
    }
  }
}

/** A send's priority option, checked (a typo must not silently mean 'normal'). */
function checkedPriority(priority: unknown): PriorityLevel {
  if (priority === 'high') return PRIORITY_HIGH;
  if (priority === 'normal') return PRIORITY_NORMAL;
  if (priority === 'low') return PRIORITY_LOW;
  throw new RuntimeError(
    'HERALD_ERR_BAD_OPTION',
    `priority must be 'high', 'normal' or 'low', got ${String(priority)}`,
  );
}

/** A send's trace option, checked: only a valid W3C traceparent can cross the wire. */
function checkedTrace(trace: unknown): string {
  if (isTraceparent(trace)) return trace;
  throw new RuntimeError(
    'HERALD_ERR_BAD_OPTION',
    `trace must be a W3C traceparent (00-<32 hex>-<16 hex>-<2 hex>), got ${String(trace)}`,
  );
}

/** createRuntime()'s options are checked at the call: HERALD_ERR_BAD_OPTION, nothing started. */
function checkRuntimeOptions(options: RuntimeOptions): void {
  const bad = (message: string): never => {
    throw new RuntimeError('HERALD_ERR_BAD_OPTION', message);
  };
  const whole = (key: 'mailboxCapacity' | 'turnBudget', min: number): void => {
    const value = options[key];
    if (value !== undefined && (!Number.isSafeInteger(value) || value < min))
      bad(`${key} must be a whole number of at least ${min}, got ${String(value)}`);
  };
  whole('mailboxCapacity', 1);
  whole('turnBudget', 1);
  if (options.name !== undefined && typeof options.name !== 'string') bad('name must be a string');
  if (options.random !== undefined && typeof options.random !== 'function')
    bad('random must be a function returning numbers in [0, 1)');
  const clock = options.clock as unknown;
  if (
    clock !== undefined &&
    (typeof clock !== 'object' ||
      clock === null ||
      typeof (clock as { now?: unknown }).now !== 'function' ||
      typeof (clock as { setTimeout?: unknown }).setTimeout !== 'function')
  )
    bad('clock must implement now(), setTimeout() and clearTimeout()');
  if (options.messages !== undefined && !Array.isArray(options.messages))
    bad('messages must be an array of message types');
}

/** Creates an independent actor runtime. */
export function createRuntime(options: RuntimeOptions = {}): Runtime {
  return new HeraldRuntime(options);
}
