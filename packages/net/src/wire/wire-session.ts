/**
 * One connection's whole wire protocol as a pure state machine: handshake, decoder and
 * writer wired together. No sockets, no timers: the caller moves bytes and calls `flush()`
 * once per event-loop turn. SocketProxy builds on this; tests drive two of them in memory.
 *
 * The handshake (handshake.ts) sends frames in reply to the peer's: after every
 * `receive()`, `accept()` and `refuse()`, write what `flush()` returns (check `hasPending`),
 * even when no event came back.
 *
 * With `authorize: true` an acceptor stops in state `authorizing` after the key checks and
 * emits `authorize` with the peer's identity; the caller decides (asynchronously if it
 * wants) and calls `accept()` (the session opens: `established`) or `refuse(text)` (a
 * CLOSE `not-authorized` is queued: flush it, then close the socket).
 */
import { concatBytes } from './bytes.js';
import type { Cipher } from './cipher.js';
import { CloseReason, closeReasonName } from './close-reasons.js';
import { MIN_MAX_FRAME_BYTES } from './constants.js';
import { WireError } from './errors.js';
import { FrameDecoder, type FrameDecoderOptions, type WireEvent } from './frame-decoder.js';
import { FrameWriter, type WriteResult } from './frame-writer.js';
import {
  FrameKind,
  decodeCloseBody,
  encodeCloseFrame,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
} from './frames.js';
import {
  Handshake,
  type HandshakeOptions,
  type HandshakeResult,
  type PeerIdentity,
} from './handshake.js';
import { HandshakeReader } from './handshake-reader.js';
import type { WireMessage } from './message.js';

export interface WireSessionOptions extends HandshakeOptions, FrameDecoderOptions {}

export type SessionEvent =
  | {
      readonly type: 'established';
      readonly encrypted: boolean;
      readonly peerMaxFrameBytes: number;
      readonly peerKeepaliveMs: number;
      /** Who the peer proved to be (both fields null: anonymous or clear). */
      readonly peer: PeerIdentity;
    }
  /**
   * Acceptor with `authorize: true`: the peer is authenticated (or anonymous and allowed
   * so far). Nothing opens until the caller calls `accept()` or `refuse(text)`.
   */
  | { readonly type: 'authorize'; readonly peer: PeerIdentity }
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
   * A message queued before the handshake completed could not be written when it did
   * (its type name would overflow the type table): report it as a dead letter.
   */
  | {
      readonly type: 'refused';
      readonly message: WireMessage;
      readonly reason: 'type-table-full';
      readonly detail: string;
    }
  /**
   * This side fails the connection. A CLOSE naming the reason is queued: `flush()`, write
   * the bytes, then close the socket.
   */
  | { readonly type: 'failed'; readonly error: WireError };

export type WireSessionState = 'handshaking' | 'authorizing' | 'open' | 'closing' | 'closed';

/**
 * The FrameDecoder reads a preamble and a HELLO before anything else; the handshake
 * reader has consumed the real ones, so the decoder is started with this stand-in (local
 * bytes, never the peer's) and then opened with the negotiated cipher.
 */
function decoderOpening(): Uint8Array {
  const hello = encodeHelloBody({
    encrypt: false,
    maxFrameBytes: MIN_MAX_FRAME_BYTES,
    keepaliveMs: 0,
    ephemeralKey: null,
  });
  return concatBytes([encodePreamble(), encodeFrame(FrameKind.HELLO, hello)]);
}

const QUEUED: WriteResult = Object.freeze({ type: 'queued' });

type Queued =
  | { readonly k: 'message'; readonly msg: WireMessage }
  | { readonly k: 'structures'; readonly data: Uint8Array }
  | { readonly k: 'ping'; readonly seq: number };

export class WireSession {
  /** The handshake until the connection opens; then dropped (memory per idle connection). */
  private hs: Handshake | null;
  private readonly reader = new HandshakeReader();
  private readonly decoder: FrameDecoder;
  private writer: FrameWriter | null = null;
  private readonly early: Queued[] = [];
  private readonly raw: Uint8Array[] = [];
  private _state: WireSessionState = 'handshaking';
  private _peer: PeerIdentity | null = null;
  private started: 'no' | 'implicit' | 'explicit' = 'no';

  constructor(options: WireSessionOptions) {
    this.hs = new Handshake(options);
    this.decoder = new FrameDecoder(options);
  }

  get state(): WireSessionState {
    return this._state;
  }

  private get handshake(): Handshake {
    if (this.hs === null)
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'the handshake is over');
    return this.hs;
  }

  get encrypted(): boolean {
    return this.writer?.encrypted ?? false;
  }

  /** The peer's proven identity once `established` (null before). */
  get peer(): PeerIdentity | null {
    return this._peer;
  }

  /**
   * The first bytes to write on the connection (see `Handshake.start`). Call once, before
   * anything else. (A session that received bytes first started itself then and queued
   * its opening; `start()` then returns it with the handshake frames queued behind it.)
   */
  start(): Uint8Array {
    if (this.started === 'explicit')
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'start() called twice');
    if (this.started === 'implicit') {
      this.started = 'explicit';
      return concatBytes(this.raw.splice(0));
    }
    this.started = 'explicit';
    return this.handshake.start();
  }

  /**
   * Bytes received from the socket, optionally with the time they arrived (the decoder's
   * frame and partial-message deadlines use it; see `expire`). Afterwards, flush: the
   * handshake may have replied.
   */
  receive(chunk: Uint8Array, now?: number): SessionEvent[] {
    const out: SessionEvent[] = [];
    if (this._state === 'closed') return out;
    if (this.writer !== null) {
      // Established (open, or closing and still reading what the peer sends before CLOSE).
      this.handle(this.decoder.push(chunk, now), out);
      return out;
    }
    if (this._state === 'closing') return out;
    if (this.started === 'no') {
      this.started = 'implicit';
      this.raw.push(this.handshake.start());
    }
    this.reader.push(chunk);
    this.readHandshake(out);
    return out;
  }

  /**
   * Check the decoder's time bounds at `now` (a stalled frame or partial message fails the
   * connection with `HERALD_ERR_WIRE_STALLED`). Call it at `nextDeadline`. The handshake
   * itself is bounded by the connection's handshake deadline, not here.
   */
  expire(now: number): SessionEvent[] {
    const out: SessionEvent[] = [];
    if (this._state === 'closed' || this.writer === null) return out;
    this.handle(this.decoder.expire(now), out);
    return out;
  }

  /** When `expire` next has something to check, or null (nothing can expire). */
  get nextDeadline(): number | null {
    if (this._state === 'closed' || this.writer === null) return null;
    return this.decoder.nextDeadline;
  }

  /** The socket reached EOF. */
  end(): SessionEvent[] {
    const out: SessionEvent[] = [];
    if (this._state === 'closed') return out;
    if (this.writer !== null) {
      this.handle(this.decoder.end(), out);
    } else if (this._state !== 'closing' && this.reader.bufferedBytes > 0) {
      out.push({
        type: 'failed',
        error: new WireError(
          'HERALD_ERR_WIRE_TRUNCATED',
          `stream ended inside the handshake (${this.reader.bufferedBytes} bytes pending)`,
        ),
      });
    }
    this._state = 'closed';
    return out;
  }

  /**
   * Acceptor in state `authorizing`: open the connection (queues READY). Returns the
   * `established` event. A no-op returning [] when the session ended meanwhile.
   */
  accept(): SessionEvent[] {
    const out: SessionEvent[] = [];
    if (this._state === 'closing' || this._state === 'closed') return out;
    if (this._state !== 'authorizing') {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `accept() in state ${this._state}`);
    }
    this.step(this.handshake.accept(), out);
    this.readHandshake(out); // bytes that came in while authorizing go to the decoder
    return out;
  }

  /**
   * Acceptor in state `authorizing`: refuse the peer. Queues a clear CLOSE
   * `not-authorized` carrying `text`; returns the `failed` event
   * (`HERALD_ERR_WIRE_NOT_AUTHORIZED`). A no-op returning [] when the session ended
   * meanwhile.
   */
  refuse(text?: string): SessionEvent[] {
    const out: SessionEvent[] = [];
    if (this._state === 'closing' || this._state === 'closed') return out;
    if (this._state !== 'authorizing') {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `refuse() in state ${this._state}`);
    }
    this.step(this.handshake.refuse(text), out);
    return out;
  }

  /** Take handshake frames one by one; once open, hand the rest to the decoder. */
  private readHandshake(out: SessionEvent[]): void {
    for (;;) {
      if (this._state === 'open') {
        const rest = this.reader.rest();
        if (rest.length > 0) this.handle(this.decoder.push(rest), out);
        return;
      }
      if (this._state !== 'handshaking' && this._state !== 'authorizing') return;
      let frame;
      try {
        frame = this.reader.next();
      } catch (err) {
        if (!(err instanceof WireError)) throw err;
        this.failLocal(err);
        out.push({ type: 'failed', error: err });
        return;
      }
      if (frame === null) return;
      if (frame.kind === FrameKind.CLOSE) {
        let info;
        try {
          info = decodeCloseBody(frame.body);
        } catch (err) {
          if (!(err instanceof WireError)) throw err;
          this.failLocal(err);
          out.push({ type: 'failed', error: err });
          return;
        }
        this._state = 'closing';
        if (info.code === CloseReason.ENCRYPTION_REQUIRED && !this.handshake.encrypt) {
          // An encrypting acceptor answers a clear HELLO with this CLOSE instead of its own
          // HELLO (it does no key work first). Report this side's view, as when it reads an
          // encrypting HELLO: the mismatch is that it is configured without encryption.
          out.push({
            type: 'failed',
            error: new WireError(
              'HERALD_ERR_WIRE_ENCRYPTION_REFUSED',
              'the peer requires encryption; this side is configured without it',
            ),
          });
          return;
        }
        out.push({
          type: 'closed',
          code: info.code,
          reason: closeReasonName(info.code),
          text: info.text,
        });
        return;
      }
      this.step(this.handshake.receive(frame), out);
    }
  }

  private step(r: HandshakeResult, out: SessionEvent[]): void {
    this.raw.push(...this.handshake.takeOutput());
    switch (r.type) {
      case 'continue':
        return;
      case 'authorize':
        this._state = 'authorizing';
        out.push({ type: 'authorize', peer: r.peer });
        return;
      case 'failed':
        this._state = 'closing';
        out.push({ type: 'failed', error: r.error });
        return;
      case 'ok': {
        this._peer = r.peer;
        const refused = this.establish(r.cipher, r.peerMaxFrameBytes);
        out.push({
          type: 'established',
          encrypted: r.encrypted,
          peerMaxFrameBytes: r.peerMaxFrameBytes,
          peerKeepaliveMs: r.peerKeepaliveMs,
          peer: r.peer,
        });
        out.push(...refused);
        const opening = this.decoder.push(decoderOpening());
        if (opening.length !== 1 || opening[0]?.type !== 'hello') {
          throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'decoder did not start');
        }
        this.handle(this.decoder.open(r.cipher), out);
        // Open: the handshake's keys and transcript are no longer needed.
        this.hs = null;
        return;
      }
    }
  }

  private handle(events: WireEvent[], out: SessionEvent[]): void {
    for (const ev of events) {
      switch (ev.type) {
        case 'hello': {
          // Unreachable: the decoder's only HELLO is the local stand-in.
          const error = new WireError('HERALD_ERR_WIRE_DUPLICATE_HELLO', 'second HELLO');
          this.failLocal(error);
          out.push({ type: 'failed', error });
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

  /** Opens the writer and writes what was queued early; returns what it refused. */
  private establish(cipher: Cipher | null, peerMaxFrameBytes: number): SessionEvent[] {
    const w = new FrameWriter({ peerMaxFrameBytes, cipher });
    this.writer = w;
    this._state = 'open';
    const refused: SessionEvent[] = [];
    for (const q of this.early) {
      if (q.k === 'message') {
        const r = w.writeMessage(q.msg);
        if (r.type === 'refused') {
          refused.push({ type: 'refused', message: q.msg, reason: r.reason, detail: r.detail });
        }
      } else if (q.k === 'structures') w.writeStructures(q.data);
      else w.writePing(q.seq);
    }
    this.early.length = 0;
    return refused;
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

  /**
   * Queue a message (before the handshake completes, it waits and is sent on
   * `established`). `refused` (type table full) means nothing was queued: report the
   * message as a dead letter.
   */
  send(msg: WireMessage): WriteResult {
    this.checkSendable();
    if (this.writer !== null) return this.writer.writeMessage(msg);
    this.early.push({ k: 'message', msg });
    return QUEUED;
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
    // Partial messages are gone with the connection: their reassembly bytes go back to the
    // process-wide budget now, not when the decoder is collected.
    this.decoder.dispose();
    this._state = 'closed';
    return lost;
  }

  /** Gives back buffer memory an idle connection no longer needs (call on a quiet tick). */
  trim(): void {
    this.writer?.trim();
  }

  /**
   * Everything queued for the peer and not yet returned by `flush()` (handshake frames,
   * the batch, a coalesced PONG, unsent parts of large messages), in bytes; messages queued
   * before the handshake are counted by their bodies.
   */
  get queuedBytes(): number {
    let n = 0;
    for (const r of this.raw) n += r.length;
    for (const q of this.early) n += q.k === 'message' ? q.msg.body.length : 0;
    return n + (this.writer?.queuedBytes ?? 0);
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
