/**
 * The state an outlet's view and its actor share (one process, one thread): the peer set,
 * the entries held (waiting, in flight, orphaned by a lost peer), the sequence numbers and
 * the durable outbox partition. The actor (outlet.ts) decides when to transmit; this
 * module keeps the books.
 */
import { createCodec, type Address, type AnyMessage, type Codec } from '@herald/codec';
import type { Priority, Self } from '@herald/runtime';
import { storeInternals, type DurableStore, type OutboxPartition } from './durable-store.js';
import { BadPatternOptionError, OutboxFullError } from './errors.js';
import { checkDelivery, type OutletSendOptions, type Settings } from './outlet-settings.js';
import { PeerSet, type Peer } from './peer-set.js';

export type Target =
  | { readonly kind: 'any' }
  | { readonly kind: 'all' }
  | { readonly kind: 'identity'; readonly value: string }
  | { readonly kind: 'name'; readonly value: string }
  | { readonly kind: 'address'; readonly value: string };

export interface Entry {
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

export function encodeTarget(target: Target): string {
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
export class OutletCore {
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
  /** The actor has ended: sends are answered with NotDelivered{ outlet-stopped } at once. */
  stopped = false;
  /** Gives the store partition back (the actor ended). */
  release: () => void = () => undefined;
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
    const claim = internals.claim('outbox', name);
    this.release = () => {
      internals.release(claim);
    };
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

/** Applies a peer event to the core's set and marks what the next pump must re-send. */
export function applyPeerEvent(core: OutletCore, message: AnyMessage, from: Address): void {
  const change = core.peers.apply(message, from);
  if (change.kind === 'none') return;
  core.peersChanged();
  if (change.kind === 'removed') orphanPeer(core, change.peer.address.key);
}

export function orphanPeer(core: OutletCore, key: string): void {
  for (const entry of core.inFlight.values()) {
    if (entry.peerKey === key) core.orphans.add(entry);
  }
}
