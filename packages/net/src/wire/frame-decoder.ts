/**
 * Incremental, socket-agnostic decoder for one direction of a connection. Feed it bytes in
 * any split (`push`), get typed events back. Frames that lie whole in one pushed chunk are
 * handed out as views of it, so `push` takes ownership of the chunk (do not reuse or mutate
 * it afterwards). The decoder never keeps a reference to a pushed chunk after `push`
 * returns: the bytes of a frame that is not complete yet are copied into a buffer of its
 * own that grows as they arrive (at most twice what arrived, never more than the frame).
 *
 * Memory is bounded in real bytes: a chunked message is reassembled into one growing buffer
 * (not a list of views), and what it holds (buffer capacity plus a fixed overhead plus its
 * header) counts against the message bound, the connection's `maxReassemblyBytes` and the
 * process-wide `ReassemblyBudget` when one is given.
 *
 * Time: the decoder is pure. The caller passes `now` to `push` (optional) and calls
 * `expire(now)` from a timer (`nextDeadline` says when): a started frame must complete
 * within `frameTimeoutMs + frameBytes / minFrameBytesPerSecond`, and a partial message must
 * receive a part every `partialMessageTimeoutMs`; otherwise `expire` fails the connection
 * with `HERALD_ERR_WIRE_STALLED` (CLOSE `stalled`). When `push` gets no `now`, the next
 * `expire(now)` stamps what started or progressed in it (so timing is then as fine as the
 * timer, erring on the lenient side).
 *
 * States: `preamble` → `hello` → `awaiting-open` (after the HELLO event, until `open()`) →
 * `open` (clear) or `sealed` (encrypted) → `ended` (after a peer CLOSE, an error, `end()` or
 * `dispose()`). Errors caused by the peer are returned as a final `error` event carrying a
 * `WireError`; after it (or a `close` event) the decoder ignores all further input.
 */
import { ByteReader, readU32 } from './bytes.js';
import { closeReasonName } from './close-reasons.js';
import type { Cipher } from './cipher.js';
import {
  CHUNK_FLAG_FIRST,
  CHUNK_FLAG_LAST,
  CHUNK_PREFIX_BYTES,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_REASSEMBLY_BYTES,
  DEFAULT_MIN_FRAME_BYTES_PER_SECOND,
  DEFAULT_PARTIAL_MESSAGE_TIMEOUT_MS,
  FRAME_HEADER_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  MAX_MAX_FRAME_BYTES,
  MAX_PARTIAL_MESSAGES,
  MAX_RECORD_COUNTER,
  MAX_TYPE_NAMES,
  MIN_MAX_FRAME_BYTES,
  PARTIAL_MESSAGE_OVERHEAD_BYTES,
  PREAMBLE_BYTES,
  PREAMBLE_MAGIC,
  PROTOCOL_VERSION,
  SEAL_OVERHEAD_BYTES,
} from './constants.js';
import { WireError } from './errors.js';
import { FrameKind, type Hello, decodeCloseBody, decodeHelloBody } from './frames.js';
import {
  type WireMessage,
  type WireMessageHeader,
  TypeTableDecoder,
  readHeader,
} from './message.js';
import type { ReassemblyAccount, ReassemblyBudget } from './reassembly-budget.js';

export interface FrameDecoderOptions {
  /** Largest frame body accepted (what we announce in HELLO). Default 64 KiB. */
  readonly maxFrameBytes?: number;
  /** Largest reassembled message (header + body). Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Most messages partially received at once. Default and minimum 16. */
  readonly maxPartialMessages?: number;
  /** Most real bytes held by this connection's partial messages together. Default 128 MiB. */
  readonly maxReassemblyBytes?: number;
  /**
   * The process-wide budget shared by all connections (one per network). Absent: only
   * `maxReassemblyBytes` bounds this connection.
   */
  readonly reassemblyBudget?: ReassemblyBudget;
  /** Most type names the peer may define. Default 4096. */
  readonly maxTypeNames?: number;
  /** How long a partial message may go without a part. Default 60 s. */
  readonly partialMessageTimeoutMs?: number;
  /** Base time a started frame may take to complete. Default 10 s. */
  readonly frameTimeoutMs?: number;
  /** Minimum average arrival rate of a started frame, added to its deadline. Default 16 KiB/s. */
  readonly minFrameBytesPerSecond?: number;
}

/**
 * Check decoder options without building a decoder: throws `WireError`
 * (`HERALD_ERR_WIRE_INVALID_ARGUMENT`) naming the first bad one. The constructor runs it;
 * `listen()`/`connect()` can run it at the call, before any socket exists, so a bad option
 * never surfaces later inside a socket callback.
 */
export function checkDecoderOptions(options: FrameDecoderOptions): void {
  const bad = (name: string, value: unknown, rule: string): never => {
    throw new WireError(
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
      `${name} ${String(value)}: must be ${rule}`,
    );
  };
  const { maxFrameBytes, maxTypeNames } = options;
  if (
    maxFrameBytes !== undefined &&
    (!Number.isInteger(maxFrameBytes) ||
      maxFrameBytes < MIN_MAX_FRAME_BYTES ||
      maxFrameBytes > MAX_MAX_FRAME_BYTES)
  ) {
    bad(
      'maxFrameBytes',
      maxFrameBytes,
      `an integer in ${MIN_MAX_FRAME_BYTES}..${MAX_MAX_FRAME_BYTES}`,
    );
  }
  for (const name of ['maxMessageBytes', 'maxPartialMessages', 'maxReassemblyBytes'] as const) {
    const v = options[name];
    if (v !== undefined && (!Number.isSafeInteger(v) || v < 1)) bad(name, v, 'a positive integer');
  }
  if (
    maxTypeNames !== undefined &&
    (!Number.isInteger(maxTypeNames) || maxTypeNames < 1 || maxTypeNames > MAX_TYPE_NAMES)
  ) {
    bad('maxTypeNames', maxTypeNames, `an integer in 1..${MAX_TYPE_NAMES}`);
  }
  for (const name of [
    'partialMessageTimeoutMs',
    'frameTimeoutMs',
    'minFrameBytesPerSecond',
  ] as const) {
    const v = options[name];
    if (v !== undefined && !(Number.isFinite(v) && v > 0)) bad(name, v, 'a positive number');
  }
}

export type WireEvent =
  | { readonly type: 'hello'; readonly hello: Hello }
  | { readonly type: 'message'; readonly message: WireMessage }
  | { readonly type: 'structures'; readonly data: Uint8Array }
  | { readonly type: 'ping'; readonly seq: number }
  | { readonly type: 'pong'; readonly seq: number }
  | {
      readonly type: 'close';
      readonly code: number;
      readonly reason: string;
      readonly text: string;
    }
  | { readonly type: 'error'; readonly error: WireError };

export type FrameDecoderState =
  'preamble' | 'hello' | 'awaiting-open' | 'open' | 'sealed' | 'ended';

interface Partial {
  readonly id: number;
  readonly header: WireMessageHeader;
  /** Reassembly buffer; `used` bytes of it are body. Grows by doubling. */
  buf: Uint8Array;
  used: number;
  /** Message bytes received (header + body), checked against `maxMessageBytes`. */
  received: number;
  /** Real bytes charged: overhead + header + buffer capacity. */
  held: number;
  /** When the last part arrived (NaN until a time is known). */
  lastPartAt: number;
}

const EMPTY = new Uint8Array(0);
/** Smallest buffer allocated for bytes of an incomplete frame. */
const MIN_PENDING_BYTES = 64;

/** Heap a parsed header holds beyond the fixed overhead: ~8 bytes per hop, ~32 per array. */
function headerHeapBytes(h: WireMessageHeader): number {
  let n = 8 * (h.to.length + h.ret.length) + 32 * (2 + h.space.length);
  for (const s of h.space) n += 8 * s.length;
  return n;
}

export class FrameDecoder {
  private _state: FrameDecoderState = 'preamble';
  /** The chunk being decoded (only during push/open) and the next unread byte in it. */
  private src: Uint8Array = EMPTY;
  private srcPos = 0;
  /** Owned copy of bytes that do not make a whole frame yet. */
  private pend: Uint8Array = EMPTY;
  private pendLen = 0;
  private cipher: Cipher | null = null;
  private recvCounter = 0;
  private readonly types: TypeTableDecoder;
  private readonly partials = new Map<number, Partial>();
  private partialBytes = 0;
  private readonly budget: ReassemblyBudget | null;
  private readonly account: ReassemblyAccount | null;
  private _error: WireError | null = null;

  /** Last time given by the caller (NaN before any). */
  private now = Number.NaN;
  /**
   * Time of the bytes being decoded: the `now` given to this `push`, else NaN (what starts
   * then is stamped by the next `expire`, so a coarse timer errs on the lenient side).
   */
  private stamp = Number.NaN;
  /** Frames completed so far; tells a new incomplete frame from the previous one. */
  private framesDone = 0;
  private incompleteFrame = -1;
  private incompleteSince: number | null = null;
  /** Announced size (length prefix included) of the incomplete frame; 0 until known. */
  private incompleteBytes = 0;

  readonly maxFrameBytes: number;
  readonly maxMessageBytes: number;
  readonly maxPartialMessages: number;
  readonly maxReassemblyBytes: number;
  readonly partialMessageTimeoutMs: number;
  readonly frameTimeoutMs: number;
  readonly minFrameBytesPerSecond: number;

  // The frame last read by readFrame(): its kind and its body as a range of `fBuf` (no view
  // is cut for a frame that lies whole in the pushed chunk; `fBody` cuts one on demand).
  private fKind = 0;
  private fBuf: Uint8Array = EMPTY;
  private fStart = 0;
  private fEnd = 0;

  private get fBody(): Uint8Array {
    return this.fEnd === this.fStart ? EMPTY : this.fBuf.subarray(this.fStart, this.fEnd);
  }

  constructor(options: FrameDecoderOptions = {}) {
    checkDecoderOptions(options);
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxPartialMessages = Math.max(
      options.maxPartialMessages ?? MAX_PARTIAL_MESSAGES,
      MAX_PARTIAL_MESSAGES,
    );
    this.maxReassemblyBytes = options.maxReassemblyBytes ?? DEFAULT_MAX_REASSEMBLY_BYTES;
    this.types = new TypeTableDecoder(options.maxTypeNames ?? MAX_TYPE_NAMES);
    this.partialMessageTimeoutMs =
      options.partialMessageTimeoutMs ?? DEFAULT_PARTIAL_MESSAGE_TIMEOUT_MS;
    this.frameTimeoutMs = options.frameTimeoutMs ?? DEFAULT_FRAME_TIMEOUT_MS;
    this.minFrameBytesPerSecond =
      options.minFrameBytesPerSecond ?? DEFAULT_MIN_FRAME_BYTES_PER_SECOND;
    this.budget = options.reassemblyBudget ?? null;
    this.account = this.budget === null ? null : this.budget.open(this);
  }

  get state(): FrameDecoderState {
    return this._state;
  }

  /** The error that ended decoding, if any. */
  get error(): WireError | null {
    return this._error;
  }

  /** Bytes received but not yet decoded (the start of an incomplete frame). */
  get bufferedBytes(): number {
    return this.pendLen;
  }

  /**
   * Real bytes this decoder holds for the peer: the incomplete frame's buffer plus what its
   * partial messages are charged (buffers, overhead, headers).
   */
  get heldBytes(): number {
    return this.pend.length + this.partialBytes;
  }

  /** Number of messages currently partially received. */
  get partialMessages(): number {
    return this.partials.size;
  }

  /**
   * Since when a frame has been incomplete (its first byte's arrival), null when none is;
   * NaN if it started in a `push` without `now` and no `expire` has stamped it yet.
   */
  get incompleteFrameSince(): number | null {
    return this.incompleteSince;
  }

  /**
   * When the incomplete frame becomes stalled: `since + frameTimeoutMs + size /
   * minFrameBytesPerSecond` (size from its length prefix once known). Null when no frame is
   * incomplete or its start is not stamped yet.
   */
  get frameDeadline(): number | null {
    const since = this.incompleteSince;
    if (since === null || Number.isNaN(since)) return null;
    return (
      since + this.frameTimeoutMs + (this.incompleteBytes * 1000) / this.minFrameBytesPerSecond
    );
  }

  /**
   * The earliest time at which `expire` has something to check (a frame deadline or a
   * partial message's expiry), or null if nothing can expire. Unstamped starts count as due
   * now, so a timer at this time also stamps them.
   */
  get nextDeadline(): number | null {
    if (this._state === 'ended') return null;
    let next: number | null = null;
    // An unstamped start is due at once (the timer's expire() stamps it).
    const due = Number.isNaN(this.now) ? 0 : this.now;
    const consider = (t: number): void => {
      if (next === null || t < next) next = t;
    };
    if (this.incompleteSince !== null) {
      consider(Number.isNaN(this.incompleteSince) ? due : (this.frameDeadline as number));
    }
    for (const p of this.partials.values()) {
      consider(Number.isNaN(p.lastPartAt) ? due : p.lastPartAt + this.partialMessageTimeoutMs);
    }
    return next;
  }

  /**
   * Feed received bytes, optionally with the time they arrived (the clock `expire` uses).
   * Returns the events they complete, in order.
   */
  push(chunk: Uint8Array, now?: number): WireEvent[] {
    if (this._state === 'ended') return [];
    if (now !== undefined) this.now = now;
    this.stamp = now ?? Number.NaN;
    // A Node Buffer (what a socket read gives) is taken as a plain Uint8Array view of the same
    // memory: every frame, body and field view cut from it is then made by the typed-array
    // builtin instead of Buffer's JS subarray and subclass constructor (the largest single
    // cost of the receiver's profile), and the codec copies bytes fields out as plain arrays.
    this.src =
      chunk.constructor === Uint8Array
        ? chunk
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    this.srcPos = 0;
    return this.run();
  }

  /**
   * After the `hello` event: continue in clear (`cipher` null) or sealed. Returns events
   * from bytes that arrived behind the HELLO.
   */
  open(cipher: Cipher | null): WireEvent[] {
    if (this._state !== 'awaiting-open') {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `open() in state ${this._state}`);
    }
    this.cipher = cipher;
    this._state = cipher === null ? 'open' : 'sealed';
    // Bytes that came behind the HELLO were copied aside: decode them as one pushed chunk
    // (frames handed out as views of that copy), not frame by frame out of the owned buffer.
    this.src = this.pendLen === 0 ? EMPTY : this.pend.subarray(0, this.pendLen);
    this.srcPos = 0;
    this.pend = EMPTY;
    this.pendLen = 0;
    return this.run();
  }

  /**
   * Check the time bounds at `now`: a frame incomplete past its deadline or a partial message
   * without a part for `partialMessageTimeoutMs` ends decoding with a `HERALD_ERR_WIRE_STALLED`
   * error event. Starts not stamped yet (pushed without `now`) are stamped with `now`.
   */
  expire(now: number): WireEvent[] {
    const events: WireEvent[] = [];
    if (this._state === 'ended') return events;
    this.now = now;
    if (this.incompleteSince !== null && Number.isNaN(this.incompleteSince)) {
      this.incompleteSince = now;
    }
    const deadline = this.frameDeadline;
    if (deadline !== null && now > deadline) {
      const since = this.incompleteSince as number;
      this.fail(
        new WireError(
          'HERALD_ERR_WIRE_STALLED',
          `frame incomplete for ${now - since} ms (${this.pendLen} of ${
            this.incompleteBytes === 0 ? '?' : this.incompleteBytes
          } bytes arrived)`,
        ),
        events,
      );
      return events;
    }
    for (const p of this.partials.values()) {
      if (Number.isNaN(p.lastPartAt)) p.lastPartAt = now;
      if (now - p.lastPartAt > this.partialMessageTimeoutMs) {
        this.fail(
          new WireError(
            'HERALD_ERR_WIRE_STALLED',
            `chunked message ${p.id} received no part for ${now - p.lastPartAt} ms`,
          ),
          events,
        );
        return events;
      }
    }
    return events;
  }

  /** The peer ended the stream (EOF). A partial frame left over is `HERALD_ERR_WIRE_TRUNCATED`. */
  end(): WireEvent[] {
    if (this._state === 'ended') return [];
    const events: WireEvent[] = [];
    if (this.pendLen > 0 || this.partials.size > 0) {
      this.fail(
        new WireError(
          'HERALD_ERR_WIRE_TRUNCATED',
          this.pendLen > 0
            ? `stream ended inside a frame (${this.pendLen} bytes pending)`
            : `stream ended with ${this.partials.size} partial messages`,
        ),
        events,
      );
    } else {
      this.finish();
    }
    return events;
  }

  /**
   * The connection is gone (socket error, abandon): release everything held, including this
   * decoder's share of the process reassembly budget. No events; further input is ignored.
   * Idempotent.
   */
  dispose(): void {
    this.finish();
  }

  private finish(): void {
    this._state = 'ended';
    this.src = EMPTY;
    this.srcPos = 0;
    this.pend = EMPTY;
    this.pendLen = 0;
    this.partials.clear();
    this.partialBytes = 0;
    this.incompleteSince = null;
    this.incompleteBytes = 0;
    if (this.budget !== null && this.account !== null) {
      this.budget.release(this.account, this.account.bytes);
    }
  }

  private fail(error: WireError, events: WireEvent[]): void {
    this._error = error;
    this.finish();
    events.push({ type: 'error', error });
  }

  private run(): WireEvent[] {
    const events: WireEvent[] = [];
    try {
      this.loop(events);
    } catch (err) {
      if (!(err instanceof WireError)) throw err;
      this.fail(err, events);
    }
    if (this._state === 'ended') return events;
    // Never keep the caller's chunk: what is left is copied (bytes behind the HELLO, until
    // open(); everything else was stashed by peek()).
    if (this.srcPos < this.src.length) this.stash(Number.POSITIVE_INFINITY);
    this.src = EMPTY;
    this.srcPos = 0;
    this.trackIncomplete();
    return events;
  }

  /** After a run: note when the incomplete frame (if any) started. */
  private trackIncomplete(): void {
    if (this.pendLen === 0 || this._state === 'awaiting-open') {
      this.incompleteSince = null;
      this.incompleteBytes = 0;
      return;
    }
    if (this.incompleteSince === null || this.incompleteFrame !== this.framesDone) {
      this.incompleteSince = this.stamp;
      this.incompleteFrame = this.framesDone;
    }
  }

  private loop(events: WireEvent[]): void {
    for (;;) {
      switch (this._state) {
        case 'preamble':
          if (!this.readPreamble()) return;
          this._state = 'hello';
          break;
        case 'hello':
          if (!this.readFrame(MAX_HANDSHAKE_FRAME_BYTES)) return;
          if (this.fKind === FrameKind.HELLO) {
            events.push({ type: 'hello', hello: decodeHelloBody(this.fBody) });
            this._state = 'awaiting-open';
            return;
          }
          if (this.fKind === FrameKind.CLOSE) {
            this.onClose(this.fBody, events);
            return;
          }
          throw new WireError(
            'HERALD_ERR_WIRE_EXPECTED_HELLO',
            `frame kind ${this.fKind} before HELLO`,
          );
        case 'awaiting-open':
        case 'ended':
          return;
        case 'open':
          if (!this.readFrame(this.maxFrameBytes)) return;
          this.dispatch(this.fKind, this.fBuf, this.fStart, this.fEnd, events);
          break;
        case 'sealed':
          if (!this.readFrame(this.maxFrameBytes + FRAME_HEADER_BYTES + SEAL_OVERHEAD_BYTES))
            return;
          this.onRecord(events);
          break;
      }
    }
  }

  private get available(): number {
    return this.pendLen + this.src.length - this.srcPos;
  }

  private byteAt(i: number): number {
    return (i < this.pendLen ? this.pend[i] : this.src[this.srcPos + i - this.pendLen]) as number;
  }

  /**
   * A contiguous view of the next `n` unread bytes, without consuming them; null if fewer
   * have arrived (then every available byte, up to `n`, has been moved into the owned
   * buffer).
   */
  private peek(n: number): Uint8Array | null {
    if (this.pendLen === 0 && this.src.length - this.srcPos >= n) {
      return this.src.subarray(this.srcPos, this.srcPos + n);
    }
    if (this.pendLen < n) this.stash(n);
    return this.pendLen >= n ? this.pend.subarray(0, n) : null;
  }

  /** Move unread bytes of `src` into the owned buffer until it holds `n` (or `src` is empty). */
  private stash(n: number): void {
    const want = Math.min(n - this.pendLen, this.src.length - this.srcPos);
    if (want <= 0) return;
    const need = this.pendLen + want;
    if (need > this.pend.length) {
      // Grow by doubling, but never past the frame's own size: the peer cannot make us hold
      // more than twice what it sent, nor allocate a whole frame by announcing it.
      const cap = Math.min(n, Math.max(need, this.pend.length * 2, MIN_PENDING_BYTES));
      const next = new Uint8Array(cap);
      next.set(this.pend.subarray(0, this.pendLen));
      this.pend = next;
    }
    this.pend.set(this.src.subarray(this.srcPos, this.srcPos + want), this.pendLen);
    this.pendLen = need;
    this.srcPos += want;
  }

  /** Consume `n` bytes just returned by `peek(n)` (whose view stays valid). */
  private consume(n: number): void {
    if (this.pendLen === 0) {
      this.srcPos += n;
      return;
    }
    const rest = this.pendLen - n;
    if (rest > 0) {
      const next = new Uint8Array(rest);
      next.set(this.pend.subarray(n, this.pendLen));
      this.pend = next;
    } else {
      this.pend = EMPTY; // handed out with the frame; the next frame gets a new buffer
    }
    this.pendLen = rest;
  }

  private readPreamble(): boolean {
    // Reject a wrong magic as soon as its first wrong byte arrives.
    const n = Math.min(this.available, PREAMBLE_MAGIC.length);
    for (let i = 0; i < n; i++) {
      if (this.byteAt(i) !== PREAMBLE_MAGIC[i]) {
        throw new WireError(
          'HERALD_ERR_WIRE_BAD_MAGIC',
          'the peer does not speak the Herald protocol',
        );
      }
    }
    this.incompleteBytes = PREAMBLE_BYTES;
    const p = this.peek(PREAMBLE_BYTES);
    if (p === null) return false;
    this.consume(PREAMBLE_BYTES);
    this.framesDone++;
    const version = p[4] as number;
    if (version !== PROTOCOL_VERSION) {
      throw new WireError(
        'HERALD_ERR_WIRE_VERSION_UNSUPPORTED',
        `peer speaks protocol version ${version}; this side speaks ${PROTOCOL_VERSION}`,
      );
    }
    return true;
  }

  /** Read one frame whose body may be at most `cap` bytes. False if incomplete. */
  private readFrame(cap: number): boolean {
    let length: number;
    if (this.pendLen === 0 && this.src.length - this.srcPos >= 4) {
      length = readU32(this.src, this.srcPos); // the common case: no view for the prefix
    } else {
      const h = this.peek(4);
      if (h === null) {
        this.incompleteBytes = 0;
        return false;
      }
      length = readU32(h, 0);
    }
    if (length === 0) {
      throw new WireError('HERALD_ERR_WIRE_EMPTY_FRAME', 'zero-length frame (no kind byte)');
    }
    if (length - 1 > cap) {
      throw new WireError(
        'HERALD_ERR_WIRE_FRAME_TOO_LARGE',
        `frame body of ${length - 1} bytes exceeds ${cap}`,
      );
    }
    this.incompleteBytes = 4 + length;
    if (this.pendLen === 0 && this.src.length - this.srcPos >= 4 + length) {
      // The common case: the whole frame is in the pushed chunk; read it in place.
      const at = this.srcPos;
      this.srcPos = at + 4 + length;
      this.framesDone++;
      this.fKind = this.src[at + 4] as number;
      this.fBuf = this.src;
      this.fStart = at + FRAME_HEADER_BYTES;
      this.fEnd = at + 4 + length;
      return true;
    }
    const f = this.peek(4 + length);
    if (f === null) return false;
    this.consume(4 + length);
    this.framesDone++;
    this.fKind = f[4] as number;
    this.fBuf = f;
    this.fStart = FRAME_HEADER_BYTES;
    this.fEnd = 4 + length;
    return true;
  }

  private onRecord(events: WireEvent[]): void {
    if (this.fKind !== FrameKind.SEALED) {
      // A peer whose handshake failed after sending its HELLO closes in clear: accept that
      // CLOSE as the first frame after the HELLO only.
      if (this.fKind === FrameKind.CLOSE && this.recvCounter === 0) {
        this.onClose(this.fBody, events);
        return;
      }
      throw new WireError(
        'HERALD_ERR_WIRE_UNEXPECTED_CLEARTEXT',
        `clear frame kind ${this.fKind} on an encrypted connection`,
      );
    }
    if (this.recvCounter > MAX_RECORD_COUNTER) {
      throw new WireError('HERALD_ERR_WIRE_COUNTER_EXHAUSTED', 'receive record counter exhausted');
    }
    const plain = (this.cipher as Cipher).open(this.fBody, this.recvCounter);
    if (plain === null) {
      throw new WireError(
        'HERALD_ERR_WIRE_DECRYPT_FAILED',
        `record ${this.recvCounter} failed authentication (tampered, replayed, reordered or dropped)`,
      );
    }
    this.recvCounter++;
    let p = 0;
    while (p < plain.length) {
      if (plain.length - p < FRAME_HEADER_BYTES) {
        throw new WireError('HERALD_ERR_WIRE_MALFORMED', 'partial frame header inside a record');
      }
      const length = readU32(plain, p);
      if (length === 0)
        throw new WireError('HERALD_ERR_WIRE_EMPTY_FRAME', 'zero-length frame inside a record');
      if (length - 1 > this.maxFrameBytes) {
        throw new WireError(
          'HERALD_ERR_WIRE_FRAME_TOO_LARGE',
          `frame body of ${length - 1} bytes exceeds ${this.maxFrameBytes}`,
        );
      }
      if (plain.length - p - 4 < length) {
        throw new WireError('HERALD_ERR_WIRE_MALFORMED', 'frame crosses a record boundary');
      }
      const kind = plain[p + 4] as number;
      const start = p + FRAME_HEADER_BYTES;
      p += 4 + length;
      if (kind === FrameKind.SEALED) {
        throw new WireError('HERALD_ERR_WIRE_UNEXPECTED_SEALED', 'SEALED frame inside a record');
      }
      this.dispatch(kind, plain, start, p, events);
      if (this._state === 'ended') return;
    }
  }

  /** One frame whose body is `buf[start..end)` (read in place: no view unless one is kept). */
  private dispatch(
    kind: number,
    buf: Uint8Array,
    start: number,
    end: number,
    events: WireEvent[],
  ): void {
    switch (kind) {
      case FrameKind.MESSAGE: {
        const r = new ByteReader(buf, start, end);
        const h = readHeader(r, this.types);
        events.push({
          type: 'message',
          message: {
            bodyMode: h.bodyMode,
            to: h.to,
            ret: h.ret,
            typeName: h.typeName,
            correlation: h.correlation ?? 0,
            trace: h.trace,
            space: h.space,
            body: r.pos === end ? EMPTY : buf.subarray(r.pos, end),
          },
        });
        return;
      }
      case FrameKind.CHUNK:
        this.onChunk(buf.subarray(start, end), events);
        return;
      case FrameKind.STRUCTURES:
        events.push({ type: 'structures', data: buf.subarray(start, end) });
        return;
      case FrameKind.PING:
      case FrameKind.PONG: {
        if (end - start !== 4) {
          throw new WireError(
            'HERALD_ERR_WIRE_MALFORMED',
            `PING/PONG body of ${end - start} bytes`,
          );
        }
        events.push({ type: kind === FrameKind.PING ? 'ping' : 'pong', seq: readU32(buf, start) });
        return;
      }
      case FrameKind.CLOSE:
        this.onClose(buf.subarray(start, end), events);
        return;
      case FrameKind.HELLO:
        throw new WireError('HERALD_ERR_WIRE_DUPLICATE_HELLO', 'second HELLO');
      case FrameKind.SEALED:
        throw new WireError(
          'HERALD_ERR_WIRE_UNEXPECTED_SEALED',
          'SEALED frame on a clear connection',
        );
      default:
        throw new WireError('HERALD_ERR_WIRE_UNKNOWN_KIND', `unknown frame kind ${kind}`);
    }
  }

  private onClose(body: Uint8Array, events: WireEvent[]): void {
    const c = decodeCloseBody(body);
    events.push({ type: 'close', code: c.code, reason: closeReasonName(c.code), text: c.text });
    this.finish();
  }

  /**
   * Charge `n` more real bytes to partial message `p`, before allocating them. Over the
   * connection's bound or the process budget: `message-too-large`.
   */
  private charge(p: Partial, n: number): void {
    if (this.partialBytes + n > this.maxReassemblyBytes) {
      throw new WireError(
        'HERALD_ERR_WIRE_MESSAGE_TOO_LARGE',
        `partial messages would hold more than ${this.maxReassemblyBytes} bytes together`,
      );
    }
    if (this.budget !== null && !this.budget.tryReserve(this.account as ReassemblyAccount, n)) {
      throw new WireError(
        'HERALD_ERR_WIRE_MESSAGE_TOO_LARGE',
        `the process reassembly budget of ${this.budget.maxBytes} bytes is exhausted`,
      );
    }
    this.partialBytes += n;
    p.held += n;
  }

  private uncharge(p: Partial): void {
    this.partialBytes -= p.held;
    if (this.budget !== null) this.budget.release(this.account as ReassemblyAccount, p.held);
    p.held = 0;
  }

  /** Append `data` to `p`'s buffer, growing it by doubling (capped by `maxMessageBytes`). */
  private append(p: Partial, data: Uint8Array): void {
    const need = p.used + data.length;
    if (need > p.buf.length) {
      const cap = Math.max(need, Math.min(p.buf.length * 2, this.maxMessageBytes));
      this.charge(p, cap - p.buf.length);
      const next = new Uint8Array(cap);
      next.set(p.buf.subarray(0, p.used));
      p.buf = next;
    }
    p.buf.set(data, p.used);
    p.used = need;
  }

  private onChunk(body: Uint8Array, events: WireEvent[]): void {
    const r = new ByteReader(body);
    const id = r.u32('chunk id');
    const flags = r.u8('chunk flags');
    const received = body.length - CHUNK_PREFIX_BYTES;
    let p: Partial | undefined;
    if ((flags & CHUNK_FLAG_FIRST) !== 0) {
      if (this.partials.has(id)) {
        throw new WireError(
          'HERALD_ERR_WIRE_DUPLICATE_CHUNK_ID',
          `first chunk reuses live message id ${id}`,
        );
      }
      if (this.partials.size >= this.maxPartialMessages) {
        throw new WireError(
          'HERALD_ERR_WIRE_TOO_MANY_PARTIALS',
          `more than ${this.maxPartialMessages} messages partially received`,
        );
      }
      // The first chunk carries the whole header: parse it now, so type definitions are
      // applied in the order messages start, which is the order the sender defined them.
      const header = readHeader(r, this.types);
      if ((flags & CHUNK_FLAG_LAST) !== 0) {
        // A whole message in one chunk: nothing to hold.
        if (received > this.maxMessageBytes) this.tooLarge();
        events.push({ type: 'message', message: { ...header, body: r.rest() } });
        return;
      }
      p = { id, header, buf: EMPTY, used: 0, received: 0, held: 0, lastPartAt: this.stamp };
      this.charge(p, PARTIAL_MESSAGE_OVERHEAD_BYTES + headerHeapBytes(header));
      this.partials.set(id, p);
    } else {
      p = this.partials.get(id);
      if (p === undefined) {
        throw new WireError('HERALD_ERR_WIRE_UNKNOWN_CHUNK', `chunk for unknown message id ${id}`);
      }
      p.lastPartAt = this.stamp;
    }
    p.received += received;
    if (p.received > this.maxMessageBytes) this.tooLarge();
    const data = r.rest();
    if (data.length > 0) this.append(p, data);
    if ((flags & CHUNK_FLAG_LAST) === 0) return;
    this.partials.delete(id);
    this.uncharge(p);
    const bodyBytes = p.used === 0 ? EMPTY : p.buf.subarray(0, p.used);
    events.push({ type: 'message', message: { ...p.header, body: bodyBytes } });
  }

  private tooLarge(): never {
    throw new WireError(
      'HERALD_ERR_WIRE_MESSAGE_TOO_LARGE',
      `message exceeds ${this.maxMessageBytes} bytes`,
    );
  }
}
