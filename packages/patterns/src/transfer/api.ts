/**
 * File and stream transfer (issue 13 item 6; docs/transfer.md): a file or any readable
 * stream crosses a connection in chunks, with a window of acknowledged chunks (the sender
 * holds at most `window` chunks, never the whole file), a sha256 per chunk and for the whole
 * transfer, resumption after a reconnect or a restart, progress notices at both ends, and
 * one typed outcome: TransferCompleted or TransferFailed with a reason.
 *
 * ```ts
 * // receiving side: everything lands inside `directory`, nowhere else
 * const receiver = spawnFileReceiver(self, { directory: '/srv/inbox' });
 * listen(self, { port: 4000 }, {
 *   messages: transferMessages,
 *   session: sessionOf(transferSession, receiver),
 * });
 * // sending side: `to` is the peer (its proxy, or better a group member, which reconnects)
 * sendFile(self, to, './report.pdf');
 * const outcome = await self.receive(TransferCompleted, TransferFailed);
 * ```
 */
import type { Readable } from 'node:stream';
import type { Address, Self } from '@herald/runtime';
import type { SessionContext } from '@herald/net';
import { startFileSender, startStreamSender } from './sender.js';
import { startReceiver } from './receiver.js';
import { TransferOffer } from './messages.js';

/** Options of both sendFile and sendStream. Every default is in constants.ts. */
export interface TransferOptions {
  /**
   * The resume key. The same id continues the same transfer after a reconnect or a restart
   * of either end. Default for a file: derived from its real path, size and modification
   * time (a restarted sender resumes by itself); for a stream: random.
   */
  readonly id?: string;
  /** Chunk size in bytes. Default DEFAULT_TRANSFER_CHUNK_BYTES (one wire frame); MIN_TRANSFER_CHUNK_BYTES..MAX_TRANSFER_CHUNK_BYTES. */
  readonly chunkBytes?: number;
  /** Unacknowledged chunks in flight. Default DEFAULT_TRANSFER_WINDOW (16); 1..MAX_TRANSFER_WINDOW. */
  readonly window?: number;
  /**
   * Who gets TransferProgress and the outcome (TransferCompleted / TransferFailed). Default:
   * the calling actor. The transfer is cancelled if this actor ends.
   */
  readonly notify?: Address;
  /** A progress notice at least every this many bytes. Default DEFAULT_TRANSFER_PROGRESS_BYTES. */
  readonly progressEveryBytes?: number;
  /** Time an offer may wait for its answer. Default DEFAULT_TRANSFER_OFFER_TIMEOUT_MS. */
  readonly offerTimeoutMs?: number;
  /** Time without an acknowledgement before the sender re-offers. Default DEFAULT_TRANSFER_ACK_TIMEOUT_MS. */
  readonly ackTimeoutMs?: number;
  /** Pause before a re-offer that follows an unreachable receiver. Default DEFAULT_TRANSFER_RESUME_DELAY_MS. */
  readonly resumeDelayMs?: number;
  /** Re-offers before failing with `unreachable`. Default DEFAULT_TRANSFER_MAX_RESUMES. */
  readonly maxResumes?: number;
}

export interface SendFileOptions extends TransferOptions {
  /** The name the receiver gives the file (a plain name, no path). Default: the path's base name. */
  readonly name?: string;
}

export interface SendStreamOptions extends TransferOptions {
  /** The name the receiver gives the file (a plain name, no path). */
  readonly name: string;
  /** Total bytes, when known: the receiver can refuse a too-large stream at once. */
  readonly size?: number;
}

/**
 * Sends the file at `path` to `to`: the peer's receiver (its default target forwarding to
 * a file receiver, see transferSession), through a connection's proxy or, to survive a
 * reconnect, a group member's address. Returns the transfer actor's address at once (send
 * it Stop to cancel); `notify` gets TransferProgress notices, then TransferCompleted or
 * TransferFailed. Options are checked here and throw BadPatternOptionError.
 */
export function sendFile(
  self: Self,
  to: Address,
  path: string,
  options: SendFileOptions = {},
): Address {
  return startFileSender(self, to, path, options);
}

/**
 * Sends a readable stream (a Node Readable or any async iterable of bytes) to `to`, like
 * sendFile. The stream is read only as the window opens, so a fast source waits for a slow
 * receiver. After a reconnect the sender resends what was not acknowledged from memory (at
 * most `window` chunks); a stream cannot be read again, so a restarted sender cannot resume
 * a stream (a file can).
 */
export function sendStream(
  self: Self,
  to: Address,
  source: Readable | AsyncIterable<Uint8Array>,
  options: SendStreamOptions,
): Address {
  return startStreamSender(self, to, source, options);
}

/** Options of a file receiver. */
export interface FileReceiverOptions {
  /**
   * Where received files go. A peer-given name must be a plain file name (no separator, no
   * `..`, no control characters, at most MAX_TRANSFER_NAME_BYTES); the file lands directly in this
   * directory and nowhere else. Partial files wait in `<directory>/.herald-partial/`.
   */
  readonly directory: string;
  /** Largest transfer accepted, in bytes. Default DEFAULT_MAX_TRANSFER_BYTES (4 GiB). */
  readonly maxBytes?: number;
  /** Transfers running at once; more offers fail with `busy`. Default DEFAULT_MAX_ACTIVE_TRANSFERS. */
  readonly maxActive?: number;
  /**
   * Partial files kept at once (running and interrupted transfers); a new transfer beyond
   * it fails with `busy`. Default DEFAULT_MAX_PARTIAL_FILES. Remove stale partials from
   * `<directory>/.herald-partial/` to make room.
   */
  readonly maxPartialFiles?: number;
  /** Replace an existing file of the same name. Default false (the offer fails with `exists`). */
  readonly overwrite?: boolean;
  /** Decides per offer: true accepts, false or a reason refuses (`refused`). Default: accept. */
  readonly accept?: (offer: TransferOffer) => boolean | string;
  /** Who gets TransferProgress and each outcome on this side. Default: the calling actor. */
  readonly notify?: Address;
  /** A progress notice at least every this many bytes. Default DEFAULT_TRANSFER_PROGRESS_BYTES. */
  readonly progressEveryBytes?: number;
  /** Idle time after which an open transfer closes its file (the partial stays). Default DEFAULT_TRANSFER_IDLE_MS. */
  readonly idleMs?: number;
  /** Largest chunk accepted. Default MAX_TRANSFER_CHUNK_BYTES. */
  readonly maxChunkBytes?: number;
  /** Largest window granted. Default MAX_TRANSFER_WINDOW. */
  readonly maxWindow?: number;
}

/**
 * Starts a file receiver as a child of `self` and returns its address. It takes
 * TransferOffer messages (forward them to it, or use transferSession) and runs each
 * transfer in an actor of its own, whose address only that transfer's sender is given.
 * Options are checked here and throw BadPatternOptionError.
 */
export function spawnFileReceiver(self: Self, options: FileReceiverOptions): Address {
  return startReceiver(self, options);
}

/**
 * A session (for `sessionOf(transferSession, receiver)`) that forwards every TransferOffer
 * its peer sends to `receiver`, with the peer as the return address, so the receiver
 * answers the peer directly. Ends on Stop.
 */
export async function transferSession(
  self: Self,
  _context: SessionContext,
  receiver: Address,
): Promise<void> {
  for (;;) {
    const m = await self.receive(TransferOffer);
    self.forward(receiver, m, self.returnAddress);
  }
}
