import type { Address, AnyMessage } from '@herald/codec';
import { declaredPriority } from '@herald/codec/internal';

/**
 * A message in flight: where it goes, who sent it (the return address), the message, its
 * correlation (which request it is, or which request it answers; 0 = none), its priority
 * (which lane of a queue it waits in) and the trace it belongs to (a W3C `traceparent`,
 * carried across hops so one request through many processes is one trace).
 */
export class Envelope {
  constructor(
    readonly to: Address,
    readonly from: Address,
    readonly message: AnyMessage,
    readonly correlation: number = NO_CORRELATION,
    readonly priority: PriorityLevel = PRIORITY_NORMAL,
    readonly trace: string | undefined = undefined,
  ) {}
}

/**
 * Priorities, as lanes: a queue serves every waiting `high` envelope before any `normal`
 * one, and every `normal` before any `low`; within a lane, order is FIFO. Numeric so the
 * hot path compares small integers.
 */
export const PRIORITY_HIGH = 0;
export const PRIORITY_NORMAL = 1;
export const PRIORITY_LOW = 2;
export type PriorityLevel = typeof PRIORITY_HIGH | typeof PRIORITY_NORMAL | typeof PRIORITY_LOW;
/** The names users write (`send(to, m, { priority: 'high' })`). */
export type Priority = 'high' | 'normal' | 'low';

/**
 * Correlations. An ask sends its request with `2·id` (even, non-zero); `reply()` to that
 * request carries `2·id + 1` (odd). Ids come from the asker's runtime, so an answer always
 * names an ask of the runtime it returns to, however many hops it crossed. The value is
 * carried verbatim in the MESSAGE header (docs/wire-protocol.md, 3.3), a u32.
 */
export const NO_CORRELATION = 0;

/** Largest ask id: `2·id + 1` must fit the wire's u32 varint. */
export const MAX_ASK_ID = 0x7fff_ffff;

/** The correlation of a request made by the ask with this id. */
export function requestCorrelation(id: number): number {
  return id * 2;
}

/** Whether a correlation marks an answer (odd). */
export function isAnswer(correlation: number): boolean {
  return (correlation & 1) === 1;
}

/**
 * The correlation an answer to a message with `correlation` carries: the request's plus
 * one, or none when the message was not a request (an answer is never answered).
 */
export function answerCorrelation(correlation: number): number {
  return correlation !== NO_CORRELATION && !isAnswer(correlation)
    ? correlation + 1
    : NO_CORRELATION;
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
   * An answer (`reply()` to an ask) that arrived after its ask was over (timed out, target
   * lost, actor moved on): never taken as the answer to another ask.
   */
  | 'late-reply'
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
 * The lane of a message of `type` sent without a priority: its type's declared one
 * (`defineMessage(name, fields, { priority })`), else normal. A message that arrives from a
 * peer takes this too: priority is a sender's choice within one process, and the wire does
 * not carry it.
 */
export function typePriority(type: string): PriorityLevel {
  const declared = declaredPriority(type);
  return declared === undefined
    ? PRIORITY_NORMAL
    : declared === 'high'
      ? PRIORITY_HIGH
      : PRIORITY_LOW;
}

/** The lane of a user-facing priority name. */
export function priorityLevel(priority: Priority): PriorityLevel {
  return priority === 'high' ? PRIORITY_HIGH : priority === 'low' ? PRIORITY_LOW : PRIORITY_NORMAL;
}

/** The user-facing name of a lane. */
export function priorityName(level: PriorityLevel): Priority {
  return level === PRIORITY_HIGH ? 'high' : level === PRIORITY_LOW ? 'low' : 'normal';
}

/** Slots a lane starts with on its first push (a power of two; it doubles when full). */
const LANE_INITIAL_SLOTS = 8;

/**
 * One FIFO lane: a ring buffer (a power-of-two array, a head and a count). Emptying it
 * costs nothing: an array with a moving head had to be truncated (`length = 0`, a runtime
 * call) each time it ran empty, which in ping-pong is every message (bench/README.md).
 */
class Lane {
  #slots: (Envelope | undefined)[] | undefined;
  #head = 0;
  length = 0;

  push(envelope: Envelope): void {
    let slots = this.#slots;
    if (slots === undefined)
      slots = this.#slots = new Array<Envelope | undefined>(LANE_INITIAL_SLOTS);
    else if (this.length === slots.length) slots = this.#grow(slots);
    slots[(this.#head + this.length) & (slots.length - 1)] = envelope;
    this.length++;
  }

  #grow(slots: (Envelope | undefined)[]): (Envelope | undefined)[] {
    const grown = new Array<Envelope | undefined>(slots.length * 2);
    for (let i = 0; i < this.length; i++) grown[i] = slots[(this.#head + i) & (slots.length - 1)];
    this.#head = 0;
    this.#slots = grown;
    return grown;
  }

  peek(): Envelope | undefined {
    return this.length === 0 ? undefined : (this.#slots as Envelope[])[this.#head];
  }

  shift(): Envelope | undefined {
    if (this.length === 0) return undefined;
    const slots = this.#slots as (Envelope | undefined)[];
    const head = this.#head;
    const envelope = slots[head];
    slots[head] = undefined;
    this.#head = (head + 1) & (slots.length - 1);
    this.length--;
    return envelope;
  }

  remove(drop: (envelope: Envelope) => boolean): number {
    const kept = this.drain();
    let removed = 0;
    for (const e of kept) {
      if (drop(e)) removed++;
      else this.push(e);
    }
    return removed;
  }

  /** Empties the lane, returning what it held in order. */
  drain(): Envelope[] {
    const out: Envelope[] = [];
    const slots = this.#slots;
    if (slots === undefined) return out;
    for (let i = 0; i < this.length; i++) {
      const at = (this.#head + i) & (slots.length - 1);
      out.push(slots[at] as Envelope);
      slots[at] = undefined;
    }
    this.#head = 0;
    this.length = 0;
    return out;
  }
}

/** The high and low lanes of a mailbox, made together on first use. */
interface OtherLanes {
  readonly high: Lane;
  readonly low: Lane;
  /** Envelopes in both. */
  count: number;
}

/**
 * A mailbox: three FIFO lanes served in priority order (every waiting high envelope before
 * any normal one, every normal before any low; FIFO within a lane). The high and low lanes
 * are made on first use, and while a mailbox has never seen another priority, push and
 * shift cost what a single FIFO did. Capacity is enforced by the owner (some system
 * messages bypass it) and counts every lane.
 */
export class Mailbox {
  readonly #normal = new Lane();
  #others: OtherLanes | undefined;

  get length(): number {
    const n = this.#normal.length;
    return this.#others === undefined ? n : n + this.#others.count;
  }

  push(envelope: Envelope): void {
    const priority = envelope.priority;
    if (priority === PRIORITY_NORMAL) {
      this.#normal.push(envelope);
      return;
    }
    const others = (this.#others ??= { high: new Lane(), low: new Lane(), count: 0 });
    others.count++;
    (priority === PRIORITY_HIGH ? others.high : others.low).push(envelope);
  }

  peek(): Envelope | undefined {
    const others = this.#others;
    if (others !== undefined && others.count > 0) {
      if (others.high.length > 0) return others.high.peek();
      if (this.#normal.length > 0) return this.#normal.peek();
      return others.low.peek();
    }
    return this.#normal.peek();
  }

  shift(): Envelope | undefined {
    const others = this.#others;
    if (others !== undefined && others.count > 0) {
      if (others.high.length > 0) {
        others.count--;
        return others.high.shift();
      }
      if (this.#normal.length === 0) {
        others.count--;
        return others.low.shift();
      }
    }
    return this.#normal.shift();
  }

  /** Removes every envelope for which `drop` returns true; returns how many were removed. */
  remove(drop: (envelope: Envelope) => boolean): number {
    let removed = this.#normal.remove(drop);
    const others = this.#others;
    if (others !== undefined && others.count > 0) {
      const n = others.high.remove(drop) + others.low.remove(drop);
      others.count -= n;
      removed += n;
    }
    return removed;
  }

  /** Empties the mailbox, returning what it held in the order it would have been served. */
  drain(): Envelope[] {
    const normal = this.#normal.drain();
    const others = this.#others;
    if (others === undefined || others.count === 0) return normal;
    others.count = 0;
    return [...others.high.drain(), ...normal, ...others.low.drain()];
  }
}
