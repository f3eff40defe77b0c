/**
 * One end of a relay stream: a Duplex whose bytes travel as DATA frames over NATS subjects
 * (relay-frames.ts), with the same contract as a net.Socket (transport.ts):
 *
 * - In order and whole: every frame carries the next sequence number of its direction; a
 *   frame out of sequence (lost, repeated, forged) closes the stream with `sequence-gap`
 *   rather than hand the reader a byte stream with a hole in it. NATS core delivers the
 *   messages of one publisher to one subscriber in order, so a gap means loss.
 * - Backpressure end to end: the writer may have at most the peer's window of bytes sent
 *   and not yet acknowledged; the reader acknowledges bytes once its Readable buffer has
 *   taken them (a push below the high-water mark, or a `_read()` after a full buffer), so a
 *   paused reader stops the writer, whose `write()` then returns false until 'drain'. A peer
 *   that sends past the window it was given is closed with `window-exceeded`: what one peer
 *   can make us buffer is bounded by our window.
 * - `end()` sends FIN after the data; the peer reads the data, then 'end'. Streams do not
 *   stay half-open (net's default): a side that sees 'end' ends its own side after what it
 *   has written, then both close.
 * - `destroy()` sends RESET (reason `closed`); the peer reads what had arrived, then 'end'
 *   and 'close', as after a TCP close. A RESET with any other reason destroys the peer's
 *   stream with `peer-reset`.
 * - A peer that vanishes (its process or NATS connection gone) is noticed by silence: each
 *   side PINGs when it has sent nothing for `keepaliveMs`, and closes with `peer-timeout`
 *   after `timeoutMs` without a frame.
 */
import { Duplex } from 'node:stream';
import type { Clock, TimerHandle } from '@herald/runtime';
import type { TransportAddress } from '@herald/net';
import { RelayStreamError, type RelayCloseReason } from './errors.js';
import {
  MAX_RELAY_ACK,
  MAX_RELAY_SEQ,
  decodeRelayFrame,
  encodeAccept,
  encodeAck,
  encodeData,
  encodeFin,
  encodePing,
  encodeReset,
} from './relay-frames.js';

/** Publishes one frame to a subject; throws when the NATS connection is closed. */
export type RelayPublish = (subject: string, frame: Uint8Array) => void;

export interface RelayStreamParams {
  readonly publish: RelayPublish;
  /** Where the peer receives this side's frames. */
  readonly peerSubject: string;
  /** Bytes this side may have unacknowledged at the peer (the peer's window). */
  readonly peerWindow: number;
  /** Bytes the peer may have unacknowledged here (this side's window). */
  readonly window: number;
  readonly maxChunkBytes: number;
  readonly keepaliveMs: number;
  readonly timeoutMs: number;
  readonly clock: Clock;
  readonly highWaterMark: number;
  readonly local: TransportAddress;
  readonly remote: TransportAddress;
  /**
   * The listening end: its first frame is ACCEPT (seq 0) naming this subject; the dialing
   * end has already taken the peer's ACCEPT (its next expected sequence number is 1).
   */
  readonly acceptWith?: string;
  /** Called once when the stream is gone (the transport forgets it). */
  readonly onGone: () => void;
}

interface PendingWrite {
  readonly chunk: Uint8Array;
  offset: number;
  readonly callback: (error?: Error | null) => void;
}

export class RelayStream extends Duplex {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #p: RelayStreamParams;
  readonly #ackThreshold: number;
  #outSeq = 0;
  #inSeq: number;
  /** DATA payload bytes sent, and the peer's cumulative acknowledgement of them. */
  #sent = 0;
  #peerAcked = 0;
  /** DATA payload bytes received; taken by the Readable buffer; acknowledged to the peer. */
  #received = 0;
  #taken = 0;
  #ackSent = 0;
  #pending: PendingWrite | undefined;
  #peerEnded = false;
  /** The peer reset the stream or can no longer be reached: nothing more is sent. */
  #peerGone = false;
  #finSent = false;
  #lastSent: number;
  #lastReceived: number;
  #timer: TimerHandle | undefined;
  #gone = false;

  constructor(params: RelayStreamParams) {
    super({
      allowHalfOpen: false,
      readableHighWaterMark: params.highWaterMark,
      writableHighWaterMark: params.highWaterMark,
    });
    this.#p = params;
    this.localAddress = params.local.host;
    this.localPort = params.local.port;
    this.remoteAddress = params.remote.host;
    this.remotePort = params.remote.port;
    this.#ackThreshold = Math.max(1, Math.floor(params.window / 4));
    this.#inSeq = params.acceptWith === undefined ? 1 : 0;
    this.#lastSent = this.#lastReceived = params.clock.now();
    if (params.acceptWith !== undefined) {
      const subject = params.acceptWith;
      this.#send((seq) => encodeAccept(seq, params.window, subject));
    }
    this.#arm();
  }

  /** Takes one NATS message from the peer. A frame that breaks the protocol closes the stream. */
  receive(payload: Uint8Array): void {
    if (this.destroyed) return;
    // DATA is bounded by this side's window, not by its own chunk size: the two ends may
    // be configured with different chunk sizes, and no DATA may exceed the window anyway.
    const frame = decodeRelayFrame(payload, this.#p.window);
    if (frame.type === 'malformed') return this.#fail('malformed', frame.detail);
    if (frame.type === 'connect' || frame.type === 'refuse' || frame.type === 'accept')
      return this.#fail('malformed', `${frame.type.toUpperCase()} on an open stream`);
    if (frame.seq !== this.#inSeq)
      return this.#fail('sequence-gap', `frame ${frame.seq} where ${this.#inSeq} was due`);
    this.#inSeq++;
    this.#lastReceived = this.#p.clock.now();
    switch (frame.type) {
      case 'data': {
        if (this.#peerEnded) return this.#fail('malformed', 'DATA after FIN');
        const length = frame.bytes.length;
        if (this.#received + length - this.#ackSent > this.#p.window)
          return this.#fail(
            'window-exceeded',
            `${this.#received + length - this.#ackSent} bytes unacknowledged, window ${this.#p.window}`,
          );
        this.#received += length;
        // The frame's bytes are a view of the NATS message buffer: copy what the reader keeps.
        if (this.push(Buffer.from(frame.bytes))) this.#taken = this.#received;
        this.#maybeAck();
        return;
      }
      case 'ack':
        if (frame.consumed < this.#peerAcked || frame.consumed > this.#sent)
          return this.#fail(
            'malformed',
            `ACK of ${frame.consumed} bytes (acknowledged ${this.#peerAcked}, sent ${this.#sent})`,
          );
        this.#peerAcked = frame.consumed;
        this.#pumpWrites();
        return;
      case 'fin':
        if (this.#peerEnded) return this.#fail('malformed', 'a second FIN');
        this.#peerEnded = true;
        this.push(null);
        return;
      case 'reset':
        this.#peerGone = true;
        if (frame.reason !== 'closed') {
          this.destroy(new RelayStreamError('peer-reset', `the peer reset it (${frame.reason})`));
          return;
        }
        // As after a TCP close: what arrived is read, then 'end'; what is still to be
        // written goes nowhere.
        this.#releasePending();
        if (!this.#peerEnded) {
          this.#peerEnded = true;
          this.push(null);
        }
        return;
      case 'ping':
        return;
    }
  }

  /** Closes the stream because the NATS connection under it closed. */
  natsClosed(): void {
    this.#peerGone = true;
    this.#fail('nats-closed', 'the NATS connection closed');
  }

  override _write(
    chunk: Buffer,
    _encoding: BufferEncoding,
    callback: (error?: Error | null) => void,
  ): void {
    if (this.#peerGone) return callback();
    this.#pending = { chunk, offset: 0, callback };
    this.#pumpWrites();
  }

  override _final(callback: (error?: Error | null) => void): void {
    if (!this.#peerGone && !this.#finSent) {
      this.#finSent = true;
      this.#send((seq) => encodeFin(seq));
    }
    callback();
  }

  override _read(): void {
    if (this.#taken === this.#received) return;
    // The reader took bytes out of a full buffer: everything received may be acknowledged.
    this.#taken = this.#received;
    if (this.#taken > this.#ackSent) this.#sendAck();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    // A clean end (FIN both ways) needs nothing more; anything else tells the peer it is over.
    const clean = error === null && this.#finSent && this.#peerEnded;
    if (!this.#peerGone && !clean) {
      const reason = error instanceof RelayStreamError ? error.reason : 'closed';
      this.#send((seq) => encodeReset(seq, reason));
    }
    this.#peerGone = true;
    this.#pending = undefined;
    this.#forget();
    callback(error);
  }

  #fail(reason: RelayCloseReason, detail: string): void {
    if (this.destroyed) return;
    this.destroy(new RelayStreamError(reason, detail));
  }

  /** Sends the frame made for the next sequence number; a closed connection fails the stream. */
  #send(make: (seq: number) => Uint8Array): void {
    if (this.#peerGone) return;
    if (this.#outSeq > MAX_RELAY_SEQ) {
      this.#peerGone = true;
      this.#fail('sequence-gap', 'sequence numbers exhausted');
      return;
    }
    const frame = make(this.#outSeq++);
    try {
      this.#p.publish(this.#p.peerSubject, frame);
    } catch (error) {
      this.#peerGone = true;
      if (!this.destroyed)
        this.destroy(new RelayStreamError('nats-closed', 'cannot publish', { cause: error }));
      return;
    }
    this.#lastSent = this.#p.clock.now();
  }

  #pumpWrites(): void {
    for (;;) {
      const pending = this.#pending;
      if (pending === undefined || this.#peerGone) return;
      const room = this.#p.peerWindow - (this.#sent - this.#peerAcked);
      if (room <= 0) return;
      const end = Math.min(
        pending.chunk.length,
        pending.offset + room,
        pending.offset + this.#p.maxChunkBytes,
      );
      const piece = pending.chunk.subarray(pending.offset, end);
      pending.offset = end;
      if (this.#sent + piece.length > MAX_RELAY_ACK) {
        this.#fail('sequence-gap', 'byte count exhausted');
        return;
      }
      this.#sent += piece.length;
      this.#send((seq) => encodeData(seq, piece));
      if (pending.offset === pending.chunk.length) {
        this.#pending = undefined;
        pending.callback();
      }
    }
  }

  #releasePending(): void {
    const pending = this.#pending;
    this.#pending = undefined;
    pending?.callback();
  }

  #maybeAck(): void {
    if (this.#taken - this.#ackSent >= this.#ackThreshold) this.#sendAck();
  }

  #sendAck(): void {
    const taken = this.#taken;
    this.#ackSent = taken;
    this.#send((seq) => encodeAck(seq, taken));
  }

  /** The keep-alive tick: PING when quiet, close when the peer has been silent too long. */
  #arm(): void {
    const tick = Math.max(1, Math.min(this.#p.keepaliveMs, Math.floor(this.#p.timeoutMs / 2)));
    this.#timer = this.#p.clock.setTimeout(() => {
      this.#timer = undefined;
      if (this.destroyed) return;
      const now = this.#p.clock.now();
      if (now - this.#lastReceived >= this.#p.timeoutMs) {
        this.#fail('peer-timeout', `nothing from the peer for ${now - this.#lastReceived} ms`);
        return;
      }
      if (now - this.#lastSent >= this.#p.keepaliveMs) this.#send((seq) => encodePing(seq));
      this.#arm();
    }, tick);
  }

  #forget(): void {
    if (this.#gone) return;
    this.#gone = true;
    if (this.#timer !== undefined) this.#p.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#p.onGone();
  }
}
