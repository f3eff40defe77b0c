/** Networking defaults, in one place. Wire-level limits are in wire/constants.ts. */

/** Idle time before a keep-alive PING is sent on a quiet connection (defined with the wire format). */
export { DEFAULT_KEEPALIVE_IDLE_MS } from './wire/constants.js';

/**
 * How long a PING may go unanswered (no bytes at all from the peer) before Abandoned: 5 s,
 * so a dead peer is noticed within DEFAULT_KEEPALIVE_IDLE_MS + 5 s = 10 s (why seconds:
 * wire/constants.ts). Generous for a round trip even across continents under load.
 */
export const DEFAULT_KEEPALIVE_TIMEOUT_MS = 5_000;

/** How long the handshake may take before the connection is dropped. */
export const DEFAULT_HANDSHAKE_TIMEOUT_MS = 10_000;

/** Outbound bytes buffered for one connection above which senders are told to slow down. */
export const DEFAULT_HIGH_WATER_BYTES = 1024 * 1024;

/** Outbound bytes at or below which a congested connection reports Drained. */
export const DEFAULT_LOW_WATER_BYTES = 256 * 1024;

/**
 * Outbound bytes buffered for one connection above which further sends are refused: each
 * becomes a dead letter (reason not-delivered) instead of growing memory without bound.
 */
export const DEFAULT_MAX_PENDING_BYTES = 64 * 1024 * 1024;

/** Bytes handed to the socket per event-loop turn when a large message is being chunked. */
export const DEFAULT_FLUSH_BUDGET_BYTES = 256 * 1024;

/**
 * A batch this large is written at once instead of at the end of the turn, so the kernel
 * sends while the sender is still producing (the two ends work in parallel).
 */
export const DEFAULT_EAGER_FLUSH_BYTES = 64 * 1024;

/** TCP listen backlog. */
export const DEFAULT_LISTEN_BACKLOG = 511;

/** How long a closing connection waits for its last bytes to drain before destroying the socket. */
export const DEFAULT_CLOSE_LINGER_MS = 2_000;

/**
 * Addresses one connection's peer may hold at once (its export table: return addresses and
 * addresses in bodies sent to it). The least recently sent give way first.
 */
export const DEFAULT_MAX_EXPORTS = 16_384;

/** Watches held per connection in each direction (made through it; made by its peer). */
export const DEFAULT_MAX_WATCHES = 1_024;

/** Refused messages (docs/security.md) after which a peer is disconnected: policy-violation. */
export const DEFAULT_MAX_REFUSALS = 100;

/**
 * Inbound fairness: a connection delivers to an actor only while that actor's mailbox is
 * under this fraction of its capacity. Past it, the connection stops reading its socket
 * (TCP backpressure reaches the sender, who sees Congested) and retries as the mailbox
 * drains: a busy actor slows its remote senders instead of dropping their messages, and
 * the rest of the mailbox stays free for local senders and control notices.
 */
export const DEFAULT_INBOUND_MAILBOX_SHARE = 0.5;

/** Longest wait between two checks of a full mailbox while a connection is paused. */
export const INBOUND_RETRY_MAX_MS = 50;

/**
 * Delivery feedback: Undeliverable notices one connection sends its peer per second at
 * most (a burst of as many); further failures in that second are counted, not notified.
 */
export const DEFAULT_NOTICES_PER_SECOND = 100;
