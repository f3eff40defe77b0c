/**
 * One connection's whole wire protocol as a pure state machine: handshake, decoder and
 * writer wired together. No sockets, no timers: the caller moves bytes and calls `flush()`
 * once per event-loop turn. SocketProxy builds on this; tests drive two of them in memory.
 */
import { concatBytes } from './bytes.js';
import type { Cipher } from './cipher.js';
import { closeReasonName } from './close-reasons.js';
import { WireError } from './errors.js';
import { FrameDecoder, type FrameDecoderOptions, type WireEvent } from './frame-decoder.js';
import { FrameWriter } from './frame-writer.js';
import { encodeCloseFrame } from './frames.js';
import { Handshake, type HandshakeOptions } from './handshake.js';
import type { WireMessage } from './message.js';

export interface WireSessionOptions extends HandshakeOptions, FrameDecoderOptions {}

export type SessionEvent =
  | {
      readonly type: 'established';
      readonly encrypted: boolean;
      readonly peerMaxFrameBytes: number;
      readonly peerKeepaliveMs: number;
    }
  | { readonly type: 'message'; readonly message: WireMessage }
  | { readonly type: 'structures'; readonly data: Uint8Array }
  | { readonly type: 'ping'; readonly seq: number }
  | { readonly type: 'pong'; readonly seq: number }
  /** The peer sent CLOSE. Flush anything pending, then close the socket. */
  | {
      readonly type: 'closed';
      readonly code: number;
      readonly reason: string;
      readonly text: string;
    }
  /**
   * This side fails the connection. A CLOSE naming the reason is queued: `flush()`, write
   * the bytes, then close the socket.
   */
  | { readonly type: 'failed'; readonly error: WireError };

export type WireSessionState = 'handshaking' | 'open' | 'closing' | 'closed';

type Queued =
  | { readonly k: 'message'; readonly msg: WireMessage }
  | { readonly k: 'structures'; readonly data: Uint8Array }
  | { readonly k: 'ping'; readonly seq: number };

export class WireSession {
  private readonly handshake: Handshake;
  private readonly decoder: FrameDecoder;
  private writer: FrameWriter | null = null;
  private readonly early: Queued[] = [];
  private readonly raw: Uint8Array[] = [];
  private _state: WireSessionState = 'handshaking';
  private started = false;

  constructor(options: WireSessionOptions) {
    this.handshake = new Handshake(options);
    this.decoder = new FrameDecoder(options);
  }

  get state(): WireSessionState {
    return this._state;
  }

  get encrypted(): boolean {
    return this.writer?.encrypted ?? false;
  }

  /** The first bytes to write on the connection (preamble + HELLO). Call once. */
  start(): Uint8Array {
    if (this.started)
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'start() called twice');
    this.started = true;
    return this.handshake.start();
  }

  /** Bytes received from the socket. */
  receive(chunk: Uint8Array): SessionEvent[] {
    const out: SessionEvent[] = [];
    if (this._state === 'closed') return out;
    this.handle(this.decoder.push(chunk), out);
    return out;
  }

  /** The socket reached EOF. */
  end(): SessionEvent[] {
    const out: SessionEvent[] = [];
    if (this._state === 'closed') return out;
    this.handle(this.decoder.end(), out);
    this._state = 'closed';
    return out;
  }

  private handle(events: WireEvent[], out: SessionEvent[]): void {
    for (const ev of events) {
      switch (ev.type) {
        case 'hello': {
          const r = this.handshake.receiveHello(ev.hello);
          if (r.type === 'failed') {
            this.raw.push(r.closeFrame);
            this._state = 'closing';
            out.push({ type: 'failed', error: r.error });
            return;
          }
          this.establish(r.cipher, r.peerMaxFrameBytes);
          out.push({
            type: 'established',
            encrypted: r.encrypted,
            peerMaxFrameBytes: r.peerMaxFrameBytes,
            peerKeepaliveMs: r.peerKeepaliveMs,
          });
          this.handle(this.decoder.open(r.cipher), out);
          return;
        }
        case 'error':
          this.failLocal(ev.error);
          out.push({ type: 'failed', error: ev.error });
          return;
        case 'close':
          this._state = 'closing';
          out.push({ type: 'closed', code: ev.code, reason: ev.reason, text: ev.text });
          return;
        default:
          out.push(ev);
      }
    }
  }

  private establish(cipher: Cipher | null, peerMaxFrameBytes: number): void {
    const w = new FrameWriter({ peerMaxFrameBytes, cipher });
    this.writer = w;
    this._state = 'open';
    for (const q of this.early) {
      if (q.k === 'message') w.writeMessage(q.msg);
      else if (q.k === 'structures') w.writeStructures(q.data);
      else w.writePing(q.seq);
    }
    this.early.length = 0;
  }

  private failLocal(error: WireError): void {
    if (this._state === 'closing' || this._state === 'closed') return;
    this._state = 'closing';
    // A peer with the wrong magic does not speak this protocol: close without a CLOSE.
    if (error.code === 'HERALD_ERR_WIRE_BAD_MAGIC') return;
    if (this.writer !== null) {
      this.writer.writeClose(error.closeReason, error.message);
    } else {
      this.raw.push(encodeCloseFrame(error.closeReason, error.message));
    }
  }

  private checkSendable(): void {
    if (this._state === 'closing' || this._state === 'closed') {
      throw new WireError('HERALD_ERR_WIRE_CLOSED', `cannot send: session is ${this._state}`);
    }
  }

  /** Queue a message (before the handshake completes, it waits and is sent on `established`). */
  send(msg: WireMessage): void {
    this.checkSendable();
    if (this.writer === null) this.early.push({ k: 'message', msg });
    else this.writer.writeMessage(msg);
  }

  sendStructures(data: Uint8Array): void {
    this.checkSendable();
    if (this.writer === null) this.early.push({ k: 'structures', data });
    else this.writer.writeStructures(data);
  }

  ping(seq: number): void {
    this.checkSendable();
    if (this.writer === null) this.early.push({ k: 'ping', seq });
    else this.writer.writePing(seq);
  }

  pong(seq: number): void {
    this.checkSendable();
    if (this.writer !== null) this.writer.writePong(seq);
  }

  /**
   * Close by choice (`code` defaults to normal). Returns messages that can no longer be
   * sent (large messages not fully queued, or queued before the handshake completed).
   */
  close(code = 0, text = closeReasonName(code)): WireMessage[] {
    if (this._state === 'closing' || this._state === 'closed') return [];
    this._state = 'closing';
    const abandoned = this.early.flatMap((q) => (q.k === 'message' ? [q.msg] : []));
    this.early.length = 0;
    if (this.writer !== null) return [...abandoned, ...this.writer.writeClose(code, text)];
    this.raw.push(encodeCloseFrame(code, text));
    return abandoned;
  }

  /**
   * The connection is gone without a CLOSE exchange: returns every message not yet handed
   * out by `flush()` (queued before the handshake, in the current batch, or large and not
   * completely sent), so they can be reported. The session is closed afterwards.
   */
  abandon(): WireMessage[] {
    const lost = this.early.flatMap((q) => (q.k === 'message' ? [q.msg] : []));
    this.early.length = 0;
    this.raw.length = 0;
    if (this.writer !== null) lost.push(...this.writer.abandon());
    this._state = 'closed';
    return lost;
  }

  /** Bytes of frames in the current batch, not yet returned by `flush()`. */
  get batchBytes(): number {
    return this.writer?.batchBytes ?? 0;
  }

  /** True when `flush()` has bytes to return. */
  get hasPending(): boolean {
    return this.raw.length > 0 || (this.writer?.hasPending ?? false);
  }

  /** Bytes for one socket write, or null. See `FrameWriter.flush`. */
  flush(budgetBytes?: number): Uint8Array | null {
    const parts: Uint8Array[] = this.raw.splice(0);
    const w = this.writer?.flush(budgetBytes) ?? null;
    if (w !== null) parts.push(w);
    if (parts.length === 0) return null;
    if (parts.length === 1) return parts[0] as Uint8Array;
    return concatBytes(parts);
  }
}
