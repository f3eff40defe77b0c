/**
 * An outlet: one place to send from when the destination is a set of peers rather than one
 * address. It keeps a PeerSet (fed by `observe()` with what the owner already receives,
 * or by `addPeer` / `removePeer`) and sends each message
 *
 * - to **all** peers (publish), to one peer **round-robin** (skipping peers whose
 *   connection is congested), or to the peer with a given **identity** (proven key) or
 *   declared **name**;
 * - **at most once** (a plain send) or **at least once** (`Reliable` with a stable id,
 *   acknowledged by the receiver's `Inbox`, retransmitted with backoff a bounded number of
 *   times, then `NotDelivered`); a publish at least once is acknowledged per peer;
 * - optionally **persistent**: kept in a durable outbox (lmdb) until acknowledged, so it
 *   survives a SIGKILL of either end and is delivered after the restart.
 *
 * When no peer can take a message it waits in a bounded buffer; beyond the bound, or when
 * it is given up, its sender gets `NotDelivered` with the reason. Nothing is dropped
 * silently, nothing is held without bound, and a buffered message is transmitted once when
 * a peer appears (its retransmission clock starts then; aiomsg's resend timer also fired
 * for buffered messages, delivering them twice).
 *
 * The outlet is an actor (a child of the owner); `createOutlet` returns a view whose methods
 * the owner calls from its own turns. Other actors may send plain messages to
 * `outlet.address`: each is sent with the outlet's defaults.
 */
import { createCodec, type Address, type AnyMessage, type Codec } from '@herald/codec';
import { declaredPriority } from '@herald/codec/internal';
import { Timer, type Envelope, type Handler, type Priority, type Self } from '@herald/runtime';
import {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_DEDUP_WINDOW,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_OUTBOX_MAX_BYTES,
  DEFAULT_OUTBOX_MAX_MESSAGES,
  DEFAULT_OUTLET_BUFFER_LIMIT,
  DEFAULT_RETRY_FACTOR,
} from './constants.js';
import { storeInternals, type DurableStore, type OutboxPartition } from './durable-store.js';
import { BadPatternOptionError, OutboxFullError } from './errors.js';
import {
  Ack,
  Delivered,
  NotDelivered,
  OutletKick,
  Reliable,
  allPatternMessages,
} from './messages.js';
import { checkCount, checkNumber } from './options.js';
import { PeerSet, describePeer, isPeerEvent, type Peer, type PeerDescription } from './peer-set.js';

/** `all`: every peer (publish); `round-robin`: one peer, the next in turn that is not congested. */
export type SendMode = 'all' | 'round-robin';
export type Delivery = 'at-most-once' | 'at-least-once';

export interface OutletOptions {
  /** Default send mode. Default `'round-robin'`. */
  readonly mode?: SendMode;
  /** Default delivery. Default `'at-most-once'`. */
  readonly delivery?: Delivery;
  /** Send `Delivered` to the sender when a peer acknowledges (at least once). Default false. */
  readonly confirm?: boolean;
  /** Messages held while no peer can take them (not counting persistent ones). Default 1,000. */
  readonly bufferLimit?: number;
  /** Give up a message that waited this long for a peer (`buffer-timeout`). Default: no limit. */
  readonly bufferTimeoutMs?: number;
  /** Unacknowledged at-least-once messages outstanding at once. Default 1,024. */
  readonly maxInFlight?: number;
  /** Wait before the first retransmission. Default 1,000 ms. */
  readonly ackTimeoutMs?: number;
  /** Growth of the wait per retransmission. Default 2. */
  readonly retryFactor?: number;
  /** Longest wait between transmissions. Default 10,000 ms. */
  readonly maxRetryDelayMs?: number;
  /** Transmissions before `NotDelivered{ retries-exhausted }`. Default 8. */
  readonly maxAttempts?: number;
  /** Sequence numbers outstanding past the floor; must not exceed the receivers' window. Default 4,096. */
  readonly window?: number;
  /** The durable store for persistent sends. */
  readonly store?: DurableStore;
  /** The outbox's name within the store. Default `'outbox'`. */
  readonly name?: string;
  /** Persistent messages held on disk at most. Default 100,000. */
  readonly maxMessages?: number;
  /** Encoded bytes of persistent messages held at most. Default 256 MiB. */
  readonly maxBytes?: number;
}

export interface OutletSendOptions {
  /** Overrides the outlet's mode (ignored with `identity` or `peer`). */
  readonly mode?: SendMode;
  /** Send to the peer that proved this identity key (`herald-x25519:…`). */
  readonly identity?: string;
  /** Send to the peer declared with this name (a group member name, `addPeer(..., { name })`). */
  readonly peer?: string;
  readonly delivery?: Delivery;
  /** Keep in the durable outbox until acknowledged (implies at least once; needs `store`). */
  readonly persistent?: boolean;
  /**
   * The priority of this send in the connection's outbound queue (docs/priorities.md).
   * Default: the message type's declared priority. An at-least-once message travels in a
   * `Reliable` wrapper, which takes its body's priority.
   */
  readonly priority?: Priority;
}

export interface Outlet {
  /** The outlet actor: plain messages sent here are sent with the outlet's defaults. */
  readonly address: Address;
  /** This outlet's sender id (stable across restarts with a store). */
  readonly senderId: string;
  /**
   * Sends `message` and returns its id (`<senderId>:<seq>`, as in Delivered / NotDelivered).
   * Throws OutboxFullError for a persistent send when the outbox is at its bound.
   */
  send(message: AnyMessage, options?: OutletSendOptions): string;
  /**
   * Feeds a peer event the owner received (Accepted, Connected, Closed, Abandoned,
   * Congested, Drained, GroupUpdate, discovery's Available / NotAvailable) to the peer set; call it right after receiving (it
   * reads the owner's return address). Returns whether the message was a peer event.
   */
  observe(message: AnyMessage): boolean;
  addPeer(address: Address, description?: PeerDescription): void;
  removePeer(address: Address): void;
  /** The current peers. */
  peers(): readonly Peer[];
  /** Messages held: waiting for a peer or for an acknowledgement. */
  readonly pending: number;
  /** Resolves when every persistent send so far is committed (survives SIGKILL). */
  committed(): Promise<void>;
  /** Stops the outlet: held non-persistent messages get NotDelivered{ outlet-stopped }. */
  stop(): void;
}

type Target =
  | { readonly kind: 'any' }
  | { readonly kind: 'all' }
  | { readonly kind: 'identity'; readonly value: string }
  | { readonly kind: 'name'; readonly value: string }
  | { readonly kind: 'address'; readonly value: string };

interface Entry {
  readonly seq: number;
  /** The id of the send this entry belongs to (a publish has one entry per peer). */
  readonly sendId: string;
  readonly message: AnyMessage;
  readonly origin: Address | undefined;
  readonly target: Target;
  readonly reliable: boolean;
  readonly persistent: boolean;
  readonly bytes: number;
  /** The send's priority, when it gave one. */
  readonly priority: Priority | undefined;
  /** Transmissions so far. */
  attempts: number;
  /** Clock time it was queued (for bufferTimeoutMs). */
  readonly since: number;
  /** In flight: when to retransmit. */
  due: number;
  /** In flight: the peer (address key) it went to last. */
  peerKey: string | undefined;
  /** The peer it is meant for, for NotDelivered and Delivered. */
  peerName: string | undefined;
}

interface Settings {
  readonly mode: SendMode;
  readonly delivery: Delivery;
  readonly confirm: boolean;
  readonly bufferLimit: number;
  readonly bufferTimeoutMs: number | undefined;
  readonly maxInFlight: number;
  readonly ackTimeoutMs: number;
  readonly retryFactor: number;
  readonly maxRetryDelayMs: number;
  readonly maxAttempts: number;
  readonly window: number;
  readonly maxMessages: number;
  readonly maxBytes: number;
}

const RETRY_TIMER = 'herald.patterns.retry';

function settingsOf(options: OutletOptions): Settings {
  const mode = options.mode ?? 'round-robin';
  if (mode !== 'all' && mode !== 'round-robin') {
    throw new BadPatternOptionError(
      'mode',
      `mode must be 'all' or 'round-robin', not ${String(mode)}`,
    );
  }
  const delivery = options.delivery ?? 'at-most-once';
  checkDelivery(delivery);
  return {
    mode,
    delivery,
    confirm: options.confirm ?? false,
    bufferLimit: checkCount('bufferLimit', options.bufferLimit ?? DEFAULT_OUTLET_BUFFER_LIMIT),
    bufferTimeoutMs:
      options.bufferTimeoutMs === undefined
        ? undefined
        : checkNumber('bufferTimeoutMs', options.bufferTimeoutMs, 1),
    maxInFlight: checkCount('maxInFlight', options.maxInFlight ?? DEFAULT_MAX_IN_FLIGHT, 1),
    ackTimeoutMs: checkNumber('ackTimeoutMs', options.ackTimeoutMs ?? DEFAULT_ACK_TIMEOUT_MS, 1),
    retryFactor: checkNumber('retryFactor', options.retryFactor ?? DEFAULT_RETRY_FACTOR, 1),
    maxRetryDelayMs: checkNumber(
      'maxRetryDelayMs',
      options.maxRetryDelayMs ?? DEFAULT_MAX_RETRY_DELAY_MS,
      1,
    ),
    maxAttempts: checkCount('maxAttempts', options.maxAttempts ?? DEFAULT_MAX_ATTEMPTS, 1),
    window: checkCount('window', options.window ?? DEFAULT_DEDUP_WINDOW, 1),
    maxMessages: checkCount('maxMessages', options.maxMessages ?? DEFAULT_OUTBOX_MAX_MESSAGES, 1),
    maxBytes: checkCount('maxBytes', options.maxBytes ?? DEFAULT_OUTBOX_MAX_BYTES, 1),
  };
}

function checkDelivery(delivery: Delivery): void {
  if (delivery !== 'at-most-once' && delivery !== 'at-least-once') {
    throw new BadPatternOptionError(
      'delivery',
      `delivery must be 'at-most-once' or 'at-least-once', not ${String(delivery)}`,
    );
  }
}

/** The wait before transmission number `attempts + 1` (exponential, capped). */
export function retryDelay(
  attempts: number,
  settings: Pick<Settings, 'ackTimeoutMs' | 'retryFactor' | 'maxRetryDelayMs'>,
): number {
  return Math.min(
    settings.maxRetryDelayMs,
    settings.ackTimeoutMs * settings.retryFactor ** Math.max(0, attempts - 1),
  );
}

function encodeTarget(target: Target): string {
  switch (target.kind) {
    case 'any':
      return 'a';
    case 'all':
      return 'all';
    case 'identity':
      return `i:${target.value}`;
    case 'name':
      return `n:${target.value}`;
    case 'address':
      return `x:${target.value}`;
  }
}

function decodeTarget(text: string): Target {
  if (text === 'a') return { kind: 'any' };
  if (text === 'all') return { kind: 'all' };
  if (text.startsWith('i:')) return { kind: 'identity', value: text.slice(2) };
  if (text.startsWith('n:')) return { kind: 'name', value: text.slice(2) };
  return { kind: 'address', value: text.slice(2) };
}

/** The state shared by the owner's view and the outlet actor (one process, one thread). */
class OutletCore {
  readonly settings: Settings;
  readonly peers = new PeerSet();
  /** Every entry held, in sequence order (the first key is the floor). */
  readonly entries = new Map<number, Entry>();
  /** Entries not yet transmitted (or waiting for a peer to be re-sent to), in order. */
  readonly waiting = new Map<number, Entry>();
  /** Transmitted at-least-once entries awaiting an acknowledgement. */
  readonly inFlight = new Map<number, Entry>();
  /** In-flight entries whose peer is gone: re-sent as soon as a peer for them appears. */
  readonly orphans = new Set<Entry>();
  readonly senderId: string;
  readonly partition: OutboxPartition | undefined;
  readonly codec: Codec;
  readonly owner: Address;
  nextSeq: number;
  storedMessages = 0;
  storedBytes = 0;
  waitingVolatile = 0;
  #roundRobin = 0;
  #peerList: readonly Peer[] | undefined;
  self: Self | undefined;
  kickPending = false;
  timerDue: number | undefined;
  /** The commit of the last persistent write (its promise resolves after every earlier one). */
  lastWrite: Promise<unknown> = Promise.resolve();
  readonly clock: Self['runtime']['clock'];

  constructor(owner: Self, settings: Settings, store: DurableStore | undefined, name: string) {
    this.settings = settings;
    this.owner = owner.address;
    this.clock = owner.runtime.clock;
    this.codec = createCodec({ catalogue: owner.runtime.catalogue });
    if (store === undefined) {
      this.senderId = randomSenderId(owner.runtime.random);
      this.nextSeq = 1;
      this.partition = undefined;
      return;
    }
    const internals = storeInternals(store);
    internals.claim('outbox', name);
    this.partition = internals.outbox(name);
    this.senderId = this.partition.senderId;
    this.nextSeq = this.partition.nextSeq;
    const now = this.clock.now();
    for (const { seq, record } of this.partition.load()) {
      const entry: Entry = {
        seq,
        sendId: `${this.senderId}:${String(seq)}`,
        message: this.codec.decode(record.body),
        origin: undefined,
        target: decodeTarget(record.target),
        reliable: true,
        persistent: true,
        bytes: record.body.byteLength,
        priority: undefined,
        attempts: record.attempts,
        since: now,
        due: 0,
        peerKey: undefined,
        peerName: undefined,
      };
      this.entries.set(seq, entry);
      this.waiting.set(seq, entry);
      this.storedMessages++;
      this.storedBytes += entry.bytes;
      if (seq >= this.nextSeq) this.nextSeq = seq + 1;
    }
  }

  get floor(): number {
    for (const seq of this.entries.keys()) return seq;
    return this.nextSeq;
  }

  peerList(): readonly Peer[] {
    this.#peerList ??= this.peers.list();
    return this.#peerList;
  }

  peersChanged(): void {
    this.#peerList = undefined;
  }

  /** Queues a send (the owner's turn or the actor's). Returns the send's id. */
  enqueue(message: AnyMessage, origin: Address | undefined, options: OutletSendOptions): string {
    const persistent = options.persistent ?? false;
    const delivery = persistent ? 'at-least-once' : (options.delivery ?? this.settings.delivery);
    checkDelivery(delivery);
    if (persistent && this.partition === undefined) {
      throw new BadPatternOptionError(
        'persistent',
        'a persistent send needs an outlet with a store',
      );
    }
    let target: Target;
    if (options.identity !== undefined) target = { kind: 'identity', value: options.identity };
    else if (options.peer !== undefined) target = { kind: 'name', value: options.peer };
    else {
      const mode = options.mode ?? this.settings.mode;
      if (mode !== 'all' && mode !== 'round-robin') {
        throw new BadPatternOptionError(
          'mode',
          `mode must be 'all' or 'round-robin', not ${String(mode)}`,
        );
      }
      target = mode === 'all' ? { kind: 'all' } : { kind: 'any' };
    }
    const entry = this.#add(
      message,
      origin,
      target,
      delivery === 'at-least-once',
      persistent,
      undefined,
      undefined,
      options.priority,
    );
    return entry.sendId;
  }

  /** A per-peer copy of a publish: its own sequence number and acknowledgement, the send's id. */
  enqueueCopy(parent: Entry, target: Target, peerName: string): Entry {
    return this.#add(
      parent.message,
      parent.origin,
      target,
      parent.reliable,
      parent.persistent,
      parent.sendId,
      peerName,
      parent.priority,
    );
  }

  #add(
    message: AnyMessage,
    origin: Address | undefined,
    target: Target,
    reliable: boolean,
    persistent: boolean,
    sendId: string | undefined,
    peerName: string | undefined,
    priority: Priority | undefined,
  ): Entry {
    const seq = this.nextSeq;
    let bytes = 0;
    let body: Uint8Array | undefined;
    if (persistent) {
      body = this.codec.encode(message);
      bytes = body.byteLength;
      if (this.storedMessages + 1 > this.settings.maxMessages) {
        throw new OutboxFullError(
          this.storedMessages,
          this.storedBytes,
          `maxMessages ${String(this.settings.maxMessages)}`,
        );
      }
      if (this.storedBytes + bytes > this.settings.maxBytes) {
        throw new OutboxFullError(
          this.storedMessages,
          this.storedBytes,
          `maxBytes ${String(this.settings.maxBytes)}`,
        );
      }
    }
    this.nextSeq = seq + 1;
    const entry: Entry = {
      seq,
      sendId: sendId ?? `${this.senderId}:${String(seq)}`,
      message,
      origin,
      target,
      reliable,
      persistent,
      bytes,
      priority,
      attempts: 0,
      since: this.clock.now(),
      due: 0,
      peerKey: undefined,
      peerName,
    };
    if (body !== undefined) {
      const written = this.partition?.put(
        seq,
        { target: encodeTarget(target), attempts: 0, body },
        this.nextSeq,
      );
      if (written !== undefined) this.lastWrite = written;
      this.storedMessages++;
      this.storedBytes += bytes;
    }
    this.entries.set(seq, entry);
    this.waiting.set(seq, entry);
    if (!persistent) this.waitingVolatile++;
    return entry;
  }

  /** Removes an entry for good (acknowledged, sent at most once, or given up). */
  drop(entry: Entry): void {
    this.entries.delete(entry.seq);
    if (this.waiting.delete(entry.seq) && !entry.persistent) this.waitingVolatile--;
    this.inFlight.delete(entry.seq);
    this.orphans.delete(entry);
    if (entry.persistent) {
      this.partition?.remove(entry.seq);
      this.storedMessages--;
      this.storedBytes -= entry.bytes;
    }
  }

  /** The peer an entry should go to now, or undefined. */
  choose(entry: Entry): Peer | undefined {
    const target = entry.target;
    switch (target.kind) {
      case 'identity':
        return this.peers.byIdentity(target.value);
      case 'name':
        return this.peers.byName(target.value);
      case 'address':
        return this.peerList().find((p) => p.address.key === target.value);
      case 'all':
        return undefined;
      case 'any': {
        // Stay with the peer it went to (its receiver de-duplicates) while that peer is usable.
        if (entry.peerKey !== undefined) {
          const previous = this.peerList().find((p) => p.address.key === entry.peerKey);
          if (previous !== undefined && !previous.congested) return previous;
        }
        const list = this.peerList();
        for (let i = 0; i < list.length; i++) {
          const peer = list[(this.#roundRobin + i) % list.length];
          if (peer !== undefined && !peer.congested) {
            this.#roundRobin = (this.#roundRobin + i + 1) % list.length;
            return peer;
          }
        }
        return undefined;
      }
    }
  }
}

function randomSenderId(random: () => number): string {
  let id = '';
  for (let i = 0; i < 4; i++) {
    id += Math.floor(random() * 0x1_0000_0000)
      .toString(16)
      .padStart(8, '0');
  }
  return id;
}

/** The outlet actor: transmits, retransmits, takes acknowledgements and peer events. */
class OutletHandler implements Handler {
  readonly name = 'Outlet';
  readonly #core: OutletCore;

  constructor(core: OutletCore) {
    this.#core = core;
  }

  start(self: Self): void {
    this.#core.self = self;
    this.pump(self);
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    const core = this.#core;
    if (OutletKick.is(message)) {
      core.kickPending = false;
      this.pump(self);
    } else if (Ack.is(message)) {
      this.#acknowledged(self, message);
    } else if (Timer.is(message) && message.key === RETRY_TIMER) {
      core.timerDue = undefined;
      this.#retry(self);
    } else if (isPeerEvent(message)) {
      applyPeerEvent(core, message, envelope.from);
      this.pump(self);
    } else {
      core.enqueue(message, envelope.from, {});
      this.pump(self);
    }
  }

  onStop(self: Self): void {
    const core = this.#core;
    for (const entry of [...core.entries.values()]) {
      if (entry.persistent) continue; // stays on disk: sent after the restart
      this.#giveUp(self, entry, 'outlet-stopped');
    }
    self.complete();
  }

  end(): void {
    this.#core.self = undefined;
  }

  /** Transmits what can be transmitted now; enforces the buffer bound on what cannot. */
  pump(self: Self): void {
    const core = this.#core;
    const settings = core.settings;
    // In-flight entries whose peer went away first: they already count against maxInFlight.
    for (const entry of core.orphans) {
      const peer = core.choose(entry);
      if (peer !== undefined) this.#transmit(self, entry, peer);
    }
    for (const entry of core.waiting.values()) {
      if (entry.target.kind === 'all') {
        if (core.peers.size > 0) this.#expand(self, entry);
        continue;
      }
      if (entry.reliable) {
        if (core.inFlight.size >= settings.maxInFlight) break;
        if (entry.seq - core.floor >= settings.window) break;
      }
      const peer = core.choose(entry);
      if (peer !== undefined) this.#transmit(self, entry, peer);
    }
    if (core.waitingVolatile > settings.bufferLimit) {
      const volatile = [...core.waiting.values()].filter((e) => !e.persistent);
      for (const entry of volatile.slice(settings.bufferLimit))
        this.#giveUp(self, entry, 'buffer-full');
    }
    this.#arm(self);
  }

  /** A publish: one entry per current peer, each acknowledged on its own. */
  #expand(self: Self, entry: Entry): void {
    const core = this.#core;
    core.drop(entry);
    for (const peer of core.peerList()) {
      const peerName = describePeer(peer);
      let target: Target;
      if (peer.identity !== undefined) target = { kind: 'identity', value: peer.identity };
      else if (peer.name !== undefined) target = { kind: 'name', value: peer.name };
      else if (entry.persistent) {
        this.#notify(
          self,
          entry.origin,
          NotDelivered({
            id: entry.sendId,
            reason: 'anonymous-peer',
            messageType: entry.message.type,
            attempts: 0,
            peer: peerName,
          }),
        );
        continue;
      } else target = { kind: 'address', value: peer.address.key };
      try {
        core.enqueueCopy(entry, target, peerName);
      } catch (error) {
        const reason = error instanceof OutboxFullError ? 'outbox-full' : 'not-stored';
        this.#notify(
          self,
          entry.origin,
          NotDelivered({
            id: entry.sendId,
            reason,
            messageType: entry.message.type,
            attempts: 0,
            peer: peerName,
          }),
        );
      }
    }
  }

  #transmit(self: Self, entry: Entry, peer: Peer): void {
    const core = this.#core;
    if (!entry.reliable) {
      core.drop(entry);
      if (entry.priority !== undefined) {
        self.runtime.send(peer.address, entry.message, entry.origin ?? self.address, {
          priority: entry.priority,
        });
      } else if (entry.origin === undefined) self.send(peer.address, entry.message);
      else self.forward(peer.address, entry.message, entry.origin);
      return;
    }
    entry.attempts++;
    entry.peerKey = peer.address.key;
    entry.peerName ??= entry.target.kind === 'any' ? undefined : describePeer(peer);
    const now = core.clock.now();
    entry.due = now + retryDelay(entry.attempts, core.settings);
    if (core.waiting.delete(entry.seq) && !entry.persistent) core.waitingVolatile--;
    core.orphans.delete(entry);
    core.inFlight.set(entry.seq, entry);
    self.send(
      peer.address,
      Reliable({
        sender: core.senderId,
        seq: entry.seq,
        floor: core.floor,
        attempt: entry.attempts,
        body: entry.message,
        ...(entry.origin === undefined ? {} : { origin: entry.origin }),
      }),
      { priority: entry.priority ?? declaredPriority(entry.message.type) ?? 'normal' },
    );
    if (entry.persistent && entry.attempts > 1) {
      core.partition?.put(
        entry.seq,
        {
          target: encodeTarget(entry.target),
          attempts: entry.attempts,
          body: core.codec.encode(entry.message),
        },
        core.nextSeq,
      );
    }
    if (core.timerDue === undefined || entry.due < core.timerDue) this.#startTimer(self, entry.due);
  }

  #acknowledged(self: Self, ack: Ack): void {
    const core = this.#core;
    if (ack.sender !== core.senderId) return;
    const entry = core.entries.get(ack.seq);
    if (entry === undefined || !entry.reliable) return; // a duplicate acknowledgement
    core.drop(entry);
    if (core.settings.confirm) {
      this.#notify(
        self,
        entry.origin,
        Delivered({
          id: entry.sendId,
          messageType: entry.message.type,
          ...(entry.peerName === undefined ? {} : { peer: entry.peerName }),
        }),
      );
    }
    this.pump(self);
  }

  #retry(self: Self): void {
    const core = this.#core;
    const now = core.clock.now();
    for (const entry of [...core.inFlight.values()]) {
      if (entry.due > now) continue;
      if (entry.attempts >= core.settings.maxAttempts) {
        this.#giveUp(self, entry, 'retries-exhausted');
        continue;
      }
      const peer = core.choose(entry);
      if (peer !== undefined) this.#transmit(self, entry, peer);
      else {
        // No peer for it now: the attempt counts, and it goes as soon as one appears.
        entry.attempts++;
        entry.due = now + retryDelay(entry.attempts, core.settings);
        core.orphans.add(entry);
      }
    }
    const timeout = core.settings.bufferTimeoutMs;
    if (timeout !== undefined) {
      for (const entry of [...core.waiting.values()]) {
        if (entry.since + timeout <= now) this.#giveUp(self, entry, 'buffer-timeout');
      }
    }
    this.pump(self);
  }

  #giveUp(self: Self, entry: Entry, reason: string): void {
    this.#core.drop(entry);
    this.#notify(
      self,
      entry.origin,
      NotDelivered({
        id: entry.sendId,
        reason,
        messageType: entry.message.type,
        attempts: entry.attempts,
        ...(entry.peerName === undefined ? {} : { peer: entry.peerName }),
      }),
    );
  }

  #notify(self: Self, origin: Address | undefined, message: AnyMessage): void {
    self.send(origin ?? this.#core.owner, message);
  }

  /**
   * Keeps one timer at (or before) the earliest deadline: a retransmission or a buffer
   * timeout. Cheap on the hot path: a transmission that is due sooner restarts the timer
   * itself; an acknowledgement leaves it alone (it may fire early, find nothing due and
   * re-arm); only a timer that fired (timerDue undefined) makes this scan for the minimum.
   */
  #arm(self: Self): void {
    const core = this.#core;
    const timeout = core.settings.bufferTimeoutMs;
    const waitingDeadline = timeout !== undefined && core.waiting.size > 0;
    if (core.inFlight.size === 0 && !waitingDeadline) {
      if (core.timerDue !== undefined) self.cancelTimer(RETRY_TIMER);
      core.timerDue = undefined;
      return;
    }
    if (core.timerDue !== undefined) return;
    let due = Infinity;
    for (const entry of core.inFlight.values()) if (entry.due < due) due = entry.due;
    if (waitingDeadline) {
      for (const entry of core.waiting.values()) {
        due = Math.min(due, entry.since + timeout);
        break; // the oldest waiting entry is the first
      }
    }
    this.#startTimer(self, due);
  }

  #startTimer(self: Self, due: number): void {
    const core = this.#core;
    core.timerDue = due;
    self.startTimer(RETRY_TIMER, Math.max(0, due - core.clock.now()));
  }
}

/** Applies a peer event to the core's set and marks what the next pump must re-send. */
function applyPeerEvent(core: OutletCore, message: AnyMessage, from: Address): void {
  const change = core.peers.apply(message, from);
  if (change.kind === 'none') return;
  core.peersChanged();
  if (change.kind === 'removed') orphanPeer(core, change.peer.address.key);
}

function orphanPeer(core: OutletCore, key: string): void {
  for (const entry of core.inFlight.values()) {
    if (entry.peerKey === key) core.orphans.add(entry);
  }
}

/**
 * Spawns an outlet as a child of `self` and returns its view. Bad options throw
 * BadPatternOptionError (HERALD_ERR_BAD_OPTION); a store already used by another outlet of
 * the same name in this process throws StoreError.
 */
export function createOutlet(self: Self, options: OutletOptions = {}): Outlet {
  const settings = settingsOf(options);
  const name = options.name ?? 'outbox';
  if (name.length === 0) throw new BadPatternOptionError('name', 'an outbox name cannot be empty');
  self.runtime.catalogue.add(...allPatternMessages);
  const core = new OutletCore(self, settings, options.store, name);
  const address = self.spawn(new OutletHandler(core));
  const kick = (): void => {
    if (core.kickPending) return;
    core.kickPending = true;
    self.send(address, OutletKick());
  };
  return {
    address,
    senderId: core.senderId,
    send(message, sendOptions = {}) {
      const id = core.enqueue(message, self.address, sendOptions);
      kick();
      return id;
    },
    observe(message) {
      if (!isPeerEvent(message)) return false;
      applyPeerEvent(core, message, self.returnAddress);
      kick();
      return true;
    },
    addPeer(peerAddress, description = {}) {
      core.peers.add(peerAddress, description);
      core.peersChanged();
      kick();
    },
    removePeer(peerAddress) {
      const removed = core.peers.remove(peerAddress);
      if (removed === undefined) return;
      core.peersChanged();
      orphanPeer(core, removed.address.key);
      kick();
    },
    peers: () => core.peerList(),
    get pending() {
      return core.entries.size;
    },
    committed: async () => {
      await core.lastWrite;
    },
    stop() {
      self.stop(address);
    },
  };
}
