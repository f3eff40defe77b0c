/** Every runtime default, in one place. */

/** Messages an actor's mailbox holds before further sends become dead letters. */
export const DEFAULT_MAILBOX_CAPACITY = 8192;

/**
 * Deliveries the runtime makes in one event-loop turn before it yields to I/O and timers
 * (the rest continue on the next turn). Keeps a flood of in-process messages from starving
 * sockets.
 */
export const DEFAULT_TURN_BUDGET = 4096;

/** How long `runtime.close()` waits for actors to end after Stop before it gives up on them. */
export const DEFAULT_CLOSE_TIMEOUT_MS = 5_000;

/** Default log level of a runtime created without a logger. */
export const DEFAULT_LOG_LEVEL = 'warn';

/** Exit code of the process runner when the main actor returns a Faulted without `exitCode`. */
export const EXIT_FAULTED = 1;

/** Exit code of the process runner for a bad command line or a runner failure. */
export const EXIT_USAGE = 2;

/** Exit code after a second SIGINT forces the process down. */
export const EXIT_FORCED = 130;
