/**
 * Outbound priority lanes for one connection (docs/priorities.md).
 *
 * Frames cannot be reordered once written (the type table defines names in frame order),
 * but encoded messages can: a body never defines stream state inline (codec/stream.ts), so
 * messages may be framed in any order once encoded. So on a connection that has carried a
 * message of another priority than 'normal', normal and low messages are encoded at once
 * (export table, watches and structure updates in send order) and wait here; the outbound
 * flow frames them at the write, normal before low, a bounded amount per write. High
 * messages are framed at once, ahead of everything held here and of the next chunk of any
 * large message.
 *
 * A connection that only ever carries normal messages never makes one of these.
 */
import type { Envelope } from '@herald/runtime';
import { PRIORITY_LOW } from '@herald/runtime/internal';
import type { WireMessage } from '../wire/index.js';

/** Bytes a held message is counted for beyond its body (its header: addresses, type name). */
export const HELD_HEADER_ESTIMATE_BYTES = 64;

export interface Held {
  readonly message: WireMessage;
  readonly envelope: Envelope;
  readonly bytes: number;
}

/** A FIFO with a moving head (compacted when the consumed prefix grows large). */
class Queue {
  items: (Held | undefined)[] = [];
  head = 0;

  get length(): number {
    return this.items.length - this.head;
  }

  shift(): Held | undefined {
    if (this.head >= this.items.length) return undefined;
    const held = this.items[this.head];
    this.items[this.head++] = undefined;
    if (this.head === this.items.length) {
      this.items.length = 0;
      this.head = 0;
    } else if (this.head > 1024 && this.head * 2 > this.items.length) {
      this.items = this.items.slice(this.head);
      this.head = 0;
    }
    return held;
  }

  drain(): Held[] {
    const out = this.items.slice(this.head) as Held[];
    this.items = [];
    this.head = 0;
    return out;
  }
}

export class OutboundLanes {
  readonly #normal = new Queue();
  readonly #low = new Queue();
  /** Bytes held, counted in the connection's pending bytes (Congested, maxPendingBytes). */
  bytes = 0;

  get size(): number {
    return this.#normal.length + this.#low.length;
  }

  /** Holds an encoded normal or low message until the next write. */
  hold(message: WireMessage, envelope: Envelope): void {
    const bytes = message.body.length + HELD_HEADER_ESTIMATE_BYTES;
    this.bytes += bytes;
    (envelope.priority === PRIORITY_LOW ? this.#low : this.#normal).items.push({
      message,
      envelope,
      bytes,
    });
  }

  /** Bytes of the message `next()` would return (0 when none is held). */
  nextBytes(): number {
    const lane = this.#normal.length > 0 ? this.#normal : this.#low;
    return lane.items[lane.head]?.bytes ?? 0;
  }

  /** The next message to frame: normal before low. */
  next(): Held | undefined {
    const held = this.#normal.length > 0 ? this.#normal.shift() : this.#low.shift();
    if (held !== undefined) this.bytes -= held.bytes;
    return held;
  }

  /** Everything held, in the order it would have been framed (the connection is ending). */
  drain(): Held[] {
    this.bytes = 0;
    return [...this.#normal.drain(), ...this.#low.drain()];
  }
}
