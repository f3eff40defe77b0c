/**
 * The sending end of a transfer: one actor per transfer (docs/transfer.md).
 *
 * It offers the transfer, then reads the source only as the window opens: every chunk read
 * waits in `unacked` until the receiver acknowledges it, so memory is at most `window`
 * chunks whatever the size of the file. The sha256 of the whole runs over the bytes in
 * order as they are first read. When the receiver's transfer actor goes away (the
 * connection dropped: the watch ends it) or stops acknowledging, the sender offers again
 * with the same id; the receiver answers with what it has and the sender goes on from
 * there, from memory (what is still unacknowledged) or by reading the file again.
 *
 * The sender is a top-level actor that watches `notify`: it is cancelled when the actor
 * that wants the outcome ends, and nobody gets a Completed for it.
 */
import { createHash, randomBytes, type Hash } from 'node:crypto';
import { realpath } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import type { AnyMessage } from '@herald/codec';
import { Terminated, Timer, Unanswered, type Address, type Self } from '@herald/runtime';
import {
  DEFAULT_TRANSFER_ACK_TIMEOUT_MS,
  DEFAULT_TRANSFER_CHUNK_BYTES,
  DEFAULT_TRANSFER_MAX_RESUMES,
  DEFAULT_TRANSFER_OFFER_TIMEOUT_MS,
  DEFAULT_TRANSFER_PROGRESS_BYTES,
  DEFAULT_TRANSFER_RESUME_DELAY_MS,
  DEFAULT_TRANSFER_WINDOW,
  MAX_TRANSFER_CHUNK_BYTES,
  MAX_TRANSFER_WINDOW,
  MIN_TRANSFER_CHUNK_BYTES,
} from './constants.js';
import { BadPatternOptionError } from '../errors.js';
import { badName, intOption, isTransferId, sendLow } from './checks.js';
import {
  TransferAccept,
  TransferAck,
  TransferChunk,
  TransferCompleted,
  TransferEnd,
  TransferFailed,
  TransferOffer,
  TransferProgress,
  transferFailed,
  type TransferFailureReason,
  type TransferOutcome,
} from './messages.js';
import { openFileSource, streamSource, type ChunkSource } from './source.js';
import type { SendFileOptions, SendStreamOptions, TransferOptions } from './api.js';

const ACK_TIMER = 'transfer-ack';
const RESUME_TIMER = 'transfer-resume';

interface Settings {
  readonly to: Address;
  readonly notify: Address;
  readonly name: string;
  readonly chunkBytes: number;
  readonly window: number;
  readonly progressEveryBytes: number;
  readonly offerTimeoutMs: number;
  readonly ackTimeoutMs: number;
  readonly resumeDelayMs: number;
  readonly maxResumes: number;
}

function settingsOf(self: Self, to: Address, name: string, options: TransferOptions): Settings {
  const why = badName(name);
  if (why !== undefined) throw new BadPatternOptionError('name', `bad transfer name: ${why}`);
  if (options.id !== undefined && !isTransferId(options.id))
    throw new BadPatternOptionError('id', 'a transfer id is 1 to 64 of A-Z a-z 0-9 _ -');
  return {
    to,
    notify: options.notify ?? self.address,
    name,
    chunkBytes: intOption(
      'chunkBytes',
      options.chunkBytes,
      DEFAULT_TRANSFER_CHUNK_BYTES,
      MIN_TRANSFER_CHUNK_BYTES,
      MAX_TRANSFER_CHUNK_BYTES,
    ),
    window: intOption('window', options.window, DEFAULT_TRANSFER_WINDOW, 1, MAX_TRANSFER_WINDOW),
    progressEveryBytes: intOption(
      'progressEveryBytes',
      options.progressEveryBytes,
      DEFAULT_TRANSFER_PROGRESS_BYTES,
      1,
    ),
    offerTimeoutMs: intOption(
      'offerTimeoutMs',
      options.offerTimeoutMs,
      DEFAULT_TRANSFER_OFFER_TIMEOUT_MS,
      1,
    ),
    ackTimeoutMs: intOption(
      'ackTimeoutMs',
      options.ackTimeoutMs,
      DEFAULT_TRANSFER_ACK_TIMEOUT_MS,
      1,
    ),
    resumeDelayMs: intOption(
      'resumeDelayMs',
      options.resumeDelayMs,
      DEFAULT_TRANSFER_RESUME_DELAY_MS,
      0,
    ),
    maxResumes: intOption('maxResumes', options.maxResumes, DEFAULT_TRANSFER_MAX_RESUMES, 0),
  };
}

export function startFileSender(
  self: Self,
  to: Address,
  file: string,
  options: SendFileOptions,
): Address {
  const settings = settingsOf(self, to, options.name ?? path.basename(file), options);
  const opened = (async () => {
    const source = await openFileSource(file);
    const id =
      options.id ??
      createHash('sha256')
        .update(`${await realpath(file)}\0${String(source.size)}\0${String(source.mtimeMs)}`)
        .digest('hex')
        .slice(0, 32);
    return { source, id };
  })();
  return self.runtime.spawn(new Sender(settings, opened));
}

export function startStreamSender(
  self: Self,
  to: Address,
  stream: Readable | AsyncIterable<Uint8Array>,
  options: SendStreamOptions,
): Address {
  const settings = settingsOf(self, to, options.name, options);
  if (options.size !== undefined) intOption('size', options.size, 0, 0);
  const id = options.id ?? randomBytes(16).toString('hex');
  return self.runtime.spawn(
    new Sender(settings, Promise.resolve({ source: streamSource(stream, options.size), id })),
  );
}

interface Chunk {
  readonly offset: number;
  readonly data: Uint8Array;
  readonly sha256: Uint8Array;
}

type Phase = 'opening' | 'offering' | 'sending' | 'ending' | 'verifying' | 'done';

/** One transfer's sending actor (a Handler). */
class Sender {
  readonly name = 'TransferSender';
  readonly #s: Settings;
  readonly #opened: Promise<{ source: ChunkSource; id: string }>;
  #source: ChunkSource | undefined;
  #id = '';
  #phase: Phase = 'opening';
  /** The receiver's actor for this transfer (from its Accept), while there is one. */
  #target: Address | undefined;
  #epoch = 0;
  #chunkBytes: number;
  #window: number;
  /** Read, sent or not, not yet acknowledged; ascending offsets, contiguous. */
  #unacked: Chunk[] = [];
  /** Index in #unacked of the first chunk not yet sent in this epoch. */
  #nextSend = 0;
  /** Offset of the next byte to read from the source. */
  #readOffset = 0;
  #reading = false;
  #eof = false;
  readonly #hash: Hash = createHash('sha256');
  /** Bytes fed to #hash: always the prefix [0, #hashed). */
  #hashed = 0;
  #acked = 0;
  #resumes = 0;
  /** Offers made since the last Accept (an Accept resets it). */
  #attempts = 0;
  #lastProgress = -1;
  /** Offers made in all: an answer to an older one is ignored. */
  #offers = 0;

  constructor(settings: Settings, opened: Promise<{ source: ChunkSource; id: string }>) {
    this.#s = settings;
    this.#opened = opened;
    this.#chunkBytes = settings.chunkBytes;
    this.#window = settings.window;
  }

  start(self: Self): void {
    self.watch(this.#s.notify);
    this.#opened.then(
      ({ source, id }) => {
        this.#source = source;
        this.#id = id;
        if (this.#phase !== 'opening') return; // stopped meanwhile
        this.#offer(self);
      },
      (error: unknown) => this.#fail(self, 'source-error', errorText(error), false),
    );
  }

  receive(self: Self, message: AnyMessage): void {
    if (TransferAck.is(message)) this.#onAck(self, message);
    else if (TransferAccept.is(message)) {
      // An answer to an offer that lost its correlation on the way (a group member held
      // it while reconnecting): still the answer, while this sender is offering.
      if (this.#phase === 'offering') this.#onAccept(self, message);
    } else if (TransferCompleted.is(message)) this.#onCompleted(self, message);
    else if (TransferFailed.is(message)) {
      if (message.id === this.#id && this.#phase !== 'done')
        this.#finish(self, this.#failed(message.reason, `receiver: ${message.detail}`));
    } else if (Terminated.is(message)) {
      if (message.address.equals(this.#s.notify)) this.#cancel(self, 'the notified actor ended');
      else if (this.#target !== undefined && message.address.equals(this.#target))
        this.#lost(self, 'receiver-lost', true);
    } else if (Timer.is(message)) {
      if (message.key === ACK_TIMER) this.#lost(self, 'ack-timeout', false);
      else if (message.key === RESUME_TIMER && this.#phase === 'offering') this.#offer(self);
    }
  }

  onStop(self: Self): void {
    this.#cancel(self, 'the sender was stopped');
  }

  end(): void {
    void this.#source?.close().catch(() => undefined);
  }

  // ------------------------------------------------------------------ offer / resume

  #offer(self: Self): void {
    this.#phase = 'offering';
    this.#attempts += 1;
    const attempt = ++this.#offers;
    const offer = TransferOffer({
      id: this.#id,
      name: this.#s.name,
      ...(this.#source?.size === undefined ? {} : { size: this.#source.size }),
      chunkBytes: this.#s.chunkBytes,
      window: this.#s.window,
    });
    void self
      .ask(this.#s.to, offer, TransferAccept, TransferFailed, TransferCompleted, {
        timeout: this.#s.offerTimeoutMs,
      })
      .then((answer) => {
        if (this.#phase !== 'offering' || attempt !== this.#offers) return;
        if (TransferAccept.is(answer)) this.#onAccept(self, answer);
        else if (TransferCompleted.is(answer)) this.#onCompleted(self, answer);
        else if (TransferFailed.is(answer))
          this.#finish(self, this.#failed(answer.reason, `receiver: ${answer.detail}`));
        else this.#retry(self, Unanswered.is(answer) ? 'unanswered' : 'offer timed out');
      });
  }

  /** The receiver went away or went silent: offer again (the same id), within the bound. */
  #lost(self: Self, why: string, ended: boolean): void {
    if (this.#phase !== 'sending' && this.#phase !== 'ending') return;
    self.cancelTimer(ACK_TIMER);
    if (this.#target !== undefined && !ended) self.unwatch(this.#target);
    this.#target = undefined;
    this.#resumes += 1;
    self.log.info({ transfer: this.#id, why, acked: this.#acked }, 'transfer interrupted');
    this.#attempts = 0;
    this.#offer(self);
  }

  #retry(self: Self, why: string): void {
    if (this.#attempts > this.#s.maxResumes) {
      this.#finish(
        self,
        this.#failed('unreachable', `no answer to ${String(this.#attempts)} offers (${why})`),
      );
      return;
    }
    self.startTimer(RESUME_TIMER, this.#s.resumeDelayMs);
  }

  #onAccept(self: Self, accept: TransferAccept): void {
    if (accept.id !== this.#id) return;
    const source = this.#source as ChunkSource;
    if (
      accept.chunkBytes < MIN_TRANSFER_CHUNK_BYTES ||
      accept.chunkBytes > this.#s.chunkBytes ||
      accept.window < 1 ||
      accept.window > this.#s.window ||
      accept.offset < 0 ||
      (source.size !== undefined && accept.offset > source.size)
    ) {
      self.send(accept.receiver, this.#failed('protocol-error', 'unusable accept'));
      this.#finish(self, this.#failed('protocol-error', 'the receiver sent an unusable Accept'));
      return;
    }
    const offset = accept.offset;
    // Keep what is held from `offset` on (cut the first chunk if offset falls inside it).
    const kept: Chunk[] = [];
    for (const c of this.#unacked) {
      const end = c.offset + c.data.length;
      if (end <= offset) continue;
      if (c.offset < offset) {
        const data = c.data.subarray(offset - c.offset);
        kept.push({ offset, data, sha256: createHash('sha256').update(data).digest() });
      } else kept.push(c);
    }
    if (kept[0]?.offset === offset) {
      this.#unacked = kept; // resend from memory; reading goes on where it was
    } else {
      this.#unacked = [];
      if (offset < this.#readOffset) {
        if (!source.seekable) {
          this.#finish(
            self,
            this.#failed(
              'source-error',
              `the receiver has ${String(offset)} bytes and a stream cannot be read again from there`,
            ),
          );
          return;
        }
        this.#readOffset = offset; // read the file again from the receiver's offset
        this.#eof = false;
      } else this.#readOffset = offset; // a restarted sender: #advanceHash catches up
    }
    this.#target = accept.receiver;
    this.#epoch = accept.epoch;
    this.#window = accept.window;
    this.#chunkBytes = accept.chunkBytes;
    this.#acked = offset;
    this.#nextSend = 0;
    this.#attempts = 0;
    this.#phase = 'sending';
    self.watch(accept.receiver);
    if (this.#resumes > 0 || offset > 0) this.#progress(self, true);
    this.#advanceHash(self, offset);
  }

  /**
   * The receiver has more than this sender has hashed (a restarted sender): hash the
   * source up to `offset` before sending on, so the sha256 of the whole stays right.
   */
  #advanceHash(self: Self, offset: number): void {
    if (this.#hashed >= offset) {
      this.#flush(self);
      return;
    }
    const source = this.#source as ChunkSource;
    this.#reading = true;
    const epoch = this.#epoch;
    const step = Math.min(this.#chunkBytes, offset - this.#hashed);
    source.read(this.#hashed, step).then(
      (data) => {
        this.#reading = false;
        if (this.#phase === 'done') return;
        if (data.length === 0) {
          this.#finish(self, this.#failed('source-error', 'the source is shorter than before'));
          return;
        }
        this.#hash.update(data);
        this.#hashed += data.length;
        if (this.#readOffset < this.#hashed) this.#readOffset = this.#hashed;
        if (epoch === this.#epoch && this.#phase === 'sending') this.#advanceHash(self, offset);
      },
      (error: unknown) => this.#fail(self, 'source-error', errorText(error), true),
    );
  }

  // ------------------------------------------------------------------ sending

  /** Sends what is held and not yet sent in this epoch, then reads more if the window allows. */
  #flush(self: Self): void {
    if (this.#phase !== 'sending' || this.#target === undefined) return;
    while (this.#nextSend < this.#unacked.length) {
      const c = this.#unacked[this.#nextSend] as Chunk;
      sendLow(
        self,
        this.#target,
        TransferChunk({
          id: this.#id,
          epoch: this.#epoch,
          offset: c.offset,
          data: c.data,
          sha256: c.sha256,
        }),
      );
      this.#nextSend += 1;
    }
    if (this.#unacked.length > 0) self.startTimer(ACK_TIMER, this.#s.ackTimeoutMs);
    this.#pump(self);
  }

  #pump(self: Self): void {
    if (this.#phase !== 'sending' || this.#reading) return;
    if (this.#eof) {
      if (this.#unacked.length === 0) this.#end(self);
      return;
    }
    if (this.#unacked.length >= this.#window) return;
    const source = this.#source as ChunkSource;
    const offset = this.#readOffset;
    this.#reading = true;
    source.read(offset, this.#chunkBytes).then(
      (data) => {
        this.#reading = false;
        if (this.#phase === 'done') return;
        if (offset !== this.#readOffset) {
          this.#pump(self); // a resume moved the read position meanwhile: read again
          return;
        }
        if (data.length === 0) {
          this.#eof = true;
        } else {
          if (offset === this.#hashed) {
            this.#hash.update(data);
            this.#hashed += data.length;
          }
          this.#readOffset = offset + data.length;
          this.#unacked.push({
            offset,
            data,
            sha256: createHash('sha256').update(data).digest(),
          });
        }
        this.#flush(self);
      },
      (error: unknown) => this.#fail(self, 'source-error', errorText(error), true),
    );
  }

  #onAck(self: Self, ack: TransferAck): void {
    if (ack.id !== this.#id || ack.epoch !== this.#epoch || this.#phase !== 'sending') return;
    if (ack.offset <= this.#acked) return;
    let dropped = 0;
    while (dropped < this.#unacked.length) {
      const c = this.#unacked[dropped] as Chunk;
      if (c.offset + c.data.length > ack.offset) break;
      dropped += 1;
    }
    this.#unacked.splice(0, dropped);
    this.#nextSend = Math.max(0, this.#nextSend - dropped);
    this.#acked = ack.offset;
    if (this.#unacked.length === 0) self.cancelTimer(ACK_TIMER);
    else self.startTimer(ACK_TIMER, this.#s.ackTimeoutMs);
    this.#progress(self, false);
    this.#pump(self);
  }

  #end(self: Self): void {
    this.#phase = 'ending';
    const size = this.#readOffset;
    self.send(
      this.#target as Address,
      TransferEnd({
        id: this.#id,
        epoch: this.#epoch,
        size,
        sha256: this.#hash.copy().digest('hex'),
      }),
    );
    self.startTimer(ACK_TIMER, this.#s.ackTimeoutMs);
  }

  #onCompleted(self: Self, done: TransferCompleted): void {
    if (done.id !== this.#id || this.#phase === 'done' || this.#phase === 'verifying') return;
    if (this.#hashed !== done.size && this.#source?.seekable === true) {
      // A completion for bytes this sender has not hashed (it restarted, or the receiver
      // remembered an earlier transfer with this id): hash the file before believing it.
      this.#phase = 'verifying';
      void this.#hashTo(done.size).then(
        (complete) => this.#completeWith(self, done, complete),
        (error: unknown) => this.#finish(self, this.#failed('source-error', errorText(error))),
      );
      return;
    }
    this.#completeWith(self, done, this.#hashed === done.size);
  }

  /** Hashes the (seekable) source on from #hashed to `size`; false if it ends before. */
  async #hashTo(size: number): Promise<boolean> {
    const source = this.#source as ChunkSource;
    while (this.#hashed < size) {
      const data = await source.read(this.#hashed, Math.min(this.#chunkBytes, size - this.#hashed));
      if (data.length === 0) return false;
      this.#hash.update(data);
      this.#hashed += data.length;
    }
    return (await source.read(size, 1)).length === 0; // and no more than that
  }

  #completeWith(self: Self, done: TransferCompleted, hashed: boolean): void {
    if (this.#phase === 'done') return;
    if (!hashed && this.#source?.seekable === true) {
      this.#finish(self, this.#failed('size-mismatch', 'the receiver reports another size'));
      return;
    }
    if (hashed && this.#hash.copy().digest('hex') !== done.sha256) {
      this.#finish(self, this.#failed('checksum-mismatch', 'the receiver reports another sha256'));
      return;
    }
    this.#acked = done.size;
    this.#finish(
      self,
      TransferCompleted({
        id: this.#id,
        name: this.#s.name,
        direction: 'send',
        size: done.size,
        sha256: done.sha256,
        resumes: this.#resumes,
      }),
    );
  }

  // ------------------------------------------------------------------ outcome

  #progress(self: Self, force: boolean): void {
    if (!force && this.#acked - this.#lastProgress < this.#s.progressEveryBytes) return;
    this.#lastProgress = this.#acked;
    const size = this.#source?.size;
    self.send(
      this.#s.notify,
      TransferProgress({
        id: this.#id,
        name: this.#s.name,
        direction: 'send',
        bytes: this.#acked,
        ...(size === undefined ? {} : { size }),
        resumes: this.#resumes,
      }),
    );
  }

  #failed(reason: TransferFailureReason, detail: string): TransferFailed {
    return transferFailed({
      id: this.#id,
      name: this.#s.name,
      direction: 'send',
      reason,
      detail: detail.slice(0, 1024),
      bytes: this.#acked,
    });
  }

  /** Fails on this side; `tell` says whether the receiver is told (so it drops its partial). */
  #fail(self: Self, reason: TransferFailureReason, detail: string, tell: boolean): void {
    if (this.#phase === 'done') return;
    const failed = this.#failed(reason, detail);
    if (tell && this.#target !== undefined) self.send(this.#target, failed);
    this.#finish(self, failed);
  }

  #cancel(self: Self, detail: string): void {
    this.#fail(self, 'cancelled', detail, true);
  }

  #finish(self: Self, outcome: TransferOutcome): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    self.cancelTimer(ACK_TIMER);
    self.cancelTimer(RESUME_TIMER);
    this.#unacked = [];
    if (TransferCompleted.is(outcome)) this.#progress(self, true);
    self.send(this.#s.notify, outcome);
    self.complete(outcome);
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
