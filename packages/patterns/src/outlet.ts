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
 */ import type { Address, AnyMessage } from '@herald/codec';
import { declaredPriority } from '@herald/codec/internal';
import { Timer, type Envelope, type Handler, type Self } from '@herald/runtime';
import { OutboxFullError, BadPatternOptionError } from './errors.js';
import {
  Ack,
  Delivered,
  NotDelivered,
  OutletKick,
  Reliable,
  allPatternMessages,
} from './messages.js';
import {
  OutletCore,
  applyPeerEvent,
  encodeTarget,
  orphanPeer,
  type Entry,
  type Target,
} from './outlet-core.js';
import {
  retryDelay,
  settingsOf,
  type OutletOptions,
  type OutletSendOptions,
} from './outlet-settings.js';
import { describePeer, isPeerEvent, type Peer, type PeerDescription } from './peer-set.js';

export {
  retryDelay,
  type Delivery,
  type OutletOptions,
  type OutletSendOptions,
  type SendMode,
} from './outlet-settings.js';

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
   * Congested, Drained, GroupUpdate, discovery's Available / NotAvailable) to the peer set;
   * call it right after receiving (it reads the owner's return address). Returns whether
   * the message was a peer event.
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
  /**
   * Stops the outlet: held non-persistent messages get NotDelivered{ outlet-stopped }
   * (persistent ones stay in the store for the next outlet on it), and so does any later
   * send.
   */
  stop(): void;
}

const RETRY_TIMER = 'herald.patterns.retry';

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
    this.#core.stopped = true;
    this.#core.release();
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
      if (core.stopped) {
        // Nobody will ever transmit it: say so now rather than hold it.
        for (const entry of [...core.entries.values()]) {
          core.drop(entry);
          self.send(
            self.address,
            NotDelivered({
              id: entry.sendId,
              reason: 'outlet-stopped',
              messageType: entry.message.type,
              attempts: 0,
            }),
          );
        }
        return id;
      }
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
