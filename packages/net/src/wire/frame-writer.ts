/**
 * Outbound side of a connection: collects the frames of one event-loop turn into one
 * buffer, splits large messages into CHUNK frames and interleaves them with everything
 * else, and (when encrypted) seals each batch as SEALED records. `flush()` returns one
 * `Uint8Array` for one socket write.
 *
 * Ordering: frames written with `write*` go into the current batch at once, in call order.
 * A message larger than one frame is started (its first CHUNK, carrying the whole header,
 * goes into the batch at once) and its remaining chunks are emitted by `flush()`, one chunk
 * per active message in turn, after the batch's other frames, up to `budgetBytes`. So a small
 * message never waits behind more than the chunks of the previous flush. A message is
 * delivered when its last frame arrives: small messages may overtake a large one.
 *
 * Bounds: `queuedBytes` is everything the writer holds for the peer (batch, pending PONG,
 * the rest of large messages). PONGs are coalesced: only the latest unanswered PING is
 * answered, with one PONG at the next `flush()`, so a peer that pings and never reads
 * cannot grow the queue. A message whose new type name would overflow the type table is
 * refused by `writeMessage` (a `refused` result, nothing queued), never failed at `flush()`.
 * The batch buffer starts at 1 KiB, grows on demand and shrinks again when batches stay
 * small (`WRITER_SHRINK_AFTER_FLUSHES`) or on `trim()`.
 */
import { ByteWriter, writeU32 } from './bytes.js';
import type { Cipher } from './cipher.js';
import {
  CHUNK_FLAG_FIRST,
  CHUNK_FLAG_LAST,
  CHUNK_PREFIX_BYTES,
  FRAME_HEADER_BYTES,
  MAX_MAX_FRAME_BYTES,
  MAX_PARTIAL_MESSAGES,
  MAX_RECORD_COUNTER,
  MAX_TYPE_NAMES,
  MIN_MAX_FRAME_BYTES,
  WRITER_INITIAL_BUFFER_BYTES,
  WRITER_SHRINK_AFTER_FLUSHES,
} from './constants.js';
import { WireError } from './errors.js';
import { FrameKind, encodeCloseBody } from './frames.js';
import {
  type PreparedHeader,
  type WireMessage,
  TypeTableEncoder,
  commitHeader,
  prepareHeader,
  writeHeader,
} from './message.js';

export interface FrameWriterOptions {
  /** The peer's `maxFrameBytes` from its HELLO: no frame body we send exceeds it. */
  readonly peerMaxFrameBytes: number;
  /** The connection's cipher after an encrypted handshake; null or absent = clear. */
  readonly cipher?: Cipher | null;
  /** Most type names we define. Default 4096 (the protocol maximum). */
  readonly maxTypeNames?: number;
  /** Most large messages in flight at once. Default and maximum 16. */
  readonly maxPartialMessages?: number;
  /** Last record counter used before refusing to seal. Default 2^53 - 1. */
  readonly maxRecordCounter?: number;
}

/** What `writeMessage` did with a message. */
export type WriteResult =
  | { readonly type: 'queued' }
  /**
   * Nothing was queued. `type-table-full`: the message's type name is new and this
   * direction already has `maxTypeNames` names defined or reserved; messages of known
   * types still go. The caller reports the message as a dead letter.
   */
  | { readonly type: 'refused'; readonly reason: 'type-table-full'; readonly detail: string };

const QUEUED: WriteResult = Object.freeze({ type: 'queued' });

/** Bytes of one PING or PONG frame. */
const PING_FRAME_BYTES = FRAME_HEADER_BYTES + 4;

interface Waiting {
  readonly msg: WireMessage;
  /** Bytes counted in `queuedBytes` for it (header + body). */
  readonly bytes: number;
}

interface Outgoing {
  readonly id: number;
  readonly msg: WireMessage;
  /** Next body byte to send. */
  offset: number;
}

export class FrameWriter {
  readonly peerMaxFrameBytes: number;
  private readonly cipher: Cipher | null;
  private readonly out = new ByteWriter(WRITER_INITIAL_BUFFER_BYTES);
  private readonly types: TypeTableEncoder;
  private readonly maxPartials: number;
  private readonly maxRecordCounter: number;
  private readonly active: Outgoing[] = [];
  private readonly waiting: Waiting[] = [];
  /** Body bytes of large messages not yet in a batch (active rest + waiting whole). */
  private largeBytes = 0;
  /** seq of the PING to answer at the next flush, or -1. */
  private pongSeq = -1;
  /** Flushes in a row whose batch used at most a quarter of the buffer, and their peak. */
  private smallFlushes = 0;
  private smallPeak = 0;
  /** Whole messages in the current batch (reported by `abandon()` if it is never sent). */
  private readonly batched: WireMessage[] = [];
  private nextId = 0;
  private sendCounter = 0;
  private closed = false;

  constructor(options: FrameWriterOptions) {
    const max = options.peerMaxFrameBytes;
    if (!Number.isInteger(max) || max < MIN_MAX_FRAME_BYTES || max > MAX_MAX_FRAME_BYTES) {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `peerMaxFrameBytes ${max}`);
    }
    this.peerMaxFrameBytes = max;
    this.cipher = options.cipher ?? null;
    this.types = new TypeTableEncoder(options.maxTypeNames ?? MAX_TYPE_NAMES);
    this.maxPartials = Math.min(
      options.maxPartialMessages ?? MAX_PARTIAL_MESSAGES,
      MAX_PARTIAL_MESSAGES,
    );
    this.maxRecordCounter = options.maxRecordCounter ?? MAX_RECORD_COUNTER;
  }

  /** Whether flushed batches are sealed. */
  get encrypted(): boolean {
    return this.cipher !== null;
  }

  /** Bytes in the current batch (before sealing). */
  get batchBytes(): number {
    return this.out.pos;
  }

  /**
   * Everything queued for the peer and not yet returned by `flush()`: the current batch,
   * a coalesced PONG, and the unsent part of large messages (header + body bytes).
   */
  get queuedBytes(): number {
    return this.out.pos + (this.pongSeq >= 0 ? PING_FRAME_BYTES : 0) + this.largeBytes;
  }

  /** Bytes allocated for the batch buffer (memory held even when nothing is queued). */
  get bufferCapacity(): number {
    return this.out.capacity;
  }

  /** Large messages still being sent (active or waiting for a slot). */
  get pendingMessages(): number {
    return this.active.length + this.waiting.length;
  }

  /** True when `flush()` has something to return. */
  get hasPending(): boolean {
    return (
      this.out.pos > 0 || this.pongSeq >= 0 || this.active.length > 0 || this.waiting.length > 0
    );
  }

  /** Records sealed so far (the next record's counter). */
  get recordsSealed(): number {
    return this.sendCounter;
  }

  private checkOpen(): void {
    if (this.closed) throw new WireError('HERALD_ERR_WIRE_CLOSED', 'the writer has sent CLOSE');
  }

  private frameHeader(kind: number, bodyBytes: number): void {
    const w = this.out;
    w.ensure(FRAME_HEADER_BYTES + bodyBytes);
    writeU32(w.buf, w.pos, bodyBytes + 1);
    w.buf[w.pos + 4] = kind;
    w.pos += FRAME_HEADER_BYTES;
  }

  /**
   * Queue one application message, or refuse it (`refused`, nothing queued) when its new
   * type name does not fit the type table. Throws `WireError` (`HERALD_ERR_WIRE_INVALID_ARGUMENT`,
   * `HERALD_ERR_WIRE_CLOSED`) on misuse; nothing is queued then.
   */
  writeMessage(msg: WireMessage): WriteResult {
    this.checkOpen();
    if (!this.types.canUse(msg.typeName)) {
      return {
        type: 'refused',
        reason: 'type-table-full',
        detail: `type name ${JSON.stringify(msg.typeName)} would be name ${this.types.maxNames + 1} on this connection (max ${this.types.maxNames})`,
      };
    }
    const p = prepareHeader(msg, this.types);
    const len = p.headerBytes + msg.body.length;
    if (len <= this.peerMaxFrameBytes) {
      commitHeader(p, this.types);
      this.frameHeader(FrameKind.MESSAGE, len);
      writeHeader(this.out, p);
      this.out.bytes(msg.body);
      this.batched.push(msg);
      return QUEUED;
    }
    if (this.active.length < this.maxPartials && this.waiting.length === 0) {
      this.start(p);
    } else {
      // Written later (at a flush): hold its type-table slot now, so it cannot fail then.
      this.types.reserve(msg.typeName);
      this.waiting.push({ msg, bytes: len });
      this.largeBytes += len;
    }
    return QUEUED;
  }

  /** Queue a codec stream-state update; the peer sees it before later messages. */
  writeStructures(data: Uint8Array): void {
    this.checkOpen();
    if (data.length > this.peerMaxFrameBytes) {
      throw new WireError(
        'HERALD_ERR_WIRE_INVALID_ARGUMENT',
        `STRUCTURES of ${data.length} bytes exceeds the peer's frame limit ${this.peerMaxFrameBytes}`,
      );
    }
    this.frameHeader(FrameKind.STRUCTURES, data.length);
    this.out.bytes(data);
  }

  writePing(seq: number): void {
    this.checkOpen();
    this.frameHeader(FrameKind.PING, 4);
    this.out.u32(seq >>> 0);
  }

  /**
   * Answer a PING. Coalesced: the PONG is written at the next `flush()`, and a later PING
   * answered before then replaces it (the peer only needs its latest PING answered), so
   * PONGs never hold more than one frame however many PINGs arrive.
   */
  writePong(seq: number): void {
    this.checkOpen();
    this.pongSeq = seq >>> 0;
  }

  private emitPong(): void {
    if (this.pongSeq < 0) return;
    this.frameHeader(FrameKind.PONG, 4);
    this.out.u32(this.pongSeq);
    this.pongSeq = -1;
  }

  /**
   * The connection is gone: drop everything not yet returned by `flush()` and return the
   * messages among it (whole messages of the current batch, and large messages not yet
   * completely sent), so the caller can report them. The writer is closed afterwards and
   * its buffer released.
   */
  abandon(): WireMessage[] {
    const lost = [...this.batched, ...this.active.map((o) => o.msg), ...this.dropLarge()];
    this.batched.length = 0;
    this.pongSeq = -1;
    this.out.reset();
    this.out.shrink(0);
    this.closed = true;
    return lost;
  }

  /** Forget active and waiting large messages; returns the waiting ones. */
  private dropLarge(): WireMessage[] {
    const waiting = this.waiting.map((w) => w.msg);
    this.active.length = 0;
    this.waiting.length = 0;
    this.largeBytes = 0;
    this.types.clearReservations();
    return waiting;
  }

  /**
   * Queue CLOSE as the last frame. Large messages not yet completely queued cannot be
   * delivered any more; they are returned so the caller can report them (dead letters).
   */
  writeClose(code: number, text: string): WireMessage[] {
    this.checkOpen();
    const abandoned = [...this.active.map((o) => o.msg), ...this.dropLarge()];
    this.emitPong();
    const body = encodeCloseBody(code, text);
    this.frameHeader(FrameKind.CLOSE, body.length);
    this.out.bytes(body);
    this.closed = true;
    return abandoned;
  }

  private allocId(): number {
    for (;;) {
      const id = this.nextId;
      this.nextId = (this.nextId + 1) >>> 0;
      if (!this.active.some((o) => o.id === id)) return id;
    }
  }

  /** Emit the first chunk (whole header + as much body as fits) and activate. */
  private start(p: PreparedHeader): void {
    commitHeader(p, this.types);
    const id = this.allocId();
    const room = this.peerMaxFrameBytes - CHUNK_PREFIX_BYTES - p.headerBytes;
    const body = p.msg.body;
    const n = Math.min(room, body.length);
    const last = n === body.length;
    this.frameHeader(FrameKind.CHUNK, CHUNK_PREFIX_BYTES + p.headerBytes + n);
    this.out.u32(id);
    this.out.u8(CHUNK_FLAG_FIRST | (last ? CHUNK_FLAG_LAST : 0));
    writeHeader(this.out, p);
    this.out.bytes(body.subarray(0, n));
    if (!last) {
      this.active.push({ id, msg: p.msg, offset: n });
      this.largeBytes += body.length - n;
    }
  }

  /** Emit the next chunk of `o`; true when it was the last. */
  private continueChunk(o: Outgoing): boolean {
    const body = o.msg.body;
    const n = Math.min(this.peerMaxFrameBytes - CHUNK_PREFIX_BYTES, body.length - o.offset);
    const last = o.offset + n === body.length;
    this.frameHeader(FrameKind.CHUNK, CHUNK_PREFIX_BYTES + n);
    this.out.u32(o.id);
    this.out.u8(last ? CHUNK_FLAG_LAST : 0);
    this.out.bytes(body.subarray(o.offset, o.offset + n));
    o.offset += n;
    this.largeBytes -= n;
    return last;
  }

  /**
   * Close the batch and return the bytes for one socket write (null when there is nothing
   * to send). Continuation chunks of large messages are added round-robin, one chunk per
   * active message per round, until `budgetBytes` is spent (at least one chunk if any is
   * pending; default one frame). Call again while `hasPending`. With encryption the batch
   * is sealed into SEALED records of at most `peerMaxFrameBytes + 5` plaintext bytes each.
   */
  flush(budgetBytes: number = this.peerMaxFrameBytes): Uint8Array | null {
    this.emitPong();
    let spent = 0;
    while (this.active.length > 0 && (spent === 0 || spent < budgetBytes)) {
      for (let i = 0; i < this.active.length && (spent === 0 || spent < budgetBytes);) {
        const o = this.active[i] as Outgoing;
        const before = this.out.pos;
        if (this.continueChunk(o)) {
          this.active.splice(i, 1);
          this.startWaiting();
        } else {
          i++;
        }
        spent += this.out.pos - before;
      }
    }
    while (this.active.length < this.maxPartials && this.waiting.length > 0) this.startWaiting();
    if (this.out.pos === 0) return null;
    const used = this.out.pos;
    const result = this.cipher === null ? this.out.take() : this.seal(this.cipher);
    this.out.reset();
    this.batched.length = 0;
    this.maybeShrink(used);
    return result;
  }

  /** Start the next waiting large message, if any (its type name was reserved when queued). */
  private startWaiting(): void {
    const next = this.waiting.shift();
    if (next === undefined) return;
    this.largeBytes -= next.bytes;
    this.start(prepareHeader(next.msg, this.types));
  }

  /**
   * Shrink the batch buffer once `WRITER_SHRINK_AFTER_FLUSHES` batches in a row used at most
   * a quarter of it: to the next power of two above their peak. A busy connection keeps its
   * buffer; one that went quiet gives it back.
   */
  private maybeShrink(used: number): void {
    const cap = this.out.capacity;
    if (cap <= WRITER_INITIAL_BUFFER_BYTES || used * 4 > cap) {
      this.smallFlushes = 0;
      this.smallPeak = 0;
      return;
    }
    this.smallPeak = Math.max(this.smallPeak, used);
    if (++this.smallFlushes < WRITER_SHRINK_AFTER_FLUSHES) return;
    let target = WRITER_INITIAL_BUFFER_BYTES;
    while (target < this.smallPeak * 2) target *= 2;
    this.out.shrink(target);
    this.smallFlushes = 0;
    this.smallPeak = 0;
  }

  /**
   * Release the batch buffer down to its initial size if nothing is batched (call when the
   * connection is idle, e.g. from the keep-alive timer). No effect on what is queued.
   */
  trim(): void {
    if (this.out.pos === 0) this.out.shrink(WRITER_INITIAL_BUFFER_BYTES);
    this.smallFlushes = 0;
    this.smallPeak = 0;
  }

  private seal(cipher: Cipher): Uint8Array {
    const plain = this.out.buf;
    const end = this.out.pos;
    const limit = this.peerMaxFrameBytes + FRAME_HEADER_BYTES;
    const records: Uint8Array[] = [];
    let total = 0;
    let a = 0;
    while (a < end) {
      let b = a;
      while (b < end) {
        const frame =
          4 +
          (((plain[b] as number) << 24) |
            ((plain[b + 1] as number) << 16) |
            ((plain[b + 2] as number) << 8) |
            (plain[b + 3] as number));
        if (b > a && b + frame - a > limit) break;
        b += frame;
      }
      if (this.sendCounter > this.maxRecordCounter) {
        throw new WireError(
          'HERALD_ERR_WIRE_COUNTER_EXHAUSTED',
          'send record counter exhausted; the connection must close',
        );
      }
      const ct = cipher.seal(plain.subarray(a, b), this.sendCounter++);
      records.push(ct);
      total += FRAME_HEADER_BYTES + ct.length;
      a = b;
    }
    const out = new Uint8Array(total);
    let p = 0;
    for (const ct of records) {
      writeU32(out, p, ct.length + 1);
      out[p + 4] = FrameKind.SEALED;
      out.set(ct, p + FRAME_HEADER_BYTES);
      p += FRAME_HEADER_BYTES + ct.length;
    }
    return out;
  }
}
