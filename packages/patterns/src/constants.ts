/**
 * Every default of @herald/patterns' send modes, at-least-once delivery and durable outbox,
 * in one place (docs/patterns.md explains each).
 */

/** Messages an outlet holds while no peer can take them; one more is `NotDelivered{ buffer-full }`. */
export const DEFAULT_OUTLET_BUFFER_LIMIT = 1_000;

/** Unacknowledged at-least-once messages in flight per outlet; more wait in the buffer. */
export const DEFAULT_MAX_IN_FLIGHT = 1_024;

/** Wait for an acknowledgement before the first retransmission (ms, runtime clock). */
export const DEFAULT_ACK_TIMEOUT_MS = 1_000;

/** Each retransmission waits this many times longer than the previous one. */
export const DEFAULT_RETRY_FACTOR = 2;

/** Longest wait between two transmissions of one message (ms). */
export const DEFAULT_MAX_RETRY_DELAY_MS = 10_000;

/**
 * Transmissions of one message before it is given up (`NotDelivered{ retries-exhausted }`):
 * 1 + 7 retries, about 1+2+4+8+10+10+10+10 = 55 s with the defaults. aiomsg retried every
 * 5 s for ever.
 */
export const DEFAULT_MAX_ATTEMPTS = 8;

/**
 * The receiver's de-duplication window per sender: how far a sequence number may run ahead
 * of the sender's acknowledged floor. The sender never has more than this many sequence
 * numbers outstanding (it holds back new ones instead), so the window always covers
 * everything that can still be retransmitted.
 */
export const DEFAULT_DEDUP_WINDOW = 4_096;

/** Senders whose window a receiver keeps; the least recently heard one is forgotten first. */
export const DEFAULT_MAX_SENDERS = 1_024;

/** Messages a durable outbox holds on disk at most. */
export const DEFAULT_OUTBOX_MAX_MESSAGES = 100_000;

/** Encoded bytes a durable outbox holds on disk at most (bodies only; lmdb adds its pages). */
export const DEFAULT_OUTBOX_MAX_BYTES = 256 * 1024 * 1024;
