import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync } from 'node:fs';
import { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript } from '@herald/testing';
import {
  LOG_FORMAT_ENV,
  RuntimeError,
  createLogDestination,
  createLogger,
  type LogDestination,
} from '@herald/runtime';
import { defaultLogFormat } from '../src/logging.js';

const FIXTURE = fileURLToPath(new URL('./fixtures/log-exit.ts', import.meta.url));

/**
 * A named pipe that nobody reads until the test says so: the writer end is non-blocking, so
 * once the pipe's kernel buffer is full every write gets EAGAIN, like a stalled stderr reader.
 */
interface Fifo {
  readonly writeFd: number;
  /**
   * Starts reading (and keeps reading): resolves with everything read so far once `until`
   * matches it.
   */
  read(until: (text: string) => boolean): Promise<string>;
  close(): void;
}

const cleanups: (() => void)[] = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) cleanup();
  await killAll();
});

function fifo(): Fifo {
  const dir = mkdtempSync(join(tmpdir(), 'herald-log-'));
  const path = join(dir, 'pipe');
  execFileSync('mkfifo', [path]);
  // The read end first, non-blocking, so the writer can open without waiting for a reader.
  const readFd = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK);
  const writeFd = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK);
  let socket: Socket | undefined;
  const close = () => {
    socket?.destroy();
    if (socket === undefined) closeSync(readFd);
    closeSync(writeFd);
    rmSync(dir, { recursive: true, force: true });
  };
  cleanups.push(close);
  return {
    writeFd,
    close,
    read: (until) =>
      new Promise((resolve, reject) => {
        socket = new Socket({ fd: readFd, readable: true, writable: false });
        let text = '';
        socket.setEncoding('utf8');
        socket.on('error', reject);
        socket.on('data', (chunk: string) => {
          text += chunk;
          if (until(text)) resolve(text);
        });
      }),
  };
}

function destination(options: Parameters<typeof createLogDestination>[0]): LogDestination {
  const made = createLogDestination(options);
  cleanups.push(() => made.close());
  return made;
}

function flushed(dest: LogDestination): Promise<Error | undefined> {
  return new Promise((resolve) => dest.flush(resolve));
}

const turn = () => new Promise<void>((resolve) => setImmediate(resolve));

describe('log destination', () => {
  it('log destination - holds at most maxBufferedBytes for a reader that never reads, counts the dropped lines and reports them once drained', async () => {
    const pipe = fifo();
    const maxBufferedBytes = 32 * 1024;
    const dest = destination({ fd: pipe.writeFd, format: 'json', maxBufferedBytes });
    const logger = createLogger('info', { destination: dest });
    const padding = 'x'.repeat(100);

    // Several bursts with turns in between: the destination fills the pipe (about 64 KiB),
    // gets EAGAIN and keeps what it cannot write, up to its bound; the rest is dropped.
    let written = 0;
    let maxSeen = 0;
    for (let burst = 0; burst < 10; burst++) {
      for (let i = 0; i < 1000; i++) {
        logger.info({ i: written++, padding }, 'line');
        maxSeen = Math.max(maxSeen, dest.bufferedBytes);
      }
      // The event loop is not blocked: turns keep coming while nobody reads.
      await turn();
    }
    expect(maxSeen).toBeLessThanOrEqual(maxBufferedBytes);
    expect(dest.droppedLines).toBeGreaterThan(written / 2);

    // Now the reader reads: everything held arrives, then one notice with the count.
    const dropped = dest.droppedLines;
    const text = await pipe.read((sofar) => sofar.includes('log lines dropped'));
    const lines = text.split('\n').filter((line) => line !== '');
    const records = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    const received = records.filter((record) => record['msg'] === 'line');
    const notice = records.at(-1);
    expect(notice).toMatchObject({ level: 40, droppedLines: dropped });
    expect(received.length + dropped).toBe(written);
    // Whole lines only, in order (a line is dropped whole, never cut).
    const indices = received.map((record) => record['i'] as number);
    expect(indices).toEqual([...indices].sort((a, b) => a - b));
    expect(await flushed(dest)).toBeUndefined();
  });

  it('log destination - flush gives up with an error after flushTimeoutMs when nobody reads', async () => {
    const pipe = fifo();
    const dest = destination({ fd: pipe.writeFd, format: 'json', flushTimeoutMs: 200 });
    const logger = createLogger('info', { destination: dest });
    // More than the pipe's kernel buffer, so some stays held.
    for (let i = 0; i < 2000; i++) logger.info({ i, padding: 'y'.repeat(100) }, 'line');
    const error = await flushed(dest);
    expect(error?.message).toMatch(/did not drain/);
    expect(dest.bufferedBytes).toBeGreaterThan(0);
    expect(dest.droppedLines).toBe(0);
    // Once read, it drains (and no write is left pending when the pipe closes).
    void pipe.read(() => true);
    expect(await flushed(dest)).toBeUndefined();
  });

  it('log destination - pretty format writes readable lines, not JSON', async () => {
    const pipe = fifo();
    const dest = destination({ fd: pipe.writeFd, format: 'pretty' });
    createLogger('info', { destination: dest }).info({ actor: 'a1' }, 'hello there');
    const text = await pipe.read((sofar) => sofar.includes('hello there'));
    expect(dest.format).toBe('pretty');
    expect(text).toMatch(/INFO.*hello there/);
    expect(text).toContain('actor: "a1"');
    expect(() => JSON.parse(text.split('\n')[0] ?? '')).toThrow();
  });

  it(`log destination - ${LOG_FORMAT_ENV} forces the format; anything but json or pretty is a bad option`, () => {
    const saved = process.env[LOG_FORMAT_ENV];
    cleanups.push(() => {
      if (saved === undefined) delete process.env[LOG_FORMAT_ENV];
      else process.env[LOG_FORMAT_ENV] = saved;
    });
    process.env[LOG_FORMAT_ENV] = 'pretty';
    expect(defaultLogFormat(2)).toBe('pretty');
    process.env[LOG_FORMAT_ENV] = 'JSON';
    expect(defaultLogFormat(2)).toBe('json');
    process.env[LOG_FORMAT_ENV] = 'yaml';
    expect(() => defaultLogFormat(2)).toThrow(RuntimeError);
    expect(() => defaultLogFormat(2)).toThrow(/HERALD_LOG_FORMAT="yaml"/);
    // Unset: a pipe is not a terminal, so JSON.
    delete process.env[LOG_FORMAT_ENV];
    const pipe = fifo();
    expect(defaultLogFormat(pipe.writeFd)).toBe('json');
  });

  it('log destination - a bad maxBufferedBytes is HERALD_ERR_BAD_OPTION', () => {
    expect(() => createLogDestination({ maxBufferedBytes: 0 })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
    );
  });
});

describe('log destination at exit (child process)', () => {
  const LINES = 20_000;

  for (const mode of ['natural', 'exit', 'run'] as const) {
    it(`log destination - every line reaches stderr when the process ends (${mode})`, async () => {
      const child = spawnScript(FIXTURE, [mode], {
        env: { LINES: String(LINES), [LOG_FORMAT_ENV]: 'json' },
      });
      const status = await child.exited;
      expect(status).toEqual({ code: 0, signal: null });
      const indices = child.stderr
        .map((line) => JSON.parse(line) as { msg?: string; i?: number })
        .filter((record) => record.msg === 'line')
        .map((record) => record.i);
      expect(indices).toEqual(Array.from({ length: LINES }, (_, i) => i));
    }, 60_000);
  }
});
