/**
 * Inbound fairness for one connection: a message is handed on only while the actor it goes
 * to (the next proxy, for a relay) has room within this connection's share of its mailbox.
 * Otherwise reading stops (TCP carries the pause back to the sender, who sees Congested)
 * and the messages already decoded wait here, checked again at once, then with a growing
 * wait, as the mailbox drains. Nothing is dropped for a full mailbox (docs/networking.md).
 */
import { Address } from '@herald/codec';
import type { Runtime } from '@herald/runtime';
import type { Duplex } from 'node:stream';
import type { SessionEvent, WireMessage } from '../wire/index.js';

/** What the gate needs from its connection. */
export interface GateOwner {
  readonly runtime: Runtime;
  /** The session, or the controller. */
  defaultTarget(): Address;
  /** The stream to pause and resume, once there is one. */
  stream(): Duplex | undefined;
  /** Handles events (the proxy's event loop); it may hold again. */
  handle(events: SessionEvent[]): void;
  /** Whether the connection has ended (held events are then reported by the owner). */
  ended(): boolean;
  /** Runs a callback outside an actor turn with the connection's guard. */
  guard(fn: () => void): void;
}

export class InboundGate {
  readonly #owner: GateOwner;
  readonly #share: number;
  readonly #maxRetryMs: number;
  #held: SessionEvent[] | undefined;
  #retryMs = 0;
  #lastTarget: Address | undefined;

  constructor(owner: GateOwner, share: number, maxRetryMs: number) {
    this.#owner = owner;
    this.#share = share;
    this.#maxRetryMs = maxRetryMs;
  }

  /** Whether events are waiting (reading is paused). */
  get holding(): boolean {
    return this.#held !== undefined;
  }

  /** Whether the actor `message` goes to has room for it within this connection's share. */
  hasRoom(message: WireMessage): boolean {
    const to = message.to;
    let target = this.#owner.defaultTarget();
    if (to.length > 0) {
      const id = to[to.length - 1] as number;
      // A stream of messages to one actor reuses one Address.
      if (this.#lastTarget === undefined || this.#lastTarget.local !== id)
        this.#lastTarget = new Address([id]);
      target = this.#lastTarget;
    }
    const load = this.#owner.runtime.mailboxLoad(target);
    return load === undefined || load.queued < load.capacity * this.#share;
  }

  /** Stops reading and keeps `events` (the first has no room) until there is room. */
  hold(events: SessionEvent[]): void {
    this.#held = events;
    this.#owner.stream()?.pause();
    this.#retryMs = 0;
    this.#schedule();
  }

  /** More events while holding: they queue behind the held ones, in order. */
  append(events: SessionEvent[]): void {
    (this.#held ??= []).push(...events);
  }

  /** Gives up what is held (the connection ended): the owner reports each. */
  drain(): SessionEvent[] {
    const held = this.#held ?? [];
    this.#held = undefined;
    return held;
  }

  #schedule(): void {
    const retry = (): void => this.#owner.guard(() => this.#retry());
    if (this.#retryMs === 0) setImmediate(retry);
    else setTimeout(retry, this.#retryMs);
    this.#retryMs = Math.min(Math.max(1, this.#retryMs * 2), this.#maxRetryMs);
  }

  #retry(): void {
    const held = this.#held;
    if (held === undefined || this.#owner.ended()) return;
    const first = held[0];
    if (first !== undefined && first.type === 'message' && !this.hasRoom(first.message)) {
      this.#schedule();
      return;
    }
    this.#held = undefined;
    this.#owner.handle(held);
    if (this.#held === undefined && !this.#owner.ended()) this.#owner.stream()?.resume();
  }
}
