/**
 * aiomsg protocol v1 constants (PROTOCOL.md §8 of cjrh/aiomsg) and Herald's defaults for
 * what the protocol leaves local. Every default is named here, in one place.
 */

/** The protocol version this implementation speaks and accepts. */
export const AIOMSG_PROTOCOL_VERSION = 1;
/** Bytes of the big-endian length prefix of every frame. */
export const AIOMSG_LENGTH_BYTES = 4;
/** Bytes of a socket identity (a UUIDv4's raw bytes). */
export const AIOMSG_IDENTITY_BYTES = 16;
/** Bytes of an AT_LEAST_ONCE message id. */
export const AIOMSG_MESSAGE_ID_BYTES = 16;

/** Envelope type bytes. */
export const AIOMSG_HELLO = 0x01;
export const AIOMSG_HEARTBEAT = 0x02;
export const AIOMSG_DATA = 0x03;
export const AIOMSG_DATA_REQ = 0x04;
export const AIOMSG_ACK = 0x05;

/** Send a HEARTBEAT after this long without sending anything (the reference's 5 s). */
export const DEFAULT_AIOMSG_HEARTBEAT_INTERVAL_MS = 5_000;
/** Close a connection after this long without a whole frame (the reference's 15 s). */
export const DEFAULT_AIOMSG_HEARTBEAT_TIMEOUT_MS = 15_000;
/**
 * Largest envelope accepted. The protocol sets none (the reference reads any u32 length
 * into memory: 4 GiB per frame); Herald closes a connection whose frame is larger.
 */
export const DEFAULT_AIOMSG_MAX_FRAME_BYTES = 16 * 1024 * 1024;
/** First resend of an unacknowledged DATA_REQ (the reference's 5 s). */
export const DEFAULT_AIOMSG_RESEND_AFTER_MS = 5_000;
/** Each further resend waits this many times longer... */
export const DEFAULT_AIOMSG_RESEND_BACKOFF = 2;
/** ...up to this long. */
export const DEFAULT_AIOMSG_MAX_RESEND_MS = 60_000;
/** Resends before an at-least-once message becomes NotDelivered (the reference: forever). */
export const DEFAULT_AIOMSG_MAX_RETRIES = 5;
/** Message ids remembered per socket to drop repeated DATA_REQs (sender identity + id). */
export const DEFAULT_AIOMSG_DEDUP_WINDOW = 65_536;
/** Messages held while no peer can take them; beyond it a send is NotDelivered. */
export const DEFAULT_AIOMSG_BUFFER_LIMIT = 10_000;
/** A peer whose unsent bytes exceed this is congested: round-robin skips it. */
export const DEFAULT_AIOMSG_CONGESTED_BYTES = 1024 * 1024;
/** First wait before a connect socket redials (the reference's 0.1 s)... */
export const DEFAULT_AIOMSG_RECONNECT_MS = 100;
/** ...doubling up to this while dials keep failing. */
export const DEFAULT_AIOMSG_MAX_RECONNECT_MS = 5_000;
/** Connections a socket holds at once (handshaking ones included); more are closed at once. */
export const DEFAULT_AIOMSG_MAX_CONNECTIONS = 1024;
