/**
 * Defaults of file and stream transfer (docs/transfer.md), one place for all of them.
 */
import { DEFAULT_MAX_FRAME_BYTES } from '@herald/net/wire';

/**
 * Room kept in a frame for a chunk's header and fields (type name, transfer id, offset,
 * epoch, its sha256): a default chunk plus this fits in one default frame, so a chunk never
 * needs the proxy's reassembly and a high-priority message waits for at most one chunk.
 */
export const TRANSFER_CHUNK_OVERHEAD_BYTES = 1024;

/** Bytes of file data per chunk: one default wire frame (64 KiB) less the overhead. */
export const DEFAULT_TRANSFER_CHUNK_BYTES = DEFAULT_MAX_FRAME_BYTES - TRANSFER_CHUNK_OVERHEAD_BYTES;

/** Smallest chunk a sender may ask for (smaller chunks cost more header than data). */
export const MIN_TRANSFER_CHUNK_BYTES = 1024;

/**
 * Largest chunk either side accepts: 1 MiB, far below the wire's 64 MiB message limit,
 * so a peer cannot make a receiver hold more than window x 1 MiB of chunks.
 */
export const MAX_TRANSFER_CHUNK_BYTES = 1024 * 1024;

/** Chunks a sender may have sent and not yet seen acknowledged (its memory: window x chunk). */
export const DEFAULT_TRANSFER_WINDOW = 16;

/** Largest window either side accepts. */
export const MAX_TRANSFER_WINDOW = 256;

/** Largest file or stream a receiver accepts by default: 4 GiB. */
export const DEFAULT_MAX_TRANSFER_BYTES = 4 * 1024 * 1024 * 1024;

/** Transfers one receiver runs at once; more offers are refused with `busy`. */
export const DEFAULT_MAX_ACTIVE_TRANSFERS = 16;

/**
 * Partial files a receiver keeps on disk at once (running transfers and interrupted ones
 * waiting for their sender): a new transfer beyond it is refused with `busy`, so a peer
 * that starts transfers and abandons them cannot fill the disk (at most this x maxBytes).
 */
export const DEFAULT_MAX_PARTIAL_FILES = 64;

/** A progress notice at least every this many bytes (and at start, resume and end). */
export const DEFAULT_TRANSFER_PROGRESS_BYTES = 1024 * 1024;

/** Time an offer (or re-offer after a reconnect) may wait for its answer. */
export const DEFAULT_TRANSFER_OFFER_TIMEOUT_MS = 30_000;

/** Time a sender waits for an acknowledgement before it re-offers (a stalled receiver). */
export const DEFAULT_TRANSFER_ACK_TIMEOUT_MS = 30_000;

/** Pause before a re-offer after the receiver could not be reached. */
export const DEFAULT_TRANSFER_RESUME_DELAY_MS = 1_000;

/** Re-offers (resumptions) a sender makes before it fails with `unreachable`. */
export const DEFAULT_TRANSFER_MAX_RESUMES = 10;

/**
 * Time a receiver keeps a transfer open with no chunk arriving; after it the file handle
 * closes and the partial file stays on disk, so a later offer with the same id resumes.
 */
export const DEFAULT_TRANSFER_IDLE_MS = 120_000;

/** Folder inside the destination directory holding partial files (`<id>.part`, `<id>.json`). */
export const TRANSFER_PARTIAL_DIRECTORY = '.herald-partial';

/** Longest file name accepted from a peer, in UTF-8 bytes (the common file system limit). */
export const MAX_TRANSFER_NAME_BYTES = 255;

/** A transfer id: the resume key, chosen by the sender. */
export const TRANSFER_ID_PATTERN = /^[A-Za-z0-9_-]{1,64}$/;
