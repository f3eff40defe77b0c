import type { Address, AnyMessage } from '@herald/codec';

/** A message in flight: where it goes, who sent it (the return address), and the message. */
export class Envelope {
  constructor(
    readonly to: Address,
    readonly from: Address,
    readonly message: AnyMessage,
  ) {}
}

/** Why a message became a dead letter. */
export type DeadLetterReason =
  /** No actor has that address (never existed, or already ended). */
  | 'no-such-actor'
  /** The actor ended with the message still queued or saved. */
  | 'actor-ended'
  /** The mailbox was at capacity. */
  | 'mailbox-full'
  /** A function actor's receive neither matched nor saved it. */
  | 'unmatched'
  /** A state machine in its current state has no transition for it. */
  | 'unhandled'
  /** The runtime was closed. */
  | 'runtime-closed'
  /** The network layer could not deliver it (connection lost, peer refused, too large). */
  | 'not-delivered'
  /**
   * A peer sent something it may not (a destination it was not given, a control message,
   * a forged return address, an undecodable body): never delivered (docs/security.md).
   */
  | 'refused';

export interface DeadLetter {
  readonly to: Address;
  readonly from: Address;
  readonly message: AnyMessage;
  readonly reason: DeadLetterReason;
  /** Extra context from the layer that gave up, e.g. a close reason. */
  readonly detail?: string;
}

/**
 * A FIFO of envelopes: an array with a moving head, compacted when the consumed prefix
 * grows large. Capacity is enforced by the owner (some system messages bypass it).
 */
export class Mailbox {
  #items: (Envelope | undefined)[] = [];
  #head = 0;

  get length(): number {
    return this.#items.length - this.#head;
  }

  push(envelope: Envelope): void {
    this.#items.push(envelope);
  }

  peek(): Envelope | undefined {
    return this.#items[this.#head];
  }

  shift(): Envelope | undefined {
    if (this.#head >= this.#items.length) return undefined;
    const envelope = this.#items[this.#head];
    this.#items[this.#head++] = undefined;
    if (this.#head === this.#items.length) {
      this.#items.length = 0;
      this.#head = 0;
    } else if (this.#head > 1024 && this.#head * 2 > this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return envelope;
  }

  /** Removes every envelope for which `drop` returns true; returns how many were removed. */
  remove(drop: (envelope: Envelope) => boolean): number {
    const kept: Envelope[] = [];
    let removed = 0;
    for (let i = this.#head; i < this.#items.length; i++) {
      const e = this.#items[i] as Envelope;
      if (drop(e)) removed++;
      else kept.push(e);
    }
    this.#items = kept;
    this.#head = 0;
    return removed;
  }

  /** Empties the mailbox, returning what it held in order. */
  drain(): Envelope[] {
    const out = this.#items.slice(this.#head) as Envelope[];
    this.#items = [];
    this.#head = 0;
    return out;
  }
}
