/**
 * Incremental, socket-agnostic decoder for one direction of a connection. Feed it bytes in
 * any split (`push`), get typed events back. Bytes are copied only when a frame spans
 * chunks; frames within one chunk are handed out as views of it, so `push` takes ownership
 * of the chunk (do not reuse or mutate it afterwards).
 *
 * States: `preamble` → `hello` → `awaiting-open` (after the HELLO event, until `open()`) →
 * `open` (clear) or `sealed` (encrypted) → `ended` (after a peer CLOSE, an error or `end()`).
 * Errors caused by the peer are returned as a final `error` event carrying a `WireError`;
 * after it (or a `close` event) the decoder ignores all further input.
 */
import { ByteReader, readU32 } from './bytes.js';
import { closeReasonName } from './close-reasons.js';
import type { Cipher } from './cipher.js';
import {
  CHUNK_FLAG_FIRST,
  CHUNK_FLAG_LAST,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_REASSEMBLY_BYTES,
  FRAME_HEADER_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  MAX_PARTIAL_MESSAGES,
  MAX_RECORD_COUNTER,
  MAX_TYPE_NAMES,
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

export interface FrameDecoderOptions {
  /** Largest frame body accepted (what we announce in HELLO). Default 64 KiB. */
  readonly maxFrameBytes?: number;
  /** Largest reassembled message (header + body). Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Most messages partially received at once. Default and minimum 16. */
  readonly maxPartialMessages?: number;
  /** Most bytes held by partial messages together. Default 128 MiB. */
  readonly maxReassemblyBytes?: number;
  /** Most type names the peer may define. Default 4096. */
  readonly maxTypeNames?: number;
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
  readonly header: WireMessageHeader;
  readonly parts: Uint8Array[];
  bytes: number;
}

const EMPTY = new Uint8Array(0);

export class FrameDecoder {
  private _state: FrameDecoderState = 'preamble';
  private readonly chunks: Uint8Array[] = [];
  private head = 0;
  private avail = 0;
  private cipher: Cipher | null = null;
  private recvCounter = 0;
  private readonly types: TypeTableDecoder;
  private readonly partials = new Map<number, Partial>();
  private partialBytes = 0;
  private _error: WireError | null = null;

  readonly maxFrameBytes: number;
  readonly maxMessageBytes: number;
  readonly maxPartialMessages: number;
  readonly maxReassemblyBytes: number;

  // The frame last read by readFrame().
  private fKind = 0;
  private fBody: Uint8Array = EMPTY;

  constructor(options: FrameDecoderOptions = {}) {
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
    this.maxPartialMessages = Math.max(
      options.maxPartialMessages ?? MAX_PARTIAL_MESSAGES,
      MAX_PARTIAL_MESSAGES,
    );
    this.maxReassemblyBytes = options.maxReassemblyBytes ?? DEFAULT_MAX_REASSEMBLY_BYTES;
    this.types = new TypeTableDecoder(options.maxTypeNames ?? MAX_TYPE_NAMES);
  }

  get state(): FrameDecoderState {
    return this._state;
  }

  /** The error that ended decoding, if any. */
  get error(): WireError | null {
    return this._error;
  }

  /** Bytes received but not yet decoded. */
  get bufferedBytes(): number {
    return this.avail;
  }

  /** Number of messages currently partially received. */
  get partialMessages(): number {
    return this.partials.size;
  }

  /** Feed received bytes. Returns the events they complete, in order. */
  push(chunk: Uint8Array): WireEvent[] {
    if (this._state === 'ended') return [];
    if (chunk.length > 0) {
      this.chunks.push(chunk);
      this.avail += chunk.length;
    }
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
    return this.run();
  }

  /** The peer ended the stream (EOF). A partial frame left over is `HERALD_ERR_WIRE_TRUNCATED`. */
  end(): WireEvent[] {
    if (this._state === 'ended') return [];
    const events: WireEvent[] = [];
    if (this.avail > 0 || this.partials.size > 0) {
      this.fail(
        new WireError(
          'HERALD_ERR_WIRE_TRUNCATED',
          this.avail > 0
            ? `stream ended inside a frame (${this.avail} bytes pending)`
            : `stream ended with ${this.partials.size} partial messages`,
        ),
        events,
      );
    } else {
      this.finish();
    }
    return events;
  }

  private finish(): void {
    this._state = 'ended';
    this.chunks.length = 0;
    this.head = 0;
    this.avail = 0;
    this.partials.clear();
    this.partialBytes = 0;
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
    return events;
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
          this.dispatch(this.fKind, this.fBody, events);
          break;
        case 'sealed':
          if (!this.readFrame(this.maxFrameBytes + FRAME_HEADER_BYTES + SEAL_OVERHEAD_BYTES))
            return;
          this.onRecord(events);
          break;
      }
    }
  }

  private readPreamble(): boolean {
    // Reject a wrong magic as soon as its first wrong byte arrives.
    const n = Math.min(this.avail, PREAMBLE_MAGIC.length);
    for (let i = 0; i < n; i++) {
      if (this.peek(i) !== PREAMBLE_MAGIC[i]) {
        throw new WireError(
          'HERALD_ERR_WIRE_BAD_MAGIC',
          'the peer does not speak the Herald protocol',
        );
      }
    }
    if (this.avail < PREAMBLE_BYTES) return false;
    const p = this.take(PREAMBLE_BYTES);
    const version = p[4] as number;
    if (version !== PROTOCOL_VERSION) {
      throw new WireError(
        'HERALD_ERR_WIRE_VERSION_UNSUPPORTED',
        `peer speaks protocol version ${version}; this side speaks ${PROTOCOL_VERSION}`,
      );
    }
    return true;
  }

  private peek(i: number): number {
    let off = this.head + i;
    for (const c of this.chunks) {
      if (off < c.length) return c[off] as number;
      off -= c.length;
    }
    return -1;
  }

  /** Read one frame whose body may be at most `cap` bytes. False if incomplete. */
  private readFrame(cap: number): boolean {
    if (this.avail < 4) return false;
    const first = this.chunks[0] as Uint8Array;
    let length: number;
    if (first.length - this.head >= 4) {
      length = readU32(first, this.head);
    } else {
      length =
        ((this.peek(0) << 24) | (this.peek(1) << 16) | (this.peek(2) << 8) | this.peek(3)) >>> 0;
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
    if (this.avail < 4 + length) return false;
    const hdr = this.take(FRAME_HEADER_BYTES);
    this.fKind = hdr[4] as number;
    this.fBody = length === 1 ? EMPTY : this.take(length - 1);
    return true;
  }

  /** Consume `n` buffered bytes: a view when they lie in one chunk, else one copy. */
  private take(n: number): Uint8Array {
    const first = this.chunks[0] as Uint8Array;
    const head = this.head;
    this.avail -= n;
    if (first.length - head >= n) {
      const v = first.subarray(head, head + n);
      if (head + n === first.length) {
        this.chunks.shift();
        this.head = 0;
      } else {
        this.head = head + n;
      }
      return v;
    }
    const out = new Uint8Array(n);
    let filled = 0;
    let k = 0;
    let start = head;
    while (filled < n) {
      const c = this.chunks[k] as Uint8Array;
      const m = Math.min(c.length - start, n - filled);
      out.set(c.subarray(start, start + m), filled);
      filled += m;
      if (start + m === c.length) {
        k++;
        start = 0;
      } else {
        start += m;
      }
    }
    this.chunks.splice(0, k);
    this.head = start;
    return out;
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
      const body = plain.subarray(p + FRAME_HEADER_BYTES, p + 4 + length);
      p += 4 + length;
      if (kind === FrameKind.SEALED) {
        throw new WireError('HERALD_ERR_WIRE_UNEXPECTED_SEALED', 'SEALED frame inside a record');
      }
      this.dispatch(kind, body, events);
      if (this._state === 'ended') return;
    }
  }

  private dispatch(kind: number, body: Uint8Array, events: WireEvent[]): void {
    switch (kind) {
      case FrameKind.MESSAGE: {
        const r = new ByteReader(body);
        const h = readHeader(r, this.types);
        events.push({
          type: 'message',
          message: {
            bodyMode: h.bodyMode,
            to: h.to,
            ret: h.ret,
            typeName: h.typeName,
            space: h.space,
            body: r.rest(),
          },
        });
        return;
      }
      case FrameKind.CHUNK:
        this.onChunk(body, events);
        return;
      case FrameKind.STRUCTURES:
        events.push({ type: 'structures', data: body });
        return;
      case FrameKind.PING:
      case FrameKind.PONG: {
        if (body.length !== 4) {
          throw new WireError(
            'HERALD_ERR_WIRE_MALFORMED',
            `PING/PONG body of ${body.length} bytes`,
          );
        }
        events.push({ type: kind === FrameKind.PING ? 'ping' : 'pong', seq: readU32(body, 0) });
        return;
      }
      case FrameKind.CLOSE:
        this.onClose(body, events);
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

  private onChunk(body: Uint8Array, events: WireEvent[]): void {
    const r = new ByteReader(body);
    const id = r.u32('chunk id');
    const flags = r.u8('chunk flags');
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
      p = { header, parts: [], bytes: 0 };
      this.partials.set(id, p);
    } else {
      p = this.partials.get(id);
      if (p === undefined) {
        throw new WireError('HERALD_ERR_WIRE_UNKNOWN_CHUNK', `chunk for unknown message id ${id}`);
      }
    }
    const data = r.rest();
    p.bytes += body.length - 5;
    this.partialBytes += body.length - 5;
    if (p.bytes > this.maxMessageBytes) {
      throw new WireError(
        'HERALD_ERR_WIRE_MESSAGE_TOO_LARGE',
        `message exceeds ${this.maxMessageBytes} bytes`,
      );
    }
    if (this.partialBytes > this.maxReassemblyBytes) {
      throw new WireError(
        'HERALD_ERR_WIRE_MESSAGE_TOO_LARGE',
        `partial messages exceed ${this.maxReassemblyBytes} bytes together`,
      );
    }
    if (data.length > 0) p.parts.push(data);
    if ((flags & CHUNK_FLAG_LAST) === 0) return;
    this.partials.delete(id);
    this.partialBytes -= p.bytes;
    let bodyBytes: Uint8Array;
    if (p.parts.length === 1) {
      bodyBytes = p.parts[0] as Uint8Array;
    } else {
      let n = 0;
      for (const part of p.parts) n += part.length;
      bodyBytes = new Uint8Array(n);
      let off = 0;
      for (const part of p.parts) {
        bodyBytes.set(part, off);
        off += part.length;
      }
    }
    events.push({ type: 'message', message: { ...p.header, body: bodyBytes } });
  }
}
