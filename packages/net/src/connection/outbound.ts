/**
 * Outbound flow for one connection: admission (is there room?), accounting of queued
 * bytes, one socket write per event-loop turn (or at once past the eager-flush size),
 * large messages a budget at a time, and the Congested / Drained signals. On a connection
 * that carries priorities, the lanes (lanes.ts) and writes of one frame at a time, so that
 * a high-priority message waits behind at most one chunk (docs/priorities.md).
 *
 * It knows nothing of actors: the proxy gives it the wire session, the stream once there
 * is one, and callbacks for the two signals.
 */
import type { Duplex } from 'node:stream';
import type { Envelope } from '@herald/runtime';
import { PRIORITY_HIGH, PRIORITY_NORMAL, type PriorityLevel } from '@herald/runtime/internal';
import { DEFAULT_EAGER_FLUSH_BYTES, DEFAULT_FLUSH_BUDGET_BYTES } from '../constants.js';
import { isWireError, type WireMessage, type WireSession } from '../wire/index.js';
import { OutboundLanes } from './lanes.js';

/**
 * Bytes past `maxPendingBytes` a high-priority message may still be admitted within: a
 * buffer filled by bulk traffic must not refuse the urgent message that would, say, cancel
 * it (docs/priorities.md).
 */
export const HIGH_PRIORITY_RESERVE_BYTES = 1024 * 1024;

/**
 * With lanes: held messages framed per write, at most (about) this many bytes, so that what
 * a high-priority message can find ahead of it in the process is one frame's worth.
 */
const LANE_RELEASE_BYTES = DEFAULT_EAGER_FLUSH_BYTES;

export interface OutboundLimits {
  readonly highWaterBytes: number;
  readonly lowWaterBytes: number;
  readonly maxPendingBytes: number;
}

export interface OutboundSignals {
  /** Pending bytes rose over the high-water mark. */
  congested(pendingBytes: number): void;
  /** Pending bytes fell back to the low-water mark after congestion. */
  drained(pendingBytes: number): void;
  /** A flush outside an actor turn threw: a defect that fails the connection. */
  flushFailed(error: unknown): void;
  /** A held message could not be framed when its turn came (a dead letter with `detail`). */
  unsendable(envelope: Envelope, detail: string): void;
}

export class OutboundFlow {
  readonly #wire: WireSession;
  readonly #limits: OutboundLimits;
  readonly #signals: OutboundSignals;
  #stream: Duplex | undefined;
  #congested = false;
  #flushScheduled = false;
  /** Bytes handed to the stream so far (for `connections()`: a counter, nothing more). */
  bytesOut = 0;
  /** Messages queued for the peer so far. */
  messagesOut = 0;
  /** Priority lanes, made when the first message of another priority than normal comes. */
  #lanes: OutboundLanes | undefined;

  constructor(wire: WireSession, limits: OutboundLimits, signals: OutboundSignals) {
    this.#wire = wire;
    this.#limits = limits;
    this.#signals = signals;
  }

  /** The stream to write to, once the transport has one. Writes wait until then. */
  attach(stream: Duplex): void {
    this.#stream = stream;
  }

  get congested(): boolean {
    return this.#congested;
  }

  /**
   * Bytes held for the peer: everything the wire session holds (messages, control frames
   * such as PONG and CLOSE, unsent parts of large messages) plus the stream's own buffer.
   */
  pendingBytes(): number {
    const held = this.#lanes === undefined ? 0 : this.#lanes.bytes;
    return this.#wire.queuedBytes + (this.#stream?.writableLength ?? 0) + held;
  }

  /**
   * Whether a message of `priority` waits in the lanes (`hold`) rather than being framed at
   * once. Normal messages on a connection that never carried another priority: no.
   */
  holds(priority: PriorityLevel): boolean {
    if (this.#lanes === undefined) {
      if (priority === PRIORITY_NORMAL) return false;
      this.#lanes = new OutboundLanes();
    }
    return priority !== PRIORITY_HIGH;
  }

  /** Holds an encoded message in its lane until the next write (after `holds` said so). */
  hold(message: WireMessage, envelope: Envelope): void {
    (this.#lanes as OutboundLanes).hold(message, envelope);
  }

  /** Held messages still waiting (0 without lanes). */
  get held(): number {
    return this.#lanes?.size ?? 0;
  }

  /**
   * Frames held messages, normal before low: at least one, and more while the batch stays
   * within `budget` bytes.
   */
  #release(budget: number): void {
    const lanes = this.#lanes;
    if (lanes === undefined) return;
    // Before the session opens nothing is batched (all would go at once when it opens):
    // held messages wait for it, except on a close, when they go in order before CLOSE.
    if (this.#wire.state !== 'open' && budget !== Number.MAX_SAFE_INTEGER) return;
    for (;;) {
      const batch = this.#wire.batchBytes;
      if (batch > 0 && batch + lanes.nextBytes() > budget) return;
      const next = lanes.next();
      if (next === undefined) return;
      let detail: string | undefined;
      try {
        const result = this.#wire.send(next.message);
        if (result.type === 'refused') detail = `${result.reason}: ${result.detail}`;
      } catch (error) {
        if (!isWireError(error)) throw error;
        detail = `${error.code}: ${error.message}`;
      }
      if (detail !== undefined) this.#signals.unsendable(next.envelope, detail);
    }
  }

  /** Frames every held message now (a graceful close: they go before CLOSE). */
  releaseHeld(): void {
    this.#release(Number.MAX_SAFE_INTEGER);
  }

  /** Takes every held message out (the connection ends without writing them). */
  dropHeld(): Envelope[] {
    return this.#lanes === undefined ? [] : this.#lanes.drain().map((h) => h.envelope);
  }

  /**
   * Why a message may not be queued now, or undefined when it may. A refused message
   * becomes a dead letter (the caller reports it).
   */
  refusal(priority: PriorityLevel = PRIORITY_NORMAL): string | undefined {
    const state = this.#wire.state;
    if (state === 'closing' || state === 'closed') return 'connection closing';
    const limit =
      priority === PRIORITY_HIGH
        ? this.#limits.maxPendingBytes + HIGH_PRIORITY_RESERVE_BYTES
        : this.#limits.maxPendingBytes;
    if (this.pendingBytes() > limit) return `outbound buffer over ${limit} bytes`;
    return undefined;
  }

  /** Something was just queued on the wire session: signals congestion, schedules the write. */
  queued(): void {
    this.messagesOut++;
    if (!this.#congested && this.pendingBytes() > this.#limits.highWaterBytes) {
      this.#congested = true;
      this.#signals.congested(this.pendingBytes());
    }
    if (this.#wire.batchBytes >= DEFAULT_EAGER_FLUSH_BYTES) this.flush();
    else this.schedule();
  }

  /** Writes at the end of this turn (control frames, a batch after the handshake). */
  schedule(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flushTurn);
  }

  readonly #flushTurn = (): void => {
    this.#flushScheduled = false;
    try {
      this.flush();
    } catch (error) {
      this.#signals.flushFailed(error);
    }
  };

  /** One socket write per turn; large messages go out a budget at a time, small ones between. */
  flush(): void {
    const stream = this.#stream;
    if (stream === undefined || stream.destroyed) return;
    if (stream.writableNeedDrain) return; // 'drain' calls back
    if (this.#lanes !== undefined) {
      this.#flushLanes(stream);
      return;
    }
    const bytes = this.#wire.flush(DEFAULT_FLUSH_BUDGET_BYTES);
    if (bytes !== null) {
      this.bytesOut += bytes.length;
      stream.write(bytes);
    }
    if (this.#wire.hasPending) this.schedule();
    else this.checkDrained();
  }

  /**
   * With lanes: writes of one frame's worth each (held messages released normal before low,
   * then at most one chunk of a large message), each only once the stream has taken the
   * previous one, up to the turn's budget. A high-priority message framed meanwhile goes
   * into the next write, so at most one chunk (or one release) is ever ahead of it here.
   */
  #flushLanes(stream: Duplex): void {
    let spent = 0;
    while (!stream.writableNeedDrain && spent < DEFAULT_FLUSH_BUDGET_BYTES) {
      this.#release(LANE_RELEASE_BYTES);
      // A budget of 1: the batch plus at most one continuation chunk.
      const bytes = this.#wire.flush(1);
      if (bytes === null) break;
      this.bytesOut += bytes.length;
      spent += bytes.length;
      stream.write(bytes);
    }
    if (this.#wire.hasPending || this.held > 0) this.schedule();
    else this.checkDrained();
  }

  /** Writes everything still queued (on close, when there are no later turns). */
  flushAll(): void {
    this.#release(Number.MAX_SAFE_INTEGER);
    const stream = this.#stream;
    for (;;) {
      const bytes = this.#wire.flush(Number.MAX_SAFE_INTEGER);
      if (bytes === null) break;
      if (stream !== undefined && !stream.destroyed) {
        this.bytesOut += bytes.length;
        stream.write(bytes);
      }
    }
  }

  /** After a write drained: reports Drained once pending bytes are back at the low mark. */
  checkDrained(): void {
    if (!this.#congested || this.pendingBytes() > this.#limits.lowWaterBytes) return;
    this.#congested = false;
    this.#signals.drained(this.pendingBytes());
  }
}
