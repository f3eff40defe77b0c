/**
 * Logging: pino loggers and the destination they write to.
 *
 * The default destination is stderr, shared by every logger in the process, and it never
 * blocks the event loop: lines go into a buffer that sonic-boom writes with asynchronous
 * `fs.write` calls, so a slow terminal or a pipe nobody reads costs at most
 * `maxBufferedBytes` of memory. Past that bound a line is dropped and counted
 * (`droppedLines`); once the buffer has drained, one warn line says how many were lost. A
 * peer that makes us log (a flood of bad frames) therefore cannot stall the process or grow
 * its heap through the log; rate limiting repeated events is the loggers' job (log-throttle).
 *
 * Format: JSON lines for programs, or pino-pretty's readable lines for a person. The default
 * is pretty when the destination is a terminal and JSON otherwise; `HERALD_LOG_FORMAT=json`
 * or `=pretty` forces one (and the `format` option beats both).
 *
 * Flushing: `logger.flush(cb)` (and `run()` before it exits) waits until the buffer is
 * written, bounded by DEFAULT_LOG_EXIT_FLUSH_MS; a process that exits with lines still
 * buffered (`process.exit()` anywhere) writes them synchronously in an `exit` hook, bounded
 * the same way when the destination answers EAGAIN.
 */
import { createRequire } from 'node:module';
import { isatty } from 'node:tty';
import pino, { type Level, type Logger } from 'pino';
import type { PrettyOptions } from 'pino-pretty';
import sonicBoom from 'sonic-boom';
import {
  DEFAULT_LOG_BUFFER_BYTES,
  DEFAULT_LOG_EXIT_FLUSH_MS,
  DEFAULT_LOG_LEVEL,
} from './constants.js';
import { RuntimeError } from './errors.js';

export type LogLevel = Level | 'silent';

/** `json`: one JSON object per line (pino's own format). `pretty`: pino-pretty's lines. */
export type LogFormat = 'json' | 'pretty';

/** The environment variable that chooses the default format: `json` or `pretty`. */
export const LOG_FORMAT_ENV = 'HERALD_LOG_FORMAT';

// sonic-boom is CommonJS: under NodeNext its default import is `module.exports`, typed as the
// module, whose `SonicBoom` property is the class.
const { SonicBoom } = sonicBoom;
type SonicBoom = InstanceType<typeof SonicBoom>;

const STDERR_FD = 2;
/** pino's number for warn, the level of the dropped-lines notice. */
const WARN_LEVEL = 40;

/**
 * Level names accepted by `--debug-level` and `setLogLevel`: pino's own names, and the
 * ansar names (FAULT, WARNING, CONSOLE, OBJECT, TRACE, DEBUG, NONE), case-insensitive.
 */
const ALIASES: Record<string, LogLevel> = {
  fatal: 'fatal',
  error: 'error',
  warn: 'warn',
  info: 'info',
  debug: 'debug',
  trace: 'trace',
  silent: 'silent',
  fault: 'error',
  warning: 'warn',
  console: 'info',
  object: 'debug',
  none: 'silent',
};

export function parseLogLevel(name: string): LogLevel {
  const level = ALIASES[name.toLowerCase()];
  if (level === undefined) {
    throw new RuntimeError(
      'HERALD_ERR_BAD_OPTION',
      `unknown log level ${JSON.stringify(name)}; use one of ${Object.keys(ALIASES).join(', ')}`,
    );
  }
  return level;
}

export interface LogDestinationOptions {
  /** The file descriptor to write to. Default 2 (stderr). It is never closed. */
  readonly fd?: number;
  /**
   * The line format. Default: `HERALD_LOG_FORMAT` when set, else `pretty` when `fd` is a
   * terminal, else `json`.
   */
  readonly format?: LogFormat;
  /**
   * Bytes held for a reader slower than the writer; lines beyond are dropped and counted.
   * Default DEFAULT_LOG_BUFFER_BYTES (4 MiB).
   */
  readonly maxBufferedBytes?: number;
  /**
   * How long `flush()` and the exit hook may take to write what is held. Default
   * DEFAULT_LOG_EXIT_FLUSH_MS (5 s).
   */
  readonly flushTimeoutMs?: number;
}

/** Where loggers write: a bounded, asynchronous writer to one file descriptor. */
export interface LogDestination {
  readonly format: LogFormat;
  /** Lines dropped so far because the buffer was full or the descriptor failed. */
  readonly droppedLines: number;
  /** Bytes written to the buffer and not yet to the descriptor. */
  readonly bufferedBytes: number;
  /** One log line, as pino gives it (JSON ending in a newline). Never blocks. */
  write(line: string): void;
  /**
   * Calls `callback` once everything buffered so far is written, or with an error after
   * `flushTimeoutMs` (a reader that does not read). pino's `logger.flush(cb)` calls it.
   */
  flush(callback?: (error?: Error) => void): void;
  /** Stops the exit hook; for destinations made in tests. The descriptor stays open. */
  close(): void;
}

/** The format a destination on `fd` gets when none is given. */
export function defaultLogFormat(fd: number = STDERR_FD): LogFormat {
  const forced = process.env[LOG_FORMAT_ENV];
  if (forced !== undefined && forced !== '') {
    const format = forced.toLowerCase();
    if (format !== 'json' && format !== 'pretty') {
      throw new RuntimeError(
        'HERALD_ERR_BAD_OPTION',
        `${LOG_FORMAT_ENV}=${JSON.stringify(forced)}; use json or pretty`,
      );
    }
    return format;
  }
  return isatty(fd) ? 'pretty' : 'json';
}

/** pino-pretty is loaded only when a pretty destination is made (servers log JSON). */
function prettifier(fd: number): (line: string) => string {
  const require = createRequire(import.meta.url);
  const { prettyFactory } = require('pino-pretty') as typeof import('pino-pretty');
  const options: PrettyOptions = {
    colorize: isatty(fd) && process.env['NO_COLOR'] === undefined,
    translateTime: 'SYS:HH:MM:ss.l',
    ignore: 'hostname',
  };
  return prettyFactory(options);
}

class BoundedLogDestination implements LogDestination {
  readonly format: LogFormat;
  #dropped = 0;
  /** Dropped lines not yet reported by a notice line. */
  #unreported = 0;
  /** Set by sonic-boom's `drop` event while `write` runs. */
  #lastDropped = false;
  /** The descriptor failed (EPIPE, EBADF): every later line is dropped. */
  #failed = false;
  #exitDeadline = Number.POSITIVE_INFINITY;
  readonly #sonic: SonicBoom;
  readonly #prettify: ((line: string) => string) | null;
  readonly #flushTimeoutMs: number;
  readonly #onExit = () => this.#flushSyncOnExit();

  constructor(options: LogDestinationOptions) {
    const fd = options.fd ?? STDERR_FD;
    const maxBufferedBytes = options.maxBufferedBytes ?? DEFAULT_LOG_BUFFER_BYTES;
    this.#flushTimeoutMs = options.flushTimeoutMs ?? DEFAULT_LOG_EXIT_FLUSH_MS;
    if (!Number.isSafeInteger(maxBufferedBytes) || maxBufferedBytes <= 0) {
      throw new RuntimeError(
        'HERALD_ERR_BAD_OPTION',
        'maxBufferedBytes must be a positive integer',
      );
    }
    this.format = options.format ?? defaultLogFormat(fd);
    this.#prettify = this.format === 'pretty' ? prettifier(fd) : null;
    this.#sonic = new SonicBoom({
      fd,
      sync: false,
      maxLength: maxBufferedBytes,
      // EAGAIN (a non-blocking descriptor that is full): retry later, except in the exit
      // hook past its deadline, where giving up is better than never exiting.
      retryEAGAIN: () => Date.now() < this.#exitDeadline,
    });
    this.#sonic.on('drop', () => {
      this.#lastDropped = true;
    });
    this.#sonic.on('drain', () => this.#reportDropped());
    this.#sonic.on('error', () => {
      this.#failed = true;
    });
    process.on('exit', this.#onExit);
  }

  get droppedLines(): number {
    return this.#dropped;
  }

  get bufferedBytes(): number {
    // sonic-boom's count of bytes accepted and not yet written (no public getter).
    return (this.#sonic as unknown as { _len: number })._len;
  }

  write(line: string): void {
    if (this.#failed || !this.#append(line)) {
      this.#dropped++;
      this.#unreported++;
    }
  }

  flush(callback: (error?: Error) => void = () => undefined): void {
    if (this.bufferedBytes === 0 || this.#failed) {
      callback();
      return;
    }
    let done = false;
    const finish = (error?: Error) => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      this.#sonic.off('drain', onDrain);
      callback(error);
    };
    const onDrain = () => finish();
    const timer = setTimeout(
      () => finish(new Error(`log destination did not drain in ${this.#flushTimeoutMs} ms`)),
      this.#flushTimeoutMs,
    );
    this.#sonic.on('drain', onDrain);
  }

  close(): void {
    process.off('exit', this.#onExit);
  }

  /** Formats and buffers one line; false when it did not fit. */
  #append(line: string): boolean {
    const text = this.#prettify === null ? line : this.#prettify(line);
    this.#lastDropped = false;
    this.#sonic.write(text);
    return !this.#lastDropped;
  }

  #reportDropped(): void {
    if (this.#unreported === 0 || this.#failed) return;
    const count = this.#unreported;
    const notice = JSON.stringify({
      level: WARN_LEVEL,
      time: Date.now(),
      pid: process.pid,
      droppedLines: count,
      msg: `log destination was full: ${count} log lines dropped`,
    });
    if (this.#append(`${notice}\n`)) this.#unreported = 0;
  }

  #flushSyncOnExit(): void {
    if (this.#failed || this.bufferedBytes === 0) return;
    this.#exitDeadline = Date.now() + this.#flushTimeoutMs;
    try {
      this.#sonic.flushSync();
    } catch {
      // The reader did not take the lines before the deadline; the process exits anyway.
    }
  }
}

/** A bounded, asynchronous log destination (see the module comment). */
export function createLogDestination(options: LogDestinationOptions = {}): LogDestination {
  return new BoundedLogDestination(options);
}

let stderrDestination: LogDestination | undefined;

/**
 * The process's stderr destination, made on first use and shared by every logger that is
 * not given another: one bound and one dropped-lines count for the one stderr.
 */
export function stderrLogDestination(): LogDestination {
  stderrDestination ??= createLogDestination();
  return stderrDestination;
}

export interface LoggerOptions {
  /** Where the lines go. Default: `stderrLogDestination()`. */
  readonly destination?: LogDestination;
}

/**
 * A pino logger, the default for runtimes and the runner: to the shared stderr destination
 * (pretty at a terminal, JSON otherwise, never blocking) unless given another destination.
 */
export function createLogger(
  level: LogLevel = DEFAULT_LOG_LEVEL,
  options: LoggerOptions = {},
): Logger {
  return pino({ level, base: { pid: process.pid } }, options.destination ?? stderrLogDestination());
}

export type { Logger };
