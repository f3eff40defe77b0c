/**
 * Discovery's failure semantics with real processes: a host directory (`herald-directory`'s
 * source) and publishers (examples/publish-a-service.ts) each in their own process, killed
 * with SIGKILL (no goodbye on any socket); the subscriber is an actor in this process. Every
 * wait is an awaited line or message, bounded.
 */
import {
  Available,
  Dropped,
  NotAvailable,
  configureDiscovery,
  subscribe,
  type DirectoryAddress,
} from '@herald/discovery';
import type { Runtime } from '@herald/runtime';
import {
  closeTestRuntimes,
  killAll,
  spawnProbe,
  spawnScript,
  testRuntime,
  type Probe,
  type SpawnedChild,
} from '@herald/testing';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Hello, Welcome, helloWelcome } from '../examples/hello-welcome.js';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Bound for a process to start (tsx start-up included) and say it is ready. */
const START_MS = 20_000;
/**
 * Bound for a publisher to notice its directory is back: the loopback reconnect backoff is
 * 2-3 s then 4-6 s, and the directory needs its own start-up time.
 */
const REREGISTER_MS = 25_000;
/** Quick reconnects for this process's own directory link. */
const TEST_BACKOFF = { steps: [100], regular: 250, jitter: 0, jitterQuantumMs: 50 };

afterEach(async () => {
  await killAll();
  await closeTestRuntimes();
});

async function startDirectory(port = 0): Promise<{ child: SpawnedChild; at: DirectoryAddress }> {
  const child = spawnScript('packages/discovery/src/main.ts', [`--port=${port}`], { cwd: ROOT });
  const match = await child.waitForLine(
    /^directory host listening on 127\.0\.0\.1:(\d+)$/,
    START_MS,
  );
  return { child, at: { host: '127.0.0.1', port: Number(match[1]) } };
}

async function startPublisher(at: DirectoryAddress, name = 'echo'): Promise<SpawnedChild> {
  const child = spawnScript(
    'examples/publish-a-service.ts',
    [`--directory=${at.host}:${at.port}`, `--name=${name}`],
    { cwd: ROOT },
  );
  await child.waitForLine(/^published echo at host on 127\.0\.0\.1:\d+$/, START_MS);
  return child;
}

function subscriberRuntime(at: DirectoryAddress): Runtime {
  const runtime = testRuntime({ messages: helloWelcome });
  configureDiscovery(runtime, { directory: at, backoff: TEST_BACKOFF });
  return runtime;
}

function subscriber(runtime: Runtime): Promise<Probe> {
  return spawnProbe(runtime, {
    name: 'subscriber',
    onStart: (self) => subscribe(self, 'echo', { messages: helloWelcome }),
  });
}

async function hello(probe: Probe, peer: Parameters<Probe['self']['send']>[0], name: string) {
  probe.self.send(peer, Hello({ myName: name }));
  const welcome = await probe.next(Welcome, (m) => m.yourName === name, START_MS);
  expect(welcome.message.myName).toBe('Buster');
}

describe('discovery failures, real processes', () => {
  it('publisher killed: Dropped and NotAvailable; Available again when a publisher returns', async () => {
    const directory = await startDirectory();
    const first = await startPublisher(directory.at);
    const sub = await subscriber(subscriberRuntime(directory.at));
    const available = await sub.next(Available, () => true, START_MS);
    await hello(sub, available.from, 'one');

    first.kill('SIGKILL');
    const dropped = await sub.next(Dropped, () => true, START_MS);
    expect(dropped.message.listing).toBe(available.message.listing);
    const gone = await sub.next(NotAvailable, () => true, START_MS);
    expect(gone.message).toMatchObject({ name: 'echo', listing: available.message.listing });

    await startPublisher(directory.at);
    const again = await sub.next(Available, () => true, START_MS);
    expect(again.message.listing).not.toBe(available.message.listing);
    await hello(sub, again.from, 'two');
  });

  it('host directory killed and restarted: listings come back, and routes in use stay up', async () => {
    const directory = await startDirectory();
    await startPublisher(directory.at);
    const sub = await subscriber(subscriberRuntime(directory.at));
    const available = await sub.next(Available, () => true, START_MS);

    directory.child.kill('SIGKILL');
    await directory.child.waitForExit(START_MS);
    // The route to the publisher does not go through the directory.
    await hello(sub, available.from, 'during');

    const restarted = await startDirectory(directory.at.port);
    // A newcomer finds the publisher: it registered its listing again by itself.
    const newcomer = await subscriber(subscriberRuntime(restarted.at));
    const found = await newcomer.next(Available, () => true, REREGISTER_MS);
    expect(found.message.listing).toBe(available.message.listing);
    await hello(newcomer, found.from, 'after');
    expect(sub.count(Dropped)).toBe(0);
    expect(sub.count(NotAvailable)).toBe(0);
  });
});
