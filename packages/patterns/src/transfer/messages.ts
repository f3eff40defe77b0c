/**
 * The transfer messages (docs/transfer.md). Two kinds:
 *
 * - the wire protocol between a sender actor and a receiver, which crosses connections, so
 *   both runtimes must know these types (pass {@link transferMessages} as the `messages`
 *   option of listen() / connect(), or to createRuntime). Their names start with
 *   `patterns.`, never `herald.`: a peer refuses every `herald.*` type from the wire;
 * - the notices each end's own application gets: {@link TransferProgress} while it runs,
 *   then exactly one outcome, {@link TransferCompleted} or {@link TransferFailed}.
 *
 * TransferCompleted and TransferFailed are both: the receiver sends them to the sender over
 * the connection, and each end's application gets its own copy (`direction` tells which).
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { defineFault } from '@herald/runtime';
import { MAX_TRANSFER_CHUNK_BYTES, MAX_TRANSFER_NAME_BYTES } from './constants.js';

const id = t.string({ maxLength: 64 });
const sha256Hex = t.string({ maxLength: 64 });
const name = t.string({ maxLength: MAX_TRANSFER_NAME_BYTES });
const direction = t.enum('send', 'receive');

/** Why a transfer failed; the same values at both ends. */
export const TRANSFER_FAILURE_REASONS = [
  /** The receiver's `accept` said no, or it took no offers. */
  'refused',
  /** The peer-given name is not a plain file name (a path, `..`, control characters, too long). */
  'bad-name',
  /** The destination file exists and the receiver does not overwrite. */
  'exists',
  /** The declared or actual size is over the receiver's limit. */
  'too-large',
  /** The receiver runs its maximum number of transfers. */
  'busy',
  /** A chunk's sha256, or the whole transfer's, does not match the data received. */
  'checksum-mismatch',
  /** The bytes received differ in count from what the sender declared. */
  'size-mismatch',
  /** The sender broke the protocol (a chunk too large, an offset out of order, a bad id). */
  'protocol-error',
  /** The source could not be read (file missing, stream error). */
  'source-error',
  /** The destination could not be written (disk full, permissions). */
  'write-error',
  /** The receiver could not be reached again within the resume attempts. */
  'unreachable',
  /** The sender or the receiver was stopped. */
  'cancelled',
] as const;
export type TransferFailureReason = (typeof TRANSFER_FAILURE_REASONS)[number];

// ---------------------------------------------------------------- wire protocol

/**
 * Sender → receiver: offers a transfer, or re-offers it after a reconnect (the same `id`).
 * Sent to the receiver's address; answered by TransferAccept from the transfer's own actor
 * (whose address is the return address to send chunks to), or by TransferFailed.
 */
export const TransferOffer = defineMessage('patterns.transfer.Offer', {
  /** The resume key: the same id after a reconnect or a restart continues the same transfer. */
  id,
  /** The file name the receiver should use: a plain name, never a path. */
  name,
  /** Total bytes, when known (a file); absent for a stream of unknown length. */
  size: t.optional(t.int()),
  /** Largest chunk this sender will send. */
  chunkBytes: t.int(),
  /** Chunks this sender may have in flight unacknowledged. */
  window: t.int(),
});
export type TransferOffer = MessageOf<typeof TransferOffer>;

/**
 * Receiver → sender: go on from `offset` (0 for a new transfer; what the receiver already
 * has after a reconnect or restart). Chunks carry `epoch`, so chunks of an earlier
 * connection that arrive late are told apart and ignored.
 */
export const TransferAccept = defineMessage('patterns.transfer.Accept', {
  id,
  /** The receiver's actor for this transfer: chunks and the end go there. */
  receiver: t.address(),
  offset: t.int(),
  epoch: t.int(),
  /** The chunk size and window the receiver agrees to (at most what was offered). */
  chunkBytes: t.int(),
  window: t.int(),
});
export type TransferAccept = MessageOf<typeof TransferAccept>;

/**
 * Sender → receiver's transfer actor: bytes `[offset, offset + data.length)`. Low priority
 * by type, and the sender also sends it so: normal and high messages overtake chunks.
 */
export const TransferChunk = defineMessage(
  'patterns.transfer.Chunk',
  {
    id,
    epoch: t.int(),
    offset: t.int(),
    data: t.bytes({ maxLength: MAX_TRANSFER_CHUNK_BYTES }),
    /** sha256 of `data` (32 bytes): a damaged chunk is caught before it is written. */
    sha256: t.bytes({ maxLength: 32 }),
  },
  { priority: 'low' },
);
export type TransferChunk = MessageOf<typeof TransferChunk>;

/** Receiver → sender: every byte before `offset` is written. Opens the window again. */
export const TransferAck = defineMessage('patterns.transfer.Ack', {
  id,
  epoch: t.int(),
  offset: t.int(),
});
export type TransferAck = MessageOf<typeof TransferAck>;

/** Sender → receiver: the source ended at `size` bytes whose sha256 is `sha256` (hex). */
export const TransferEnd = defineMessage('patterns.transfer.End', {
  id,
  epoch: t.int(),
  size: t.int(),
  sha256: sha256Hex,
});
export type TransferEnd = MessageOf<typeof TransferEnd>;

// ---------------------------------------------------------------- notices and outcomes

/** Progress of one transfer, to the application at each end. */
export const TransferProgress = defineMessage('patterns.transfer.Progress', {
  id,
  name,
  direction,
  /** Bytes acknowledged by the receiver (send) or written (receive). */
  bytes: t.int(),
  /** Total bytes when known. */
  size: t.optional(t.int()),
  /** How many times the transfer has resumed after a reconnect or restart. */
  resumes: t.int(),
});
export type TransferProgress = MessageOf<typeof TransferProgress>;

/**
 * The transfer is complete: the receiver has every byte, the sha256 of the whole matched,
 * and the file is in place (fsynced, then moved to its name).
 */
export const TransferCompleted = defineMessage('patterns.transfer.Completed', {
  id,
  name,
  direction,
  size: t.int(),
  /** sha256 of the whole content, hex. */
  sha256: sha256Hex,
  resumes: t.int(),
  /** Receive side only: where the file now is. */
  path: t.optional(t.string()),
});
export type TransferCompleted = MessageOf<typeof TransferCompleted>;

/**
 * The transfer failed. A fault (`isFaulted`), so a main actor can return it and exit
 * non-zero. A receiver that fails a transfer removes its partial file.
 */
export const TransferFailed = defineFault(
  'patterns.transfer.Failed',
  {
    id,
    name,
    direction,
    reason: t.enum(...TRANSFER_FAILURE_REASONS),
    detail: t.string({ maxLength: 1024 }),
    /** Bytes done when it failed. */
    bytes: t.int(),
  },
  { code: 'HERALD_TRANSFER_FAILED', explanation: 'transfer failed' },
);
export type TransferFailed = MessageOf<typeof TransferFailed>;

/**
 * A TransferFailed whose explanation names the file, the reason and the detail, so a main
 * actor that returns it exits with a line that says what went wrong.
 */
export function transferFailed(values: {
  readonly id: string;
  readonly name: string;
  readonly direction: 'send' | 'receive';
  readonly reason: TransferFailureReason;
  readonly detail: string;
  readonly bytes: number;
}): TransferFailed {
  const detail = values.detail.slice(0, 1024);
  const verb = values.direction === 'send' ? 'sending' : 'receiving';
  return TransferFailed({
    ...values,
    detail,
    explanation: `${verb} ${values.name} failed: ${values.reason} (${detail})`,
  });
}

/** A transfer's outcome. */
export type TransferOutcome = TransferCompleted | TransferFailed;

/** Every transfer type: give it to listen() / connect() `messages` at both ends. */
export const transferMessages = [
  TransferOffer,
  TransferAccept,
  TransferChunk,
  TransferAck,
  TransferEnd,
  TransferProgress,
  TransferCompleted,
  TransferFailed,
] as const;
