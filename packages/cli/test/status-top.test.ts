/**
 * `herald status` and `herald top` as real processes against `herald listen --operators`,
 * which opens a management endpoint (@herald/management) on itself.
 */
import { killAll, type SpawnedChild } from '@herald/testing';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUN_MS, finished, herald, inTerminal, publicKeyOf } from './support.js';

afterEach(killAll);

let dir: string;
let serverKey: string;
let operatorKey: string;
let strangerKey: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-cli-status-'));
  [serverKey, operatorKey, strangerKey] = ['server', 'operator', 'stranger'].map((name) =>
    join(dir, `${name}.key`),
  ) as [string, string, string];
  for (const path of [serverKey, operatorKey, strangerKey])
    expect((await finished(herald('keygen', path))).code).toBe(0);
}, 60_000);
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** `herald listen` with a management endpoint for the operator key. */
async function managed() {
  const server = herald(
    'listen',
    `--identity=${serverKey}`,
    `--operators=${await publicKeyOf(operatorKey)}`,
  );
  const [, target] = await server.waitForLine(/^listening on (\S+)$/, RUN_MS);
  const [, endpoint, key] = await server.waitForLine(/^management on (\S+) key (\S+)$/, RUN_MS);
  return { server, target: target as string, endpoint: endpoint as string, key: key as string };
}

function operator(command: string, endpoint: string, key: string, ...args: string[]) {
  return herald(command, endpoint, `--identity=${operatorKey}`, `--peer-key=${key}`, ...args);
}

interface SnapshotJson {
  status: { name: string; connections: number; logLevel: string };
  actors: { name: string }[];
  connections: { address: string; identity: string | null; role: string }[];
}

async function snapshot(endpoint: string, key: string): Promise<SnapshotJson> {
  const result = await finished(operator('status', endpoint, key, '--json'));
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout.join('\n')) as SnapshotJson;
}

describe('herald status', () => {
  it("prints the process's status, connections and actors; --json the snapshot", async () => {
    const { endpoint, key } = await managed();
    const text = await finished(operator('status', endpoint, key));
    expect(text.code).toBe(0);
    expect(text.stdout[0]).toMatch(/^herald listen {2}pid \d+ {2}node v\d+/);
    expect(text.stdout).toContain('CONNECTIONS (1)'); // this operator's own connection
    expect(text.stdout.some((l) => /^<\w+> +listenAndPrint +function +0\/\d+/.test(l))).toBe(true);

    const json = await snapshot(endpoint, key);
    expect(json.status.name).toBe('herald listen');
    expect(json.actors.map((a) => a.name)).toContain('management');
  }, 60_000);

  it('changes the log level and disconnects a peer by its address', async () => {
    const { target, endpoint, key } = await managed();
    const set = await finished(operator('status', endpoint, key, '--set-log-level', 'debug'));
    expect(set.code).toBe(0);
    expect(set.stderr).toMatch(/^log level \S+ → debug$/m);
    expect((await snapshot(endpoint, key)).status.logLevel).toBe('debug');
    const bad = await finished(operator('status', endpoint, key, '--set-log-level=loudest'));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/HERALD_MANAGEMENT_BAD_LEVEL/);

    // An anonymous peer of the listener (which encrypts, having an identity): the one
    // connection that is not this operator's own.
    const chat: SpawnedChild = herald('chat', target, '--encrypted');
    await chat.waitForLine(/^connected to /, RUN_MS, { stream: 'stderr' });
    const operatorPublic = await publicKeyOf(operatorKey);
    const { connections } = await snapshot(endpoint, key);
    expect(connections).toHaveLength(2);
    const peer = connections.find((c) => c.identity !== operatorPublic);
    expect(peer).toBeDefined();
    const cut = await finished(
      operator('status', endpoint, key, `--disconnect=${peer?.address ?? ''}`),
    );
    expect(cut.code).toBe(0);
    expect(cut.stderr).toContain(`disconnected ${peer?.address ?? ''}`);
    const ended = await finished(chat);
    expect(ended.stderr).toMatch(/peer left/);
  }, 90_000);

  it('exits 1 for a key that is not an operator, 2 without --peer-key', async () => {
    const { endpoint, key } = await managed();
    const stranger = await finished(
      herald('status', endpoint, `--identity=${strangerKey}`, `--peer-key=${key}`),
    );
    expect(stranger.code).toBe(1);
    expect(stranger.stderr).toMatch(/not-authorized/);
    const usage = await finished(herald('status', endpoint, `--identity=${operatorKey}`));
    expect(usage.code).toBe(2);
    expect(usage.stderr).toMatch(/--peer-key is required/);
  }, 60_000);
});

describe('herald listen --inspector', () => {
  it('serves the browser inspector at the URL it prints', async () => {
    const server = herald(
      'listen',
      `--identity=${serverKey}`,
      `--operators=${await publicKeyOf(operatorKey)}`,
      '--inspector',
    );
    const [, url] = await server.waitForLine(
      /^inspector at (http:\/\/127\.0\.0\.1:\d+\/\S*)$/,
      RUN_MS,
    );
    const page = await fetch(url as string);
    expect(page.status).toBe(200);
    expect(page.headers.get('content-type')).toMatch(/text\/html/);
    expect(await page.text()).toMatch(/<html/i);
  }, 60_000);
});

describe('herald top', () => {
  it('prints one view per interval when not on a terminal, with rates from the second on', async () => {
    const { endpoint, key } = await managed();
    const top = await finished(operator('top', endpoint, key, '--interval=200', '--count=3'));
    expect(top.code).toBe(0);
    const headers = top.stdout.filter((l) => l.startsWith('herald top '));
    expect(headers).toHaveLength(3);
    expect(headers[0]).toMatch(new RegExp(`^herald top ${endpoint} {2}\\S+Z {2}every 200 ms$`));
    const counts = top.stdout.filter((l) => l.startsWith('actors '));
    expect(counts[0]).not.toMatch(/\/s\)/);
    expect(counts[1]).toMatch(/delivered \d+ \(\d+\/s\)/);
  }, 60_000);

  it('on a terminal clears the screen and redraws each view in place', async () => {
    const { endpoint, key } = await managed();
    const top = await inTerminal(
      'top',
      endpoint,
      `--identity=${operatorKey}`,
      `--peer-key=${key}`,
      '--interval=100',
      '--count=2',
    );
    expect(top.code).toBe(0);
    const views = top.screen.split('\x1b[H\x1b[2J').slice(1);
    expect(views).toHaveLength(2);
    for (const view of views) expect(view).toMatch(/^herald top /);
  }, 60_000);

  it('runs until Ctrl-C and then exits 0', async () => {
    const { endpoint, key } = await managed();
    const top = operator('top', endpoint, key, '--interval=100');
    await top.waitForLine(/^herald top /, RUN_MS);
    await top.waitForLine(/^herald top /, RUN_MS);
    top.kill('SIGINT');
    expect((await finished(top)).code).toBe(0);
  }, 60_000);

  it('exits 1 when the watched process goes away', async () => {
    const { server, endpoint, key } = await managed();
    const top = operator('top', endpoint, key, '--interval=100');
    await top.waitForLine(/^herald top /, RUN_MS);
    server.kill('SIGTERM');
    const result = await finished(top);
    expect(result.code).toBe(1);
  }, 60_000);
});
