/**
 * Group fault tests with real processes and real sockets: the server is a child process
 * (test/fixtures/group-server.ts) that is SIGKILLed and restarted on the same port, put
 * behind a TCP proxy that black-holes or resets the link, or made to close every
 * connection at once. The client group runs in this process on the system clock with short
 * configured intervals; every wait is for an event, bounded.
 */
import { fileURLToPath } from 'node:url';
import type { Address } from '@herald/codec';
import { connectTo, groupTable, NotReady, Ready, type BackoffPolicy } from '@herald/net';
import { afterEach, describe, expect, it } from 'vitest';
import { Hello, Welcome, helloWelcome } from '../examples/hello-welcome.js';
import {
  freePort,
  killAll,
  spawnScript,
  startFaultRelay,
  testRuntime,
  type FaultRelay,
  type SpawnedChild,
} from '@herald/testing';
import {
  AttemptCounter,
  cleanup,
  startOwner,
  type Owner,
} from '../packages/net/test/group/support.js';

const SERVER = fileURLToPath(new URL('./fixtures/group-server.ts', import.meta.url));
const example = (name: string) => fileURLToPath(new URL(`../examples/${name}`, import.meta.url));
/** Start-up of a tsx child can take a few seconds on a loaded machine. */
const START_MS = 15_000;
/** Retry quickly and exactly: 100 ms, then every 200 ms. */
const QUICK: BackoffPolicy = { steps: [100], regular: 200, jitter: 0, jitterQuantumMs: 50 };

const proxies: FaultRelay[] = [];
afterEach(async () => {
  await Promise.all(proxies.splice(0).map((p) => p.close()));
  await cleanup();
  await killAll();
});

async function startServer(port: number, mode = 'welcome'): Promise<SpawnedChild> {
  const child = spawnScript(SERVER, [`--port=${port}`, `--mode=${mode}`]);
  await child.waitForLine(/^listening on /, START_MS);
  return child;
}

function client() {
  const runtime = testRuntime({ name: 'client', messages: helloWelcome });
  return { runtime, attempts: new AttemptCounter(runtime) };
}

async function expectTraffic(owner: Owner<{ server: ReturnType<typeof connectTo> }>, name: string) {
  owner.self.send(owner.group.server as Address, Hello({ myName: name }));
  const welcome = await owner.next(Welcome, (m) => m.yourName === name);
  expect(welcome.message.myName).toBe('fixture');
}

describe('group faults', () => {
  it('group-faults - server killed with SIGKILL and restarted on the same port: NotReady, then Ready, and traffic resumes', async () => {
    const port = await freePort();
    const server = await startServer(port);
    const owner = await startOwner(
      client().runtime,
      groupTable({ server: connectTo({ host: '127.0.0.1', port }, { backoff: QUICK }) }),
    );
    await owner.next(Ready);
    await expectTraffic(owner, 'before');

    server.kill('SIGKILL');
    await owner.next(NotReady);
    expect(owner.group.server).toBeUndefined();

    await startServer(port);
    await owner.next(Ready, undefined, START_MS);
    await expectTraffic(owner, 'after');
  });

  it('group-faults - a client started before its server reaches Ready once the server is up', async () => {
    const port = await freePort();
    const { runtime, attempts } = client();
    const owner = await startOwner(
      runtime,
      groupTable({ server: connectTo({ host: '127.0.0.1', port }, { backoff: QUICK }) }),
    );
    await attempts.untilEnded(3);
    expect(owner.count(Ready)).toBe(0);
    await startServer(port);
    await owner.next(Ready, undefined, START_MS);
    await expectTraffic(owner, 'late');
  });

  it('group-faults - a black-holed connection is detected by keep-alive and recovers when the proxy heals', async () => {
    const port = await freePort();
    await startServer(port);
    const proxy = await startFaultRelay({ target: { host: '127.0.0.1', port } });
    proxies.push(proxy);
    const idle = 200;
    const timeout = 200;
    const owner = await startOwner(
      client().runtime,
      groupTable({
        server: connectTo(
          { host: '127.0.0.1', port: proxy.port },
          {
            backoff: QUICK,
            keepaliveIdleMs: idle,
            keepaliveTimeoutMs: timeout,
            // Attempts made during the black hole never finish their handshake.
            handshakeTimeoutMs: 300,
          },
        ),
      }),
    );
    await owner.next(Ready);
    await expectTraffic(owner, 'before');

    proxy.blackhole();
    // A black hole sends no FIN and no RST, so only keep-alive can notice it: NotReady at
    // all is the proof. The bound itself (idle + timeout on the runtime's clock) is asserted
    // deterministically with a TestClock in packages/net/test/flow.test.ts; a wall-clock
    // assertion here would only measure the machine's load. The wait is bounded generously.
    await owner.next(NotReady, undefined, 20 * (idle + timeout));

    proxy.heal();
    await owner.next(Ready);
    await expectTraffic(owner, 'healed');
  });

  it('group-faults - a reset connection goes NotReady and reconnects', async () => {
    const port = await freePort();
    await startServer(port);
    const proxy = await startFaultRelay({ target: { host: '127.0.0.1', port } });
    proxies.push(proxy);
    const owner = await startOwner(
      client().runtime,
      groupTable({
        server: connectTo({ host: '127.0.0.1', port: proxy.port }, { backoff: QUICK }),
      }),
    );
    await owner.next(Ready);
    proxy.resetAll();
    await owner.next(NotReady);
    await owner.next(Ready);
    await expectTraffic(owner, 'after reset');
    expect(proxy.connections).toBe(2);
  });

  it('group-faults - a server that accepts and closes at once gets at most one attempt per backoff step', async () => {
    const port = await freePort();
    const server = await startServer(port, 'close');
    const { runtime, attempts } = client();
    const steps: BackoffPolicy = {
      steps: [100, 200],
      regular: 400,
      jitter: 0,
      jitterQuantumMs: 50,
    };
    const owner = await startOwner(
      runtime,
      groupTable({ server: connectTo({ host: '127.0.0.1', port }, { backoff: steps }) }),
    );
    await server.waitForLine(/^accepted 4$/);
    expect(attempts.started).toBe(4);
    // Attempts 2, 3 and 4 each came after a wait of 100, 200 and 400 ms: never sooner.
    const gaps = attempts.startedAt.slice(1).map((at, i) => at - (attempts.startedAt[i] as number));
    expect(gaps).toHaveLength(3);
    gaps.forEach((gap, i) => expect(gap).toBeGreaterThanOrEqual([100, 200, 400][i]! - 1));
    // Every attempt was a real connection that the group saw come and go.
    expect(owner.count(Ready)).toBeGreaterThanOrEqual(3);
  });
});

describe('group examples', () => {
  it('examples - connect-and-reconnect-to-address started before its server prints the Welcome', async () => {
    const port = await freePort();
    const client = spawnScript(example('connect-and-reconnect-to-address.ts'), [`--port=${port}`]);
    const server = spawnScript(example('listen-at-address.ts'), [`--port=${port}`]);
    await server.waitForLine(/^listening on /, START_MS);
    // The default loopback schedule retries after 2-3 s, then 4-6 s.
    expect(await client.waitForExit(START_MS + 10_000)).toEqual({ code: 0, signal: null });
    expect(client.stdout.join('\n')).toMatch(/"type": "Welcome"[^]*"yourName": "Gladys"/);
  });

  it('examples - group-of-three prints which servers are up on every change', async () => {
    const ports = [await freePort(), await freePort(), await freePort()];
    const servers = await Promise.all(ports.map((port) => startServer(port)));
    const [alpha, beta, gamma] = ports.map(String);
    const watcher = spawnScript(example('group-of-three.ts'), [
      `--alpha=${alpha}`,
      `--beta=${beta}`,
      `--gamma=${gamma}`,
    ]);
    await watcher.waitForLine(/^up: -; down: alpha beta gamma$/, START_MS);
    await watcher.waitForLine(/^ready: all three up$/);
    servers[1]?.kill('SIGKILL');
    await watcher.waitForLine(/^not ready$/);
    await watcher.waitForLine(/^up: alpha gamma; down: beta$/);
    await startServer(ports[1] as number);
    await watcher.waitForLine(/^up: alpha beta gamma; down: -$/, START_MS);
    await watcher.waitForLine(/^ready: all three up$/);
    watcher.kill('SIGINT');
    expect(await watcher.waitForExit()).toEqual({ code: 0, signal: null });
  });
});
