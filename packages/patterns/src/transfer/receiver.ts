/**
 * The receiving end: a file receiver (one per destination directory) that checks each
 * offer and runs each transfer in an actor of its own (incoming.ts). The peer is given the
 * address of its transfer's actor and nothing else.
 *
 * The receiver remembers the last MAX_REMEMBERED_COMPLETIONS completed transfers, so a
 * sender whose connection dropped just before TransferCompleted reached it, and that
 * offers again, is answered with the completion instead of a second copy.
 */
import path from 'node:path';
import type { AnyMessage } from '@herald/codec';
import { Completed, withOptions, type Address, type Envelope, type Self } from '@herald/runtime';
import { BadPatternOptionError } from '../errors.js';
import { peerOf } from '../routing/router.js';
import {
  DEFAULT_MAX_ACTIVE_TRANSFERS,
  DEFAULT_MAX_PARTIAL_FILES,
  DEFAULT_MAX_TRANSFER_BYTES,
  DEFAULT_TRANSFER_PROGRESS_BYTES,
  DEFAULT_TRANSFER_IDLE_MS,
  MAX_TRANSFER_CHUNK_BYTES,
  MAX_TRANSFER_WINDOW,
  MIN_TRANSFER_CHUNK_BYTES,
  TRANSFER_PARTIAL_DIRECTORY,
} from './constants.js';
import { badName, destinationOf, intOption, isTransferId } from './checks.js';
import {
  TransferCompleted,
  transferFailed,
  TransferOffer,
  type TransferFailureReason,
} from './messages.js';
import type { FileReceiverOptions } from './api.js';
import { Incoming, type ReceiverSettings } from './incoming.js';

/** Completed transfers a receiver remembers (in memory) to answer a repeated offer. */
export const MAX_REMEMBERED_COMPLETIONS = 256;

export function startReceiver(self: Self, options: FileReceiverOptions): Address {
  if (typeof options.directory !== 'string' || options.directory.length === 0)
    throw new BadPatternOptionError('directory', 'a file receiver needs a directory');
  if (options.accept !== undefined && typeof options.accept !== 'function')
    throw new BadPatternOptionError('accept', 'accept must be a function');
  const directory = path.resolve(options.directory);
  const settings: ReceiverSettings = {
    directory,
    partials: path.join(directory, TRANSFER_PARTIAL_DIRECTORY),
    notify: options.notify ?? self.address,
    maxBytes: intOption('maxBytes', options.maxBytes, DEFAULT_MAX_TRANSFER_BYTES, 0),
    maxPartialFiles: intOption(
      'maxPartialFiles',
      options.maxPartialFiles,
      DEFAULT_MAX_PARTIAL_FILES,
      1,
    ),
    overwrite: options.overwrite === true,
    progressEveryBytes: intOption(
      'progressEveryBytes',
      options.progressEveryBytes,
      DEFAULT_TRANSFER_PROGRESS_BYTES,
      1,
    ),
    idleMs: intOption('idleMs', options.idleMs, DEFAULT_TRANSFER_IDLE_MS, 1),
    maxChunkBytes: intOption(
      'maxChunkBytes',
      options.maxChunkBytes,
      MAX_TRANSFER_CHUNK_BYTES,
      MIN_TRANSFER_CHUNK_BYTES,
      MAX_TRANSFER_CHUNK_BYTES,
    ),
    maxWindow: intOption(
      'maxWindow',
      options.maxWindow,
      MAX_TRANSFER_WINDOW,
      1,
      MAX_TRANSFER_WINDOW,
    ),
  };
  const maxActive = intOption('maxActive', options.maxActive, DEFAULT_MAX_ACTIVE_TRANSFERS, 1);
  return self.spawn(
    withOptions(new FileReceiver(settings, maxActive, options.accept), { name: 'FileReceiver' }),
  );
}

class FileReceiver {
  readonly name = 'FileReceiver';
  readonly #settings: ReceiverSettings;
  readonly #maxActive: number;
  readonly #accept: ((offer: TransferOffer) => boolean | string) | undefined;
  /** Running transfers by id, and the id of each transfer actor. */
  readonly #active = new Map<string, Address>();
  readonly #ids = new Map<string, string>();
  /** The proven identity that started each running transfer (none for anonymous peers). */
  readonly #owners = new Map<string, string>();
  /** Recently completed transfers (oldest first), as the sender's copy. */
  readonly #completed = new Map<string, TransferCompleted>();

  constructor(
    settings: ReceiverSettings,
    maxActive: number,
    accept: ((offer: TransferOffer) => boolean | string) | undefined,
  ) {
    this.#settings = settings;
    this.#maxActive = maxActive;
    this.#accept = accept;
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    if (TransferOffer.is(message)) this.#onOffer(self, message, envelope);
    else if (Completed.is(message)) this.#onEnded(message, envelope.from);
  }

  #onEnded(message: Completed, from: Address): void {
    const id = this.#ids.get(from.toString());
    if (id === undefined) return;
    this.#ids.delete(from.toString());
    this.#active.delete(id);
    this.#owners.delete(id);
    if (TransferCompleted.is(message.value)) {
      this.#completed.set(id, message.value);
      if (this.#completed.size > MAX_REMEMBERED_COMPLETIONS) {
        const oldest = this.#completed.keys().next().value;
        if (oldest !== undefined) this.#completed.delete(oldest);
      }
    }
  }

  #onOffer(self: Self, offer: TransferOffer, envelope: Envelope): void {
    const refuse = (reason: TransferFailureReason, detail: string): void => {
      self.replyTo(
        envelope,
        transferFailed({
          id: isTransferId(offer.id) ? offer.id : 'invalid',
          name: badName(offer.name) === undefined ? offer.name : 'invalid',
          direction: 'receive',
          reason,
          detail,
          bytes: 0,
        }),
      );
    };
    if (!isTransferId(offer.id)) return refuse('protocol-error', 'bad transfer id');
    const done = this.#completed.get(offer.id);
    if (done !== undefined && done.name === offer.name) {
      self.replyTo(envelope, done);
      return;
    }
    // A proven identity owns its transfers: another peer cannot resume (or hijack) one.
    const owner = peerOf(self, envelope.from).identity;
    const running = this.#active.get(offer.id);
    if (running !== undefined) {
      const holder = this.#owners.get(offer.id);
      if (holder !== undefined && holder !== owner)
        return refuse('refused', 'the transfer belongs to another peer');
      self.forward(running, offer, envelope.from);
      return;
    }
    const why = badName(offer.name);
    if (why !== undefined || destinationOf(this.#settings.directory, offer.name) === undefined)
      return refuse('bad-name', why ?? 'the name leaves the directory');
    if (offer.size !== undefined && (offer.size < 0 || offer.size > this.#settings.maxBytes))
      return refuse('too-large', `over the limit of ${String(this.#settings.maxBytes)} bytes`);
    if (offer.chunkBytes < MIN_TRANSFER_CHUNK_BYTES || offer.window < 1)
      return refuse('protocol-error', 'unusable chunk size or window');
    if (this.#accept !== undefined) {
      let decision: boolean | string;
      try {
        decision = this.#accept(offer);
      } catch (error) {
        decision = error instanceof Error ? error.message : 'accept threw';
      }
      if (decision !== true)
        return refuse('refused', typeof decision === 'string' ? decision : 'not accepted');
    }
    if (this.#active.size >= this.#maxActive)
      return refuse('busy', `${String(this.#maxActive)} transfers already running`);
    const child = self.spawn(
      withOptions(new Incoming(this.#settings, offer, owner), { name: 'TransferReceiver' }),
    );
    this.#active.set(offer.id, child);
    if (owner !== undefined) this.#owners.set(offer.id, owner);
    this.#ids.set(child.toString(), offer.id);
    self.forward(child, offer, envelope.from);
  }
}
