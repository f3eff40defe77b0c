/**
 * Group members: the actors a group manager starts, one per table entry, each keeping one
 * address available (docs/groups.md, "The member contract").
 *
 * A member kind is an object `{ kind, create(context) }`. The manager spawns
 * `create(context)` as its child (with no arguments: the behavior closes over `context`).
 * The member actor then:
 * - sends `UseAddress{ address }` to the manager (`context.manager`, also its parent)
 *   whenever it can be reached, and `NoAddress{}` as soon as it cannot;
 * - completes only when it gives up for good, with a value or a fault (`Exhausted` when its
 *   retries ran out); any completion ends the whole group with that value;
 * - ends on Stop (the manager stops its members when the group ends).
 *
 * Two kinds are built in: {@link connectTo} (keeps a connection to a server) and
 * {@link listenAt} (keeps a listening socket). Later kinds (service subscriptions) plug in
 * the same way.
 */
import type {
  Address,
  AnyMessage,
  Behavior,
  Envelope,
  Handler,
  Self,
  WithOptions,
} from '@herald/runtime';
import { Aborted, Exhausted, Timer } from '@herald/runtime';
import { close, connect, listen } from '../api.js';
import { checkConnect, checkListen } from '../option-checks.js';
import {
  Abandoned,
  Accepted,
  Closed,
  Congested,
  Connected,
  Drained,
  Listening,
  NotConnected,
  NotListening,
  type HostPort,
} from '../messages.js';
import type { ConnectAddress, ConnectOptions, ListenAddress, ListenOptions } from '../options.js';
import {
  Backoff,
  backoffFor,
  DEFAULT_LISTEN_RETRY,
  validateBackoffPolicy,
  type BackoffPolicy,
} from './backoff.js';
import { DEFAULT_GROUP_BUFFER_LIMIT } from './constants.js';
import { BadGroupError } from './errors.js';
import {
  NoAddress,
  NOT_DELIVERED_BUFFER_FULL,
  NOT_DELIVERED_MEMBER_ENDED,
  NotDelivered,
  UseAddress,
} from './messages.js';
import { scopeOf } from './scope.js';

/** What a member actor is told about its place in the group. */
export interface MemberContext {
  /** The member's name in the table (`server` in `groupTable({ server: ... })`). */
  readonly name: string;
  /** The group manager: UseAddress and NoAddress go here. Also the member's parent. */
  readonly manager: Address;
  /** The actor that created the group (the receiver of GroupUpdate, Ready, NotReady). */
  readonly owner: Address;
}

/** A kind of group member: see the module comment for the contract its actor follows. */
export interface GroupMember<K extends string = string> {
  /** What kind of member this is (`'connect-to'`, `'listen-at'`, ...), for logs. */
  readonly kind: K;
  /** Where it points, for logs (`127.0.0.1:32011`). */
  readonly target: string;
  /** The member actor's behavior; spawned as a child of the manager with no arguments. */
  create(context: MemberContext): Behavior | WithOptions<Behavior>;
}

// ---- connect-to ------------------------------------------------------------------------

/** Options of a connect-to member: connect() options plus how to retry and buffer. */
export interface ConnectToOptions extends ConnectOptions {
  /**
   * Delays between attempts. Default: by the scope of `host` (`backoffFor(scopeOf(host))`):
   * loopback 2, 4, then 8 s; private 4, 8, then 16 s; public 8, 16, 32, then 64 s; each with
   * up to +50 % jitter, forever. With `stepLimit` the member gives up with Exhausted.
   */
  readonly backoff?: BackoffPolicy;
  /**
   * Messages held while disconnected and delivered on reconnect. Beyond it each message is
   * answered with NotDelivered. 0 fails fast. Default DEFAULT_GROUP_BUFFER_LIMIT (1,000).
   */
  readonly bufferLimit?: number;
  /**
   * How long a connection must stay up before the backoff starts again from its first step.
   * Until then a drop continues the schedule where it was, so a peer that accepts and closes
   * at once costs one attempt per step. Default: the policy's first delay.
   */
  readonly stableAfterMs?: number;
}

/** Keeps a connection to `at` and reconnects with backoff. Its address is stable: see docs/groups.md. */
export function connectTo(
  at: ConnectAddress,
  options: ConnectToOptions = {},
): GroupMember<'connect-to'> {
  if (!Number.isInteger(at.port) || at.port < 1 || at.port > 65535) {
    throw new BadGroupError(
      'port',
      `connectTo: port must be an integer in 1-65535, got ${String(at.port)}`,
    );
  }
  const policy = options.backoff ?? backoffFor(scopeOf(at.host));
  validateBackoffPolicy(policy);
  const bufferLimit = options.bufferLimit ?? DEFAULT_GROUP_BUFFER_LIMIT;
  requireCount('bufferLimit', bufferLimit);
  const stableAfterMs = options.stableAfterMs ?? policy.steps[0] ?? policy.regular;
  requireCount('stableAfterMs', stableAfterMs);
  const { backoff: _b, bufferLimit: _l, stableAfterMs: _s, ...connectOptions } = options;
  // The connect() options are checked here, when the table is declared, not at each retry.
  checkConnect(at, connectOptions);
  const settings: ConnectToSettings = { at, policy, bufferLimit, stableAfterMs, connectOptions };
  return {
    kind: 'connect-to',
    target: `${at.host}:${at.port}`,
    create: (context) => new ConnectToMember(context, settings),
  };
}

interface ConnectToSettings {
  readonly at: ConnectAddress;
  readonly policy: BackoffPolicy;
  readonly bufferLimit: number;
  readonly stableAfterMs: number;
  readonly connectOptions: ConnectOptions;
}

const RETRY_TIMER = 'group.retry';
/** How many of a member's latest connections it recognises as its own (late messages). */
const RECENT_CONNECTIONS = 4;
const STABLE_TIMER = 'group.stable';

type ConnectState = 'connecting' | 'connected' | 'waiting' | 'ended';

/**
 * The connect-to member actor. Its own address is what it reports: messages sent to it are
 * forwarded (with their return address) to the current SocketProxy while connected, and
 * held, up to `bufferLimit`, while not.
 */
class ConnectToMember implements Handler {
  readonly name: string;
  readonly #context: MemberContext;
  readonly #settings: ConnectToSettings;
  #self!: Self;
  #backoff!: Backoff;
  #state: ConnectState = 'waiting';
  #proxy: Address | undefined;
  #attempts = 0;
  #buffer: Envelope[] = [];

  constructor(context: MemberContext, settings: ConnectToSettings) {
    this.name = `group.${context.name}`;
    this.#context = context;
    this.#settings = settings;
  }

  start(self: Self): void {
    this.#self = self;
    this.#backoff = new Backoff(this.#settings.policy, self.runtime.random);
    this.#attempt();
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    const fromProxy = this.#proxy !== undefined && envelope.from.equals(this.#proxy);
    if (Timer.is(message) && envelope.from.equals(self.address)) {
      if (message.key === RETRY_TIMER && this.#state === 'waiting') this.#attempt();
      else if (message.key === STABLE_TIMER && this.#state === 'connected') {
        self.log.debug({ member: this.#context.name }, 'connection stable: backoff reset');
        this.#backoff.reset();
      }
      return;
    }
    if (Connected.is(message) && this.#proxy !== undefined && message.remote.equals(this.#proxy)) {
      this.#connected(message);
      return;
    }
    if (fromProxy && NotConnected.is(message)) {
      this.#lost(message.reason, false);
      return;
    }
    if (fromProxy && (Abandoned.is(message) || Closed.is(message))) {
      this.#lost(message.reason, true);
      return;
    }
    if (fromProxy && (Congested.is(message) || Drained.is(message))) {
      self.forward(this.#context.owner, message, envelope.from);
      return;
    }
    if (this.#cameOverOurConnection(envelope.from)) {
      // Sent by the server to this connection's default target (the member): it is for the
      // owner. The return address still leads to the server, so the owner can answer.
      self.forward(this.#context.owner, message, envelope.from);
      return;
    }
    this.#deliver(envelope);
  }

  /** Proxies of this member's recent connections (messages from them may still be in flight). */
  #connections: number[] = [];

  /** True when `from` leads back through a connection this member made. */
  #cameOverOurConnection(from: Address): boolean {
    return !from.isLocal && this.#connections.includes(from.local);
  }

  onStop(self: Self): void {
    self.complete(Aborted());
  }

  end(self: Self): void {
    this.#state = 'ended';
    if (this.#proxy !== undefined && self.runtime.isAlive(this.#proxy)) close(self, this.#proxy);
    this.#proxy = undefined;
    for (const envelope of this.#buffer.splice(0))
      this.#notDelivered(envelope, NOT_DELIVERED_MEMBER_ENDED);
  }

  #attempt(): void {
    this.#attempts++;
    this.#state = 'connecting';
    const { at, connectOptions } = this.#settings;
    this.#self.log.debug(
      { member: this.#context.name, attempt: this.#attempts, host: at.host, port: at.port },
      'connecting',
    );
    this.#proxy = connect(this.#self, at, connectOptions);
    this.#connections.push(this.#proxy.local);
    if (this.#connections.length > RECENT_CONNECTIONS) this.#connections.shift();
  }

  #connected(message: Connected): void {
    const self = this.#self;
    this.#state = 'connected';
    self.log.info(
      { member: this.#context.name, peer: message.peer, attempts: this.#attempts },
      'member connected',
    );
    self.send(
      this.#context.manager,
      UseAddress({ address: self.address, remote: message.remote, endpoint: message.peer }),
    );
    for (const envelope of this.#buffer.splice(0))
      self.forward(message.remote, envelope.message, envelope.from);
    self.startTimer(STABLE_TIMER, this.#settings.stableAfterMs);
  }

  /** The attempt failed, or the connection ended: wait the next backoff step, or give up. */
  #lost(reason: string, wasOpen: boolean): void {
    const self = this.#self;
    self.cancelTimer(STABLE_TIMER);
    const wasConnected = this.#state === 'connected';
    this.#state = 'waiting';
    this.#proxy = undefined;
    if (wasConnected) self.send(this.#context.manager, NoAddress({ reason }));
    const delay = this.#backoff.next();
    const { at } = this.#settings;
    if (delay === undefined) {
      self.log.warn(
        { member: this.#context.name, attempts: this.#attempts, reason },
        'member gave up',
      );
      self.complete(
        Exhausted({
          attempts: this.#attempts,
          explanation: `group member ${this.#context.name}: gave up on ${at.host}:${at.port} after ${this.#attempts} attempts (last: ${reason})`,
        }),
      );
      return;
    }
    self.log.info(
      { member: this.#context.name, reason, delayMs: delay, established: wasOpen },
      'member retrying',
    );
    self.startTimer(RETRY_TIMER, delay);
  }

  #deliver(envelope: Envelope): void {
    const self = this.#self;
    if (this.#state === 'connected' && this.#proxy !== undefined) {
      self.forward(this.#proxy, envelope.message, envelope.from);
    } else if (this.#buffer.length < this.#settings.bufferLimit) {
      this.#buffer.push(envelope);
    } else {
      this.#notDelivered(envelope, NOT_DELIVERED_BUFFER_FULL);
    }
  }

  #notDelivered(envelope: Envelope, reason: string): void {
    notDelivered(this.#self, this.#context.name, envelope, reason);
  }
}

/**
 * Reports `envelope` as a dead letter (reason not-delivered) and answers its sender with
 * NotDelivered, unless the sender is nobody or the message is itself a NotDelivered.
 */
function notDelivered(self: Self, member: string, envelope: Envelope, reason: string): void {
  const { message, from } = envelope;
  self.runtime.reportDeadLetter({
    to: envelope.to,
    from,
    message,
    reason: 'not-delivered',
    detail: `group member ${member}: ${reason}`,
  });
  if (NotDelivered.is(message) || from.local === 0 || from.equals(self.address)) return;
  self.send(
    from,
    NotDelivered({
      reason,
      messageType: message.type,
      member,
      explanation: `group member ${member} could not deliver ${message.type}: ${reason}`,
    }),
  );
}

// ---- listen-at -------------------------------------------------------------------------

/** Options of a listen-at member: listen() options plus how to retry a failed listen. */
export interface ListenAtOptions extends ListenOptions {
  /** Delays between listen attempts. Default DEFAULT_LISTEN_RETRY (every 4 s, forever). */
  readonly backoff?: BackoffPolicy;
}

/**
 * Keeps a listening socket at `at`, retrying a failed listen (address in use) with backoff.
 * The member reports its own address once listening; everything that reaches it
 * (Accepted, Closed, Abandoned, Congested, Drained and the clients' messages) is forwarded
 * to the group's owner with its original return address, so `self.reply()` answers the client.
 */
export function listenAt(
  at: ListenAddress,
  options: ListenAtOptions = {},
): GroupMember<'listen-at'> {
  const policy = options.backoff ?? DEFAULT_LISTEN_RETRY;
  validateBackoffPolicy(policy);
  const { backoff: _b, ...listenOptions } = options;
  checkListen(at, listenOptions);
  return {
    kind: 'listen-at',
    target: `${at.host ?? '127.0.0.1'}:${at.port}`,
    create: (context) => new ListenAtMember(context, at, policy, listenOptions),
  };
}

class ListenAtMember implements Handler {
  readonly name: string;
  readonly #context: MemberContext;
  readonly #at: ListenAddress;
  readonly #policy: BackoffPolicy;
  readonly #options: ListenOptions;
  #self!: Self;
  #backoff!: Backoff;
  #listener: Address | undefined;
  #listening: HostPort | undefined;
  #attempts = 0;

  constructor(
    context: MemberContext,
    at: ListenAddress,
    policy: BackoffPolicy,
    options: ListenOptions,
  ) {
    this.name = `group.${context.name}`;
    this.#context = context;
    this.#at = at;
    this.#policy = policy;
    this.#options = options;
  }

  start(self: Self): void {
    this.#self = self;
    this.#backoff = new Backoff(this.#policy, self.runtime.random);
    this.#attempt();
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    if (Timer.is(message) && envelope.from.equals(self.address)) {
      if (this.#listener === undefined) this.#attempt();
      return;
    }
    const fromListener = this.#listener !== undefined && envelope.from.equals(this.#listener);
    if (fromListener && Listening.is(message)) {
      this.#listening = message.listening;
      this.#backoff.reset();
      self.send(
        this.#context.manager,
        UseAddress({
          address: self.address,
          remote: message.listener,
          endpoint: message.listening,
        }),
      );
      return;
    }
    if (fromListener && NotListening.is(message)) {
      this.#failed(message.explanation);
      return;
    }
    if (
      Accepted.is(message) ||
      Closed.is(message) ||
      Abandoned.is(message) ||
      Congested.is(message) ||
      Drained.is(message) ||
      !envelope.from.equals(self.address)
    ) {
      self.forward(this.#context.owner, message, envelope.from);
    }
  }

  onStop(self: Self): void {
    self.complete(Aborted());
  }

  end(self: Self): void {
    if (this.#listener !== undefined && self.runtime.isAlive(this.#listener))
      self.stop(this.#listener);
    this.#listener = undefined;
  }

  #attempt(): void {
    this.#attempts++;
    this.#listener = listen(this.#self, this.#at, this.#options);
  }

  #failed(explanation: string): void {
    const self = this.#self;
    this.#listener = undefined;
    if (this.#listening !== undefined) {
      this.#listening = undefined;
      self.send(this.#context.manager, NoAddress({ reason: explanation }));
    }
    const delay = this.#backoff.next();
    if (delay === undefined) {
      self.complete(
        Exhausted({
          attempts: this.#attempts,
          explanation: `group member ${this.#context.name}: gave up listening after ${this.#attempts} attempts (last: ${explanation})`,
        }),
      );
      return;
    }
    self.log.warn({ member: this.#context.name, delayMs: delay }, `listen failed: ${explanation}`);
    self.startTimer(RETRY_TIMER, delay);
  }
}

function requireCount(field: string, value: number): void {
  if (!Number.isSafeInteger(value) || value < 0) {
    throw new BadGroupError(
      field,
      `group member: ${field} must be a non-negative integer, got ${String(value)}`,
    );
  }
}
