/**
 * One incoming transfer: the actor whose address the sender is given in TransferAccept.
 *
 * Bytes go to `<directory>/.herald-partial/<id>.part` (with `<id>.json` naming the
 * transfer), written in order; each chunk is checked against its own sha256 before it is
 * written, and the sha256 of the whole runs over what is written. An offer with the same id
 * (after a reconnect, or after this process restarted: the partial file is still there)
 * is answered with the bytes already written, re-hashed from the partial file when the
 * process restarted. At the end the file is fsynced, checked (size, sha256) and linked into
 * place under its name (never replacing a file unless `overwrite`); any failure removes the
 * partial file.
 */
import { createHash, type Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import {
  link,
  mkdir,
  open,
  readFile,
  readdir,
  rename,
  stat,
  unlink,
  writeFile,
  type FileHandle,
} from 'node:fs/promises';
import path from 'node:path';
import type { AnyMessage } from '@herald/codec';
import { Timer, type Address, type Envelope, type Self } from '@herald/runtime';
import { destinationOf } from './checks.js';
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

export interface ReceiverSettings {
  readonly directory: string;
  readonly partials: string;
  readonly notify: Address;
  readonly maxBytes: number;
  readonly maxPartialFiles: number;
  readonly overwrite: boolean;
  readonly progressEveryBytes: number;
  readonly idleMs: number;
  readonly maxChunkBytes: number;
  readonly maxWindow: number;
}

const IDLE_TIMER = 'transfer-idle';

type Phase = 'opening' | 'receiving' | 'done';

interface Meta {
  readonly id: string;
  readonly name: string;
  readonly size: number | null;
  /** The proven identity of the peer that started it, or null (anonymous, local). */
  readonly peer: string | null;
}

export class Incoming {
  readonly name = 'TransferReceiver';
  readonly #s: ReceiverSettings;
  readonly #id: string;
  readonly #name: string;
  readonly #size: number | undefined;
  readonly #partPath: string;
  readonly #metaPath: string;
  readonly #destination: string;
  /** The proven identity of the peer that offered it (null: anonymous or local). */
  readonly #owner: string | null;
  #phase: Phase = 'opening';
  #handle: FileHandle | undefined;
  #hash: Hash = createHash('sha256');
  /** Bytes accepted for writing (the next chunk must start here). */
  #expected = 0;
  /** Bytes written (and acknowledged). */
  #written = 0;
  #epoch = 0;
  #chunkBytes = 0;
  /** The sender's actor, as of its last offer. */
  #sender: Address | undefined;
  /** Offers waiting for the file to open (the latest one is answered). */
  #pendingOffer: { offer: TransferOffer; envelope: Envelope } | undefined;
  /** Every write, in order: the next one starts when the last is done. */
  #writes: Promise<void> = Promise.resolve();
  #offers = 0;
  /** Whether this actor opened a partial file (which a failure removes). */
  #created = false;
  /** Whether this actor went on from a partial file an earlier one left (a restart). */
  #fromDisk = false;
  #lastProgress = -1;

  constructor(settings: ReceiverSettings, offer: TransferOffer, owner: string | undefined) {
    this.#s = settings;
    this.#owner = owner ?? null;
    this.#id = offer.id;
    this.#name = offer.name;
    this.#size = offer.size;
    this.#partPath = path.join(settings.partials, `${offer.id}.part`);
    this.#metaPath = path.join(settings.partials, `${offer.id}.json`);
    this.#destination = destinationOf(settings.directory, offer.name) as string;
  }

  start(self: Self): void {
    self.startTimer(IDLE_TIMER, this.#s.idleMs);
    this.#open().then(
      (refusal) => {
        if (this.#phase !== 'opening') return;
        if (refusal === 'exists') {
          this.#fail(self, 'exists', `${this.#name} exists`, true);
          return;
        }
        if (refusal === 'refused') {
          this.#fail(self, 'refused', 'the partial file belongs to another peer', true);
          return;
        }
        if (refusal === 'busy') {
          this.#fail(self, 'busy', `${this.#s.maxPartialFiles} partial files held`, true);
          return;
        }
        this.#phase = 'receiving';
        const pending = this.#pendingOffer;
        this.#pendingOffer = undefined;
        if (pending !== undefined) this.#accept(self, pending.offer, pending.envelope);
      },
      (error: unknown) => this.#fail(self, 'write-error', errorText(error), true),
    );
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    if (TransferChunk.is(message)) this.#onChunk(self, message);
    else if (TransferOffer.is(message)) {
      if (message.id !== this.#id) return;
      if (this.#phase === 'opening') this.#pendingOffer = { offer: message, envelope };
      else if (this.#phase === 'receiving')
        void this.#writes.then(() => this.#accept(self, message, envelope));
    } else if (TransferEnd.is(message)) this.#onEnd(self, message);
    else if (TransferFailed.is(message)) {
      if (message.id === this.#id)
        this.#fail(self, message.reason, `sender: ${message.detail}`, false);
    } else if (Timer.is(message) && message.key === IDLE_TIMER) this.#close(self);
  }

  /** Stopped (the receiver or the process is going away): keep the partial for a resume. */
  onStop(self: Self): void {
    this.#close(self);
  }

  end(): void {
    void this.#handle?.close().catch(() => undefined);
    this.#handle = undefined;
  }

  // ------------------------------------------------------------------ opening

  /**
   * Opens the partial file: resumes one of the same transfer, or starts afresh (when fewer
   * than maxPartialFiles are held). Says why not when the destination exists (and is not
   * to be replaced) or the partials are at their bound: nothing is opened then.
   */
  async #open(): Promise<'exists' | 'busy' | 'refused' | undefined> {
    if (!this.#s.overwrite && (await exists(this.#destination))) return 'exists';
    await mkdir(this.#s.partials, { recursive: true });
    const meta = await readMeta(this.#metaPath);
    // a partial a proven peer started is that peer's: nobody else resumes or replaces it
    if (meta !== undefined && meta.peer !== null && meta.peer !== this.#owner) return 'refused';
    if (
      meta !== undefined &&
      meta.id === this.#id &&
      meta.name === this.#name &&
      meta.size === (this.#size ?? null)
    ) {
      const handle = await open(this.#partPath, 'r+').catch(() => undefined);
      if (handle !== undefined) {
        this.#handle = handle;
        this.#created = true;
        const have = (await handle.stat()).size;
        // Re-hash what is on disk: the running sha256 must cover every byte before `have`.
        const hash = createHash('sha256');
        if (have > 0)
          for await (const data of createReadStream('', {
            fd: handle,
            autoClose: false,
            start: 0,
            end: have - 1,
          }))
            hash.update(data as Buffer);
        this.#hash = hash;
        this.#expected = this.#written = have;
        this.#fromDisk = true;
        return undefined;
      }
    }
    const held = (await readdir(this.#s.partials)).filter((f) => f.endsWith('.part')).length;
    if (held >= this.#s.maxPartialFiles) return 'busy';
    const fresh: Meta = {
      id: this.#id,
      name: this.#name,
      size: this.#size ?? null,
      peer: this.#owner,
    };
    await writeFile(this.#metaPath, JSON.stringify(fresh));
    this.#handle = await open(this.#partPath, 'w');
    this.#created = true;
    return undefined;
  }

  #accept(self: Self, offer: TransferOffer, envelope: Envelope): void {
    if (this.#phase !== 'receiving') return;
    this.#offers += 1;
    this.#epoch += 1;
    this.#expected = this.#written; // chunks of an earlier epoch are ignored from now on
    this.#sender = envelope.from;
    this.#chunkBytes = Math.min(offer.chunkBytes, this.#s.maxChunkBytes);
    self.startTimer(IDLE_TIMER, this.#s.idleMs);
    self.replyTo(
      envelope,
      TransferAccept({
        id: this.#id,
        receiver: self.address,
        offset: this.#written,
        epoch: this.#epoch,
        chunkBytes: this.#chunkBytes,
        window: Math.min(offer.window, this.#s.maxWindow),
      }),
    );
    this.#progress(self, true);
  }

  // ------------------------------------------------------------------ chunks

  #onChunk(self: Self, chunk: TransferChunk): void {
    if (this.#phase !== 'receiving' || chunk.id !== this.#id || chunk.epoch !== this.#epoch) return; // late chunks of an earlier connection
    if (chunk.offset !== this.#expected) return; // a gap: the sender's ack timeout resyncs
    const data = chunk.data;
    if (data.length === 0 || data.length > this.#chunkBytes) {
      this.#fail(self, 'protocol-error', `a chunk of ${String(data.length)} bytes`, true);
      return;
    }
    const end = chunk.offset + data.length;
    if (end > this.#s.maxBytes) {
      this.#fail(self, 'too-large', `over the limit of ${String(this.#s.maxBytes)} bytes`, true);
      return;
    }
    if (this.#size !== undefined && end > this.#size) {
      this.#fail(self, 'size-mismatch', `more than the ${String(this.#size)} bytes declared`, true);
      return;
    }
    const digest = createHash('sha256').update(data).digest();
    if (chunk.sha256.length !== 32 || !digest.equals(chunk.sha256)) {
      this.#fail(
        self,
        'checksum-mismatch',
        `the chunk at offset ${String(chunk.offset)} does not match its sha256`,
        true,
      );
      return;
    }
    this.#expected = end;
    this.#hash.update(data);
    const epoch = this.#epoch;
    const handle = this.#handle as FileHandle;
    self.startTimer(IDLE_TIMER, this.#s.idleMs);
    this.#writes = this.#writes.then(async () => {
      if (this.#phase !== 'receiving') return;
      try {
        let done = 0;
        while (done < data.length) {
          const { bytesWritten } = await handle.write(
            data,
            done,
            data.length - done,
            chunk.offset + done,
          );
          done += bytesWritten;
        }
      } catch (error) {
        this.#fail(self, 'write-error', errorText(error), true);
        return;
      }
      this.#written = end;
      if (this.#sender !== undefined)
        self.send(this.#sender, TransferAck({ id: this.#id, epoch, offset: end }));
      this.#progress(self, false);
    });
  }

  #onEnd(self: Self, end: TransferEnd): void {
    if (this.#phase !== 'receiving' || end.id !== this.#id || end.epoch !== this.#epoch) return;
    void this.#writes.then(async () => {
      if (this.#phase !== 'receiving') return;
      if (end.size !== this.#written || (this.#size !== undefined && end.size !== this.#size)) {
        this.#fail(
          self,
          'size-mismatch',
          `received ${String(this.#written)} bytes, the sender sent ${String(end.size)}`,
          true,
        );
        return;
      }
      const sha256 = this.#hash.digest('hex');
      if (sha256 !== end.sha256) {
        this.#fail(self, 'checksum-mismatch', 'the sha256 of the whole does not match', true);
        return;
      }
      this.#phase = 'done';
      try {
        const handle = this.#handle as FileHandle;
        this.#handle = undefined;
        await handle.sync();
        await handle.close();
        if (this.#s.overwrite) await rename(this.#partPath, this.#destination);
        else {
          await link(this.#partPath, this.#destination); // EEXIST: never replaces a file
          await unlink(this.#partPath);
        }
        await unlink(this.#metaPath).catch(() => undefined);
      } catch (error) {
        this.#phase = 'receiving';
        const code = (error as { code?: string }).code;
        this.#fail(self, code === 'EEXIST' ? 'exists' : 'write-error', errorText(error), true);
        return;
      }
      const completed = (direction: 'send' | 'receive', withPath: boolean) =>
        TransferCompleted({
          id: this.#id,
          name: this.#name,
          direction,
          size: this.#written,
          sha256,
          resumes: this.#resumes(),
          ...(withPath ? { path: this.#destination } : {}),
        });
      if (this.#sender !== undefined) self.send(this.#sender, completed('receive', false));
      this.#progress(self, true);
      this.#finish(self, completed('receive', true));
    });
  }

  // ------------------------------------------------------------------ outcome

  /** Offers after the first, plus one when this actor took over a partial file. */
  #resumes(): number {
    return Math.max(0, this.#offers - 1) + (this.#fromDisk ? 1 : 0);
  }

  #progress(self: Self, force: boolean): void {
    if (!force && this.#written - this.#lastProgress < this.#s.progressEveryBytes) return;
    this.#lastProgress = this.#written;
    self.send(
      this.#s.notify,
      TransferProgress({
        id: this.#id,
        name: this.#name,
        direction: 'receive',
        bytes: this.#written,
        ...(this.#size === undefined ? {} : { size: this.#size }),
        resumes: this.#resumes(),
      }),
    );
  }

  /** Fails the transfer: the partial file goes; `tell` says whether the sender is told. */
  #fail(self: Self, reason: TransferFailureReason, detail: string, tell: boolean): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    const failed = transferFailed({
      id: this.#id,
      name: this.#name,
      direction: 'receive',
      reason,
      detail: detail.slice(0, 1024),
      bytes: this.#written,
    });
    const handle = this.#handle;
    this.#handle = undefined;
    const pending = this.#pendingOffer;
    this.#pendingOffer = undefined;
    if (tell) {
      if (pending !== undefined) self.replyTo(pending.envelope, failed);
      else if (this.#sender !== undefined) self.send(this.#sender, failed);
    }
    void (async () => {
      await handle?.close().catch(() => undefined);
      if (this.#created) {
        await unlink(this.#partPath).catch(() => undefined);
        await unlink(this.#metaPath).catch(() => undefined);
      }
    })().finally(() => this.#finish(self, failed));
  }

  #finish(self: Self, outcome: TransferOutcome): void {
    self.cancelTimer(IDLE_TIMER);
    self.send(this.#s.notify, outcome);
    self.complete(outcome);
  }

  /** Closes the file and ends without an outcome: the partial stays for a later offer. */
  #close(self: Self): void {
    if (this.#phase === 'done') return;
    this.#phase = 'done';
    const handle = this.#handle;
    this.#handle = undefined;
    void this.#writes
      .then(() => handle?.close())
      .catch(() => undefined)
      .finally(() => self.complete());
  }
}

async function exists(file: string): Promise<boolean> {
  try {
    await stat(file);
    return true;
  } catch {
    return false;
  }
}

async function readMeta(file: string): Promise<Meta | undefined> {
  try {
    const value: unknown = JSON.parse(await readFile(file, 'utf8'));
    if (typeof value !== 'object' || value === null) return undefined;
    const m = value as Record<string, unknown>;
    if (typeof m['id'] !== 'string' || typeof m['name'] !== 'string') return undefined;
    const size = m['size'];
    if (size !== null && typeof size !== 'number') return undefined;
    const peer = typeof m['peer'] === 'string' ? m['peer'] : null;
    return { id: m['id'], name: m['name'], size, peer };
  } catch {
    return undefined;
  }
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
