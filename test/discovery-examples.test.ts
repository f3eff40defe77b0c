/**
 * The discovery examples, run as a user runs them: every directory, publisher and
 * subscriber in its own process (`node --import tsx examples/<name>.ts`, the directory from
 * `herald-directory`'s source), over real loopback sockets. Every wait is bounded.
 */
import { killAll, spawnScript, type SpawnedChild } from '@herald/testing';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Bound for one process to start, do its work and exit (tsx start-up included). */
const RUN_MS = 30_000;

afterEach(killAll);

function start(script: string, args: readonly string[]): SpawnedChild {
  return spawnScript(script, args, { cwd: ROOT });
}

async function hostDirectory(): Promise<string> {
  const child = start('packages/discovery/src/main.ts', ['--port=0']);
  const match = await child.waitForLine(/^directory host listening on (127\.0\.0\.1:\d+)$/, RUN_MS);
  return match[1]!;
}

describe('discovery examples', () => {
  it('subscribe-to-service finds publish-a-service by name and prints its Welcome', async () => {
    const directory = await hostDirectory();
    const publisher = start('examples/publish-a-service.ts', [`--directory=${directory}`]);
    await publisher.waitForLine(/^published echo at host on 127\.0\.0\.1:\d+$/, RUN_MS);
    const subscriber = start('examples/subscribe-to-service.ts', [
      `--directory=${directory}`,
      '--glob',
      '--name=ec*',
    ]);
    expect(await subscriber.waitForExit(RUN_MS)).toEqual({ code: 0, signal: null });
    expect(subscriber.stdout[0]).toBe('available: echo at host');
    expect(JSON.parse(subscriber.stdout.slice(1).join('\n'))).toEqual({
      type: 'Welcome',
      yourName: 'Gladys',
      myName: 'Buster',
    });
    await publisher.waitForLine(/^delivered to a subscriber$/, RUN_MS);
    publisher.kill('SIGINT');
    expect(await publisher.waitForExit(RUN_MS)).toEqual({ code: 0, signal: null });
    const summary = publisher.stdout.slice(publisher.stdout.indexOf('{')).join('\n');
    expect(JSON.parse(summary)).toEqual({ delivered: 1, welcomed: 1 });
  });

  it('subscribe-to-service fails with TimedOut (exit 1) when nobody publishes the name', async () => {
    const directory = await hostDirectory();
    const subscriber = start('examples/subscribe-to-service.ts', [
      `--directory=${directory}`,
      '--name=nobody',
      '--timeout=500',
    ]);
    const status = await subscriber.waitForExit(RUN_MS);
    expect(status.code).toBe(1);
    expect(subscriber.stderr.join('\n')).toMatch(/TimedOut|timed out/i);
  });

  it('lan-three-hosts: subscribers under two hosts reach the publisher under the third through the LAN directory', async () => {
    const child = start('examples/lan-three-hosts.ts', [`--timeout=${RUN_MS}`]);
    expect(await child.waitForExit(RUN_MS * 2)).toEqual({ code: 0, signal: null });
    const out = child.stdout.join('\n');
    expect(out).toMatch(/^lan directory +directory lan listening on 127\.0\.0\.1:\d+$/m);
    for (const n of [1, 2, 3]) {
      expect(out).toMatch(new RegExp(`^host ${n} +directory host listening on`, 'm'));
    }
    for (const n of [2, 3]) {
      expect(out).toMatch(new RegExp(`^subscriber ${n} +available: echo at lan$`, 'm'));
      expect(out).toContain(`"yourName": "host-${n}"`);
    }
  });
});
