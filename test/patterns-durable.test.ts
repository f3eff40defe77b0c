/**
 * The durable outbox with real processes: persistent sends survive a SIGKILL of the sender
 * and of the receiver and reach the receiver's application exactly once after restart
 * (the receiver's de-duplication window is in its own lmdb store). Processes are killed
 * with SIGKILL at a point chosen by their output, never after a sleep.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { freePort, killAll, spawnScript, type SpawnedChild } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';

const SENDER = fileURLToPath(new URL('./fixtures/patterns-sender.ts', import.meta.url));
const RECEIVER = fileURLToPath(new URL('./fixtures/patterns-receiver.ts', import.meta.url));
const WAIT_MS = 30_000;

const dirs: string[] = [];
afterEach(async () => {
  await killAll();
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function tempDir(name: string): string {
  const dir = mkdtempSync(join(tmpdir(), `herald-${name}-`));
  dirs.push(dir);
  return dir;
}

function got(children: readonly SpawnedChild[]): number[] {
  return children.flatMap((c) =>
    c.stdout.flatMap((line) => {
      const match = /^got (\d+)$/.exec(line);
      return match === null ? [] : [Number(match[1])];
    }),
  );
}

function stored(child: SpawnedChild): number[] {
  return child.stdout.flatMap((line) => {
    const match = /^stored (\d+)$/.exec(line);
    return match === null ? [] : [Number(match[1])];
  });
}

/** Resolves once `children` together printed `got n` for every n in `expected`. */
async function waitForAll(
  children: readonly SpawnedChild[],
  expected: readonly number[],
): Promise<void> {
  const last = children.at(-1)!;
  const want = new Set(expected);
  while (![...want].every((n) => got(children).includes(n))) {
    await last.waitForLine(/^(got|dup) \d+$/, WAIT_MS);
  }
}

const range = (from: number, to: number): number[] =>
  Array.from({ length: to - from }, (_, i) => from + i);

describe('durable outbox (real processes, SIGKILL)', () => {
  it('messages stored while the receiver is down survive a SIGKILL of the sender and arrive once', async () => {
    const port = await freePort();
    const senderStore = tempDir('outbox');
    const receiverStore = tempDir('inbox');
    const args = [`--port=${port}`, `--store=${senderStore}`];
    const first = spawnScript(SENDER, [...args, '--start=0', '--count=30', '--window=30']);
    await first.waitForLine(/^stored 29$/, WAIT_MS);
    first.kill('SIGKILL');
    await first.waitForExit(WAIT_MS);

    const receiver = spawnScript(RECEIVER, [`--port=${port}`, `--store=${receiverStore}`]);
    await receiver.waitForLine(/^listening$/, WAIT_MS);
    const second = spawnScript(SENDER, [...args, '--count=0']);
    await second.waitForLine(/^started pending 30$/, WAIT_MS);
    await waitForAll([receiver], range(0, 30));
    await second.waitForLine(/^pending 0$/, WAIT_MS);
    expect(got([receiver]).sort((a, b) => a - b)).toEqual(range(0, 30));
  });

  it('a sender killed mid-stream resends what was unacknowledged; the receiver delivers each once', async () => {
    const port = await freePort();
    const senderStore = tempDir('outbox');
    const receiver = spawnScript(RECEIVER, [`--port=${port}`, `--store=${tempDir('inbox')}`]);
    await receiver.waitForLine(/^listening$/, WAIT_MS);
    const args = [`--port=${port}`, `--store=${senderStore}`];
    const first = spawnScript(SENDER, [...args, '--start=0', '--count=400', '--window=20']);
    await receiver.waitForLine(/^got 50$/, WAIT_MS);
    first.kill('SIGKILL');
    await first.waitForExit(WAIT_MS);
    const committed = stored(first);
    // A message goes out before its commit, so the receiver can be ahead of `stored`.
    expect(committed.length).toBeGreaterThan(0);
    expect(committed.length).toBeLessThan(400); // killed mid-stream

    const second = spawnScript(SENDER, [...args, '--count=0']);
    await waitForAll([receiver], committed);
    await second.waitForLine(/^pending 0$/, WAIT_MS);
    const all = got([receiver]);
    expect(new Set(all).size).toBe(all.length); // never twice
    expect(committed.every((n) => all.includes(n))).toBe(true);
  });

  it('a receiver killed mid-stream and restarted misses nothing and delivers nothing twice', async () => {
    const port = await freePort();
    const receiverStore = tempDir('inbox');
    const receiver1 = spawnScript(RECEIVER, [`--port=${port}`, `--store=${receiverStore}`]);
    await receiver1.waitForLine(/^listening$/, WAIT_MS);
    const sender = spawnScript(SENDER, [
      `--port=${port}`,
      `--store=${tempDir('outbox')}`,
      '--start=0',
      '--count=200',
      '--window=20',
    ]);
    await receiver1.waitForLine(/^got 50$/, WAIT_MS);
    receiver1.kill('SIGKILL');
    await receiver1.waitForExit(WAIT_MS);

    const receiver2 = spawnScript(RECEIVER, [`--port=${port}`, `--store=${receiverStore}`]);
    await waitForAll([receiver1, receiver2], range(0, 200));
    await sender.waitForLine(/^pending 0$/, WAIT_MS);
    const all = got([receiver1, receiver2]);
    expect(all.sort((a, b) => a - b)).toEqual(range(0, 200));
  });
});
