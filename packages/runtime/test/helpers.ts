import { Writable } from 'node:stream';
import pino from 'pino';

/** A pino logger whose JSON lines are collected in memory. */
export function memoryLogger(level = 'debug') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  const logger = pino({ level }, stream);
  return { logger, lines };
}

export function silentLogger() {
  return pino({ level: 'silent' });
}
