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

interface Outgoing {
  readonly id: number;
  readonly msg: WireMessage;
  /** Next body byte to send. */
  offset: number;
}

export class FrameWriter {
  readonly peerMaxFrameBytes: number;
  private readonly cipher: Cipher | null;
  private readonly out = new ByteWriter(64 * 1024);
  private readonly types: TypeTableEncoder;
  private readonly maxPartials: number;
  private readonly maxRecordCounter: number;
  private readonly active: Outgoing[] = [];
  private readonly waiting: WireMessage[] = [];
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

  /** Large messages still being sent (active or waiting for a slot). */
  get pendingMessages(): number {
    return this.active.length + this.waiting.length;
  }

  /** True when `flush()` has something to return. */
  get hasPending(): boolean {
    return this.out.pos > 0 || this.active.length > 0 || this.waiting.length > 0;
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
   * Queue one application message. Throws `WireError` (`HERALD_ERR_WIRE_INVALID_ARGUMENT`,
   * `HERALD_ERR_WIRE_TYPE_TABLE_FULL`, `HERALD_ERR_WIRE_CLOSED`) on misuse; nothing is
   * queued then.
   */
  writeMessage(msg: WireMessage): void {
    this.checkOpen();
    const p = prepareHeader(msg, this.types);
    const len = p.headerBytes + msg.body.length;
    if (len <= this.peerMaxFrameBytes) {
      commitHeader(p, this.types);
      this.frameHeader(FrameKind.MESSAGE, len);
      writeHeader(this.out, p);
      this.out.bytes(msg.body);
      this.batched.push(msg);
      return;
    }
    if (this.active.length < this.maxPartials && this.waiting.length === 0) {
      this.start(p);
    } else {
      this.waiting.push(msg);
    }
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

  writePong(seq: number): void {
    this.checkOpen();
    this.frameHeader(FrameKind.PONG, 4);
    this.out.u32(seq >>> 0);
  }

  /**
   * The connection is gone: drop everything not yet returned by `flush()` and return the
   * messages among it (whole messages of the current batch, and large messages not yet
   * completely sent), so the caller can report them. The writer is closed afterwards.
   */
  abandon(): WireMessage[] {
    const lost = [...this.batched, ...this.active.map((o) => o.msg), ...this.waiting];
    this.batched.length = 0;
    this.active.length = 0;
    this.waiting.length = 0;
    this.out.reset();
    this.closed = true;
    return lost;
  }

  /**
   * Queue CLOSE as the last frame. Large messages not yet completely queued cannot be
   * delivered any more; they are returned so the caller can report them (dead letters).
   */
  writeClose(code: number, text: string): WireMessage[] {
    this.checkOpen();
    const abandoned = [...this.active.map((o) => o.msg), ...this.waiting];
    this.active.length = 0;
    this.waiting.length = 0;
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
    if (!last) this.active.push({ id, msg: p.msg, offset: n });
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
    let spent = 0;
    while (this.active.length > 0 && (spent === 0 || spent < budgetBytes)) {
      for (let i = 0; i < this.active.length && (spent === 0 || spent < budgetBytes);) {
        const o = this.active[i] as Outgoing;
        const before = this.out.pos;
        if (this.continueChunk(o)) {
          this.active.splice(i, 1);
          const next = this.waiting.shift();
          if (next !== undefined) this.start(prepareHeader(next, this.types));
        } else {
          i++;
        }
        spent += this.out.pos - before;
      }
    }
    while (this.active.length < this.maxPartials && this.waiting.length > 0) {
      this.start(prepareHeader(this.waiting.shift() as WireMessage, this.types));
    }
    if (this.out.pos === 0) return null;
    const result = this.cipher === null ? this.out.take() : this.seal(this.cipher);
    this.out.reset();
    this.batched.length = 0;
    return result;
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
