/**
 * Every default of the herald command in one place. A flag overrides each; `--help` of the
 * command that uses it prints the value.
 */

/** Round trips `herald ping` makes by default. */
export const DEFAULT_PING_COUNT = 10;

/** How long ping waits for each round trip, and request for its answer, by default (ms). */
export const DEFAULT_REPLY_TIMEOUT_MS = 5_000;

/** Address `herald listen` and the `--listen` modes bind by default: loopback only. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';

/** Messages `herald bench` sends one way by default. */
export const DEFAULT_BENCH_COUNT = 100_000;

/** Payload bytes of each bench message by default. */
export const DEFAULT_BENCH_SIZE = 16;

/** Round trips `herald bench` makes after the one-way phase by default. */
export const DEFAULT_BENCH_ROUND_TRIPS = 1_000;

/** Longest each bench phase runs (ms): it stops early, with what it measured, at this bound. */
export const DEFAULT_BENCH_DURATION_MS = 10_000;

/**
 * Messages bench sends before waiting for the connection to drain (AwaitDrain): enough to
 * keep the socket busy, few enough that the outbound queue never nears its limit.
 */
export const DEFAULT_BENCH_BATCH = 1_000;

/**
 * Largest --batch: half the runtime's default mailbox capacity (8192), so a batch waiting
 * in the proxy's mailbox can never fill it (a full mailbox drops sends as dead letters).
 */
export const MAX_BENCH_BATCH = 4_096;

/** How often `herald top` takes a snapshot by default (ms). */
export const DEFAULT_TOP_INTERVAL_MS = 1_000;

/** Rows `herald top` keeps for its header and section titles when it fits actors to a terminal. */
export const TOP_RESERVED_ROWS = 12;

/** Characters of the progress bar between its brackets. */
export const PROGRESS_BAR_WIDTH = 30;

/** A progress notice at least every this many bytes, by default (send-file, receive-file). */
export const DEFAULT_PROGRESS_BYTES = 1024 * 1024;
