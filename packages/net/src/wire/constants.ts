/**
 * Every number the wire protocol depends on, in one place. Values marked "normative" are
 * part of the protocol (docs/wire-protocol.md); the `DEFAULT_*` values are local defaults a
 * connection may override through options.
 */

/** Normative: the four magic bytes that open every connection, ASCII "HRLD". */
export const PREAMBLE_MAGIC: readonly number[] = [0x48, 0x52, 0x4c, 0x44];
/**
 * Normative: the protocol version this implementation speaks. Version 2 added the
 * authenticated handshake (AUTH and READY frames); version 3 the MESSAGE header flags and
 * the optional trace context (a version-2 receiver would take the flag bit for a codec
 * flag, so the two cannot share a connection). Any other version is refused with
 * `version-unsupported`.
 */
export const PROTOCOL_VERSION = 3;
/** Normative: preamble size: magic (4) + version (1) + reserved (3). */
export const PREAMBLE_BYTES = 8;
/** Normative: bytes before a frame body: u32 length + u8 kind. */
export const FRAME_HEADER_BYTES = 5;

/** Default largest frame body (bytes after the kind byte) a receiver accepts: 64 KiB. */
export const DEFAULT_MAX_FRAME_BYTES = 64 * 1024;
/** Normative: the smallest `maxFrameBytes` a peer may announce in HELLO (16 KiB). */
export const MIN_MAX_FRAME_BYTES = 16 * 1024;
/** Normative: the largest `maxFrameBytes` a peer may announce in HELLO (16 MiB). */
export const MAX_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** Normative: the cap on a frame body before the handshake completes (HELLO, CLOSE). */
export const MAX_HANDSHAKE_FRAME_BYTES = 1024;

/** Default cap on one reassembled message (header + body): 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;
/**
 * Normative: the number of chunked messages a sender may have partially sent at once, and
 * the number a receiver must accept. A receiver closes with `too-many-partial-messages`
 * beyond its own bound, which must not be below this value.
 */
export const MAX_PARTIAL_MESSAGES = 16;
/**
 * Default cap on bytes held by all partial messages of one connection together: 128 MiB.
 * Counted in real bytes (buffer capacity plus a per-message overhead), not payload bytes.
 */
export const DEFAULT_MAX_REASSEMBLY_BYTES = 128 * 1024 * 1024;
/**
 * Default cap on bytes held by partial messages of ALL connections of one process (one
 * `ReassemblyBudget` per network): 256 MiB. Without it, n connections could hold n times
 * the per-connection bound.
 */
export const DEFAULT_MAX_PROCESS_REASSEMBLY_BYTES = 256 * 1024 * 1024;
/**
 * Bytes charged per partial message on top of its buffer: the map entry, the bookkeeping
 * object and the parsed header (plus 8 bytes per hop, see `FrameDecoder`). Keeps a flood of
 * tiny partial messages from holding more than it is charged for.
 */
export const PARTIAL_MESSAGE_OVERHEAD_BYTES = 512;
/**
 * Default time a partial message may go without receiving a part before the connection is
 * closed with `stalled`: 60 s. A Herald sender sends one chunk of every message in progress
 * per flush round, so a live sender never leaves one message this long.
 */
export const DEFAULT_PARTIAL_MESSAGE_TIMEOUT_MS = 60_000;
/**
 * Default base time a frame may take to arrive once its first byte has come: 10 s. The
 * deadline grows with the frame's announced length at `DEFAULT_MIN_FRAME_BYTES_PER_SECOND`,
 * so a frame must complete within `10 s + length / 16 KiB/s` (14 s for a 64 KiB frame).
 */
export const DEFAULT_FRAME_TIMEOUT_MS = 10_000;
/** Default minimum average arrival rate of a started frame, in bytes per second: 16 KiB/s. */
export const DEFAULT_MIN_FRAME_BYTES_PER_SECOND = 16 * 1024;

/**
 * Normative: the MESSAGE header's first byte holds the codec's body mode in its low six
 * bits (0..63, carried opaquely) and header flags above them.
 */
export const MAX_BODY_MODE = 0x3f;
/** Normative: MESSAGE header flag: a 26-byte trace context follows the correlation. */
export const MESSAGE_FLAG_TRACE = 0x80;
/** Normative: MESSAGE header flag bits with no meaning yet: a receiver refuses them. */
export const MESSAGE_FLAGS_RESERVED = 0x40;

/** Normative: the most hops in one address (hop stack). */
export const MAX_HOPS = 32;
/** Normative: the most addresses in one message's space. */
export const MAX_SPACE_ENTRIES = 1024;
/** Normative: the most bytes of a message header (everything before the body). */
export const MAX_MESSAGE_HEADER_BYTES = 8 * 1024;
/** Normative: the longest message type name, in UTF-8 bytes. */
export const MAX_TYPE_NAME_BYTES = 128;
/** Normative: the most type names one direction of a connection may define. */
export const MAX_TYPE_NAMES = 4096;

/**
 * Initial size of a FrameWriter's batch buffer: 1 KiB. It grows on demand (doubling) and
 * shrinks back when recent batches are small, so an idle connection holds little.
 */
export const WRITER_INITIAL_BUFFER_BYTES = 1024;
/**
 * A FrameWriter shrinks its batch buffer after this many flushes in a row that each used at
 * most a quarter of it (or at once on `trim()`).
 */
export const WRITER_SHRINK_AFTER_FLUSHES = 8;

/** Normative: the longest UTF-8 text in a CLOSE frame. */
export const MAX_CLOSE_TEXT_BYTES = 256;

/**
 * Default idle time after which a connection sends PING (announced in HELLO): 5 s. The one
 * definition: @herald/net re-exports it, and the SocketProxy uses it for its keep-alive.
 *
 * Why seconds, not NATS's 2 minutes (nats.js pingInterval 120 s × maxPingOut 2) or ws's
 * none (its README's heartbeat example uses 30 s): a lost connection is what fails
 * Herald's asks at once (Unanswered), ends watches (Terminated) and makes a group
 * reconnect, so a black-holed peer (power loss, a dropped route: no FIN, no RST) must be
 * noticed in seconds; with 5 s + DEFAULT_KEEPALIVE_TIMEOUT_MS (5 s) it is within 10 s. The
 * cost is one 9-byte PING (and PONG) per idle connection per 5 s: 200 a second for 1,000
 * idle connections. Any frame counts as life, so a busy connection never pings.
 */
export const DEFAULT_KEEPALIVE_IDLE_MS = 5_000;

/** Normative: X25519 public key length. */
export const PUBLIC_KEY_BYTES = 32;
/** Normative: secretbox key length. */
export const SHARED_KEY_BYTES = 32;
/** Normative: XSalsa20 nonce length. */
export const NONCE_BYTES = 24;
/** Normative: Poly1305 tag bytes added by secretbox. */
export const SEAL_OVERHEAD_BYTES = 16;
/**
 * Largest SEALED record counter this implementation uses. The protocol allows u64 (2^64
 * records); we stop at 2^53 - 1 (exact in a JS number), far below any reachable count,
 * and close with `counter-exhausted` rather than ever repeating a nonce.
 */
export const MAX_RECORD_COUNTER = Number.MAX_SAFE_INTEGER;

/** Normative: nonce direction byte for records sent by the connecting side. */
export const DIRECTION_CONNECTOR = 0;
/** Normative: nonce direction byte for records sent by the accepting side. */
export const DIRECTION_ACCEPTOR = 1;

/** Normative: HELLO TLV type of the X25519 ephemeral public key. */
export const TLV_EPHEMERAL_KEY = 1;
/** Normative: HELLO flag bit: the sender wants encryption. */
export const HELLO_FLAG_ENCRYPT = 0x01;
/** Normative: fixed HELLO part: flags u8, maxFrameBytes u32, keepaliveMs u32. */
export const HELLO_FIXED_BYTES = 9;

/** Normative: CHUNK flag: this chunk starts a message (carries the whole header). */
export const CHUNK_FLAG_FIRST = 0x01;
/** Normative: CHUNK flag: this chunk ends a message. */
export const CHUNK_FLAG_LAST = 0x02;
/** Normative: CHUNK body prefix: message id u32 + flags u8. */
export const CHUNK_PREFIX_BYTES = 5;

/** Normative: handshake frame kind AUTH (static key and key confirmation), version 2. */
export const FRAME_KIND_AUTH = 9;
/** Normative: handshake frame kind READY (the acceptor authorized the connector), version 2. */
export const FRAME_KIND_READY = 10;
/** Normative: AUTH flag: the frame carries the sender's sealed static public key. */
export const AUTH_FLAG_STATIC_KEY = 0x01;
/** Normative: a sealed static key in AUTH: 32-byte key + 16-byte tag. */
export const SEALED_STATIC_KEY_BYTES = PUBLIC_KEY_BYTES + SEAL_OVERHEAD_BYTES;
