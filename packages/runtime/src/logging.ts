import pino, { type Level, type Logger } from 'pino';
import { DEFAULT_LOG_LEVEL } from './constants.js';
import { RuntimeError } from './errors.js';

export type LogLevel = Level | 'silent';

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

/** A pino logger writing JSON lines to stderr, the default for runtimes and the runner. */
export function createLogger(level: LogLevel = DEFAULT_LOG_LEVEL): Logger {
  return pino({ level, base: { pid: process.pid } }, pino.destination({ fd: 2, sync: true }));
}

export type { Logger };
