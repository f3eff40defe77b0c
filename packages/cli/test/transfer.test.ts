/**
 * `herald send-file` and `herald receive-file` as two real processes.
 */
import { killAll } from '@herald/testing';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUN_MS, finished, herald, inTerminal } from './support.js';

afterEach(killAll);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-cli-transfer-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');

async function receiving(inbox: string, ...args: string[]) {
  await mkdir(inbox, { recursive: true });
  const receiver = herald('receive-file', '--listen', '0', '--dir', inbox, ...args);
  const [, target] = await receiver.waitForLine(/^listening on (\S+)$/, RUN_MS);
  return { receiver, target: target as string };
}

describe('herald send-file and receive-file', () => {
  it('moves a file intact with progress lines at both ends', async () => {
    const source = join(dir, 'data.bin');
    const content = randomBytes(3 * 1024 * 1024 + 17);
    await writeFile(source, content);
    const inbox = join(dir, 'inbox-1');
    const { receiver, target } = await receiving(inbox, '--count=1');

    const sent = await finished(herald('send-file', target, source, '--progress-bytes=1048576'));
    expect(sent.code).toBe(0);
    expect(sent.stdout).toEqual([`sent data.bin ${content.length} B sha256 ${sha256(content)}`]);
    // Not a terminal: one progress line per notice, ending at 100%.
    expect(sent.stderr).toMatch(/^progress data\.bin \d+\/3145745 B \d+%$/m);
    expect(sent.stderr).toMatch(/^progress data\.bin 3145745\/3145745 B 100%$/m);

    const got = await finished(receiver); // --count=1: exits after one file
    expect(got.code).toBe(0);
    expect(got.stdout[1]).toBe(
      `received data.bin ${content.length} B sha256 ${sha256(content)} ${join(inbox, 'data.bin')}`,
    );
    expect(got.stderr).toMatch(/^progress data\.bin 3145745\/3145745 B 100%$/m);
    expect(sha256(await readFile(join(inbox, 'data.bin')))).toBe(sha256(content));
  }, 60_000);

  it('on a terminal draws a progress bar redrawn in place', async () => {
    const source = join(dir, 'bar.bin');
    await writeFile(source, randomBytes(2 * 1024 * 1024));
    const { target } = await receiving(join(dir, 'inbox-bar'));
    const sent = await inTerminal('send-file', target, source, '--progress-bytes=262144');
    expect(sent.code).toBe(0);
    // Each redraw returns to the line's start and clears it (\r, ESC [K).
    const redraws = sent.screen.split('\r\u001b[K').slice(1);
    expect(redraws.length).toBeGreaterThan(1);
    expect(redraws.at(-1)).toMatch(/^bar\.bin \[#{30}\] 100% {2}2\.0 MiB \/ 2\.0 MiB/);
    expect(sent.screen).toMatch(/sent bar\.bin 2097152 B sha256 [0-9a-f]{64}/);
    expect(sent.screen).not.toMatch(/^progress /m);
  }, 60_000);

  it('a file of a name already there fails with exists (exit 1); the receiver goes on', async () => {
    const inbox = join(dir, 'inbox-2');
    await mkdir(inbox, { recursive: true });
    await writeFile(join(inbox, 'taken.txt'), 'first');
    const source = join(dir, 'other.txt');
    await writeFile(source, 'second');
    const { receiver, target } = await receiving(inbox);

    const refused = await finished(herald('send-file', target, source, '--name=taken.txt'));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^failed taken\.txt: exists/m);
    expect(refused.stderr).toMatch(/HERALD_TRANSFER_FAILED/);
    expect(await readFile(join(inbox, 'taken.txt'), 'utf8')).toBe('first');

    const renamed = await finished(herald('send-file', target, source, '--name', 'fresh.txt'));
    expect(renamed.code).toBe(0);
    await receiver.waitForLine(/^received fresh\.txt 6 B /, RUN_MS);
    expect(await readFile(join(inbox, 'fresh.txt'), 'utf8')).toBe('second');
  }, 60_000);

  it('exits 2 without --dir or the path, 1 for a file that does not exist', async () => {
    const noDir = await finished(herald('receive-file', '--listen', '0'));
    expect(noDir.code).toBe(2);
    expect(noDir.stderr).toMatch(/--dir is required/);
    const notDir = await finished(herald('receive-file', '--dir', join(dir, 'nope')));
    expect(notDir.code).toBe(2);
    expect((await finished(herald('send-file', '127.0.0.1:1'))).code).toBe(2);

    const { target } = await receiving(join(dir, 'inbox-3'));
    const missing = await finished(herald('send-file', target, join(dir, 'no-such-file')));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^failed no-such-file: source-error .*ENOENT/m);
  }, 60_000);
});
