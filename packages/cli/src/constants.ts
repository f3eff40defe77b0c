/**
 * Every default of the herald command in one place. A flag overrides each; `--help` of the
 * command that uses it prints the value.
 */

/** Round trips `herald ping` makes by default. */
export const DEFAULT_PING_COUNT = 10;

/** How long ping waits for each Pong, and request for its answer, by default (ms). */
export const DEFAULT_REPLY_TIMEOUT_MS = 5_000;

/** Address `herald listen` and the `--listen` modes bind by default: loopback only. */
export const DEFAULT_LISTEN_HOST = '127.0.0.1';
