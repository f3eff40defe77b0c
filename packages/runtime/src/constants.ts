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

/**
 * Bytes of log lines a log destination holds while its reader is slower than the writer
 * (a slow terminal, a full pipe). Past it, lines are dropped and counted instead of blocking
 * the event loop or growing without bound; a burst of this size in one turn still fits.
 */
export const DEFAULT_LOG_BUFFER_BYTES = 4 * 1024 * 1024;

/** How long a log destination may take to write what it holds when the process exits. */
export const DEFAULT_LOG_EXIT_FLUSH_MS = 5_000;

/** Exit code of the process runner when the main actor returns a Faulted without `exitCode`. */
export const EXIT_FAULTED = 1;

/** Exit code of the process runner for a bad command line or a runner failure. */
export const EXIT_USAGE = 2;

/** Exit code after a second SIGINT forces the process down. */
export const EXIT_FORCED = 130;

/** Supervision: restarts of one child allowed within DEFAULT_RESTART_WINDOW_MS (OTP's MaxR). */
export const DEFAULT_MAX_RESTARTS = 3;

/** Supervision: the window restarts are counted in, in ms (OTP's MaxT, 5 s as in OTP). */
export const DEFAULT_RESTART_WINDOW_MS = 5_000;

/** Supervision: delay before the first restart in a window, in ms. */
export const DEFAULT_RESTART_INITIAL_MS = 100;

/** Supervision: each further restart in the window waits this many times longer. */
export const DEFAULT_RESTART_BACKOFF_FACTOR = 2;

/** Supervision: the longest delay before a restart, in ms. */
export const DEFAULT_RESTART_MAX_MS = 10_000;
