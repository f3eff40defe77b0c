/**
 * A pino logger whose JSON lines are parsed and kept in memory, so a test can assert on
 * what was logged (and on what was not: no payload, no key) or await a line.
 */
import { Writable } from 'node:stream';
import type { Logger } from '@herald/runtime';
import pino from 'pino';
import { Recorder } from './recorder.js';
import { DEFAULT_WAIT_MS } from './wait.js';

/** Level of a memory logger unless told otherwise: info shows connections, not messages. */
export const DEFAULT_MEMORY_LOG_LEVEL = 'info';

/** One parsed pino line: `level` is pino's number (30 info, 40 warn, ...). */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly [key: string]: unknown;
}

export interface MemoryLogger {
  /** Pass this as `logger` to `createRuntime()` (or use {@link testRuntime}, which does). */
  readonly logger: Logger;
  /** Every line logged so far, oldest first. */
  readonly lines: readonly LogLine[];
  /** The recorder behind {@link MemoryLogger.lines}: `find`, `filter`, `waitFor`, `next`. */
  readonly recorder: Recorder<LogLine>;
  /** The first line logged so far that `match` accepts. */
  find(match: (line: LogLine) => boolean): LogLine | undefined;
  /** Every line logged so far that `match` accepts. */
  filter(match: (line: LogLine) => boolean): LogLine[];
  /** Lines whose `msg` is `msg`, optionally also matching `where`. */
  withMessage(msg: string, where?: (line: LogLine) => boolean): LogLine[];
  /**
   * Resolves with the first line, old or new, that `match` accepts; rejects after
   * `timeoutMs` naming `what` and quoting the last lines.
   */
  waitFor(match: (line: LogLine) => boolean, what?: string, timeoutMs?: number): Promise<LogLine>;
}

/**
 * A pino logger at `level` writing into memory. pino writes each line synchronously to the
 * stream here, so a line is in `lines` as soon as the call that logged it returns.
 */
export function memoryLogger(level: string = DEFAULT_MEMORY_LOG_LEVEL): MemoryLogger {
  const recorder = new Recorder<LogLine>('log lines');
  const stream = new Writable({
    write(chunk: Buffer | string, _encoding, callback) {
      for (const text of String(chunk).split('\n')) {
        if (text !== '') recorder.record(JSON.parse(text) as LogLine);
      }
      callback();
    },
  });
  const logger: Logger = pino({ level }, stream);
  return {
    logger,
    lines: recorder.entries,
    recorder,
    find: (match) => recorder.find(match),
    filter: (match) => recorder.filter(match),
    withMessage: (msg, where = () => true) => recorder.filter((l) => l.msg === msg && where(l)),
    waitFor: (match, what = 'a matching log line', timeoutMs = DEFAULT_WAIT_MS) =>
      recorder.waitFor(match, { what: `log line: ${what}`, timeoutMs }),
  };
}
