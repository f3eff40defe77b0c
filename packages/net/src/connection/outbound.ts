/**
 * Outbound flow for one connection: admission (is there room?), accounting of queued
 * bytes, one socket write per event-loop turn (or at once past the eager-flush size),
 * large messages a budget at a time, and the Congested / Drained signals.
 *
 * It knows nothing of actors: the proxy gives it the wire session, the stream once there
 * is one, and callbacks for the two signals.
 */
import type { Duplex } from 'node:stream';
import { DEFAULT_EAGER_FLUSH_BYTES, DEFAULT_FLUSH_BUDGET_BYTES } from '../constants.js';
import type { WireSession } from '../wire/index.js';

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
    return this.#wire.queuedBytes + (this.#stream?.writableLength ?? 0);
  }

  /**
   * Why a message may not be queued now, or undefined when it may. A refused message
   * becomes a dead letter (the caller reports it).
   */
  refusal(): string | undefined {
    const state = this.#wire.state;
    if (state === 'closing' || state === 'closed') return 'connection closing';
    if (this.pendingBytes() > this.#limits.maxPendingBytes)
      return `outbound buffer over ${this.#limits.maxPendingBytes} bytes`;
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
    const bytes = this.#wire.flush(DEFAULT_FLUSH_BUDGET_BYTES);
    if (bytes !== null) {
      this.bytesOut += bytes.length;
      stream.write(bytes);
    }
    if (this.#wire.hasPending) this.schedule();
    else this.checkDrained();
  }

  /** Writes everything still queued (on close, when there are no later turns). */
  flushAll(): void {
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
