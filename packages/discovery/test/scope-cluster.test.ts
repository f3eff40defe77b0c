/**
 * The cluster scope through a real nats-server (loopback, its own port): publishers and
 * subscribers in different runtimes with no directory at all find each other through the
 * NATS registry, connect directly, and fall back to the relay route (Herald over NATS
 * subjects) when the direct connection cannot open. Skipped where nats-server is missing
 * (CI installs it).
 */
import { defineMessage, t } from '@herald/codec';
import { connections } from '@herald/net';
import type { Runtime, Self } from '@herald/runtime';
import { closeTestRuntimes, freePort, spawnProbe, testRuntime, type Probe } from '@herald/testing';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import {
  Available,
  Dropped,
  NotAvailable,
  Published,
  configureDiscovery,
  publish,
  startDirectory,
  subscribe,
  type PublishOptions,
} from '../src/index.js';
import { createNatsRegistry } from '../src/cluster/index.js';
import { natsServerBinary, startNatsServer, type NatsServer } from './cluster-nats-server.js';

const Ping = defineMessage('test.Ping', { n: t.int() });
const Pong = defineMessage('test.Pong', { n: t.int() });
const messages = [Ping, Pong];
/** Short TTL so a dead publisher's listing goes quickly. */
const TTL_MS = 2_000;

let nats: NatsServer;
let nowhere: number;
const haveNats = natsServerBinary() !== undefined;

beforeAll(async () => {
  if (!haveNats) return;
  nats = await startNatsServer();
  nowhere = await freePort(); // no host directory there: only the cluster scope works
});
afterAll(async () => {
  if (haveNats) await nats.stop();
});
afterEach(closeTestRuntimes);

function clusterRuntime(bucket: string): Runtime {
  const runtime = testRuntime({ messages });
  configureDiscovery(runtime, {
    directory: { host: '127.0.0.1', port: nowhere },
    cluster: { servers: nats.url, bucket, ttlMs: TTL_MS },
  });
  return runtime;
}

function publisher(runtime: Runtime, options: PublishOptions = {}): Promise<Probe> {
  return spawnProbe(runtime, {
    name: 'publisher',
    onStart: (self) => publish(self, 'echo', { scope: 'cluster', messages, ...options }),
    onMessage: (message, self) => {
      if (Ping.is(message)) self.reply(Pong({ n: message.n }));
    },
  });
}

function subscriber(runtime: Runtime): Promise<Probe> {
  return spawnProbe(runtime, {
    name: 'subscriber',
    onStart: (self) => subscribe(self, 'echo', { scope: 'cluster', messages }),
  });
}

async function ping(probe: Probe, peer: Parameters<Self['send']>[0], n: number): Promise<void> {
  probe.self.send(peer, Ping({ n }));
  await probe.next(Pong, (m) => m.n === n, 10_000);
}

describe.skipIf(!haveNats)('cluster scope on NATS', () => {
  it('finds a publisher in another runtime through the NATS registry and connects directly', async () => {
    const pub = await publisher(clusterRuntime('direct'), { advertiseHost: '127.0.0.1' });
    await pub.waitFor(Published);
    const sub = await subscriber(clusterRuntime('direct'));
    const available = await sub.next(Available, () => true, 10_000);
    expect(available.message).toMatchObject({ name: 'echo', scope: 'cluster' });
    await ping(sub, available.from, 1);
  });

  it('uses the relay route through NATS subjects when the direct connection cannot open', async () => {
    // The publisher listens on 127.0.0.2 only but advertises 127.0.0.3: nobody can connect directly.
    const a = clusterRuntime('relay');
    const pub = await publisher(a, { listenHost: '127.0.0.2', advertiseHost: '127.0.0.3' });
    await pub.waitFor(Published);
    const b = clusterRuntime('relay');
    const sub = await subscriber(b);
    const available = await sub.next(Available, () => true, 15_000);
    expect(available.message.scope).toBe('cluster');
    await ping(sub, available.from, 2);
    // The connection in use runs over the relay transport: its peer is a NATS subject prefix.
    const route = connections(b).find((c) => c.address.equals(available.message.remote));
    expect(route?.peer.host).toMatch(/^herald\.relay\./u);
    // The publisher's end goes: Dropped and NotAvailable, as over TCP.
    await a.close();
    await sub.next(Dropped, () => true, 10_000);
    await sub.next(NotAvailable, () => true, 10_000);
  });

  it('passes listings up from a LAN directory to the cluster registry and searches down from it', async () => {
    const home = testRuntime();
    const registry = await createNatsRegistry({ servers: nats.url, bucket: 'lan', ttlMs: TTL_MS });
    home.onClose(() => registry.close());
    const lan = await startDirectory(home, {
      scope: 'lan',
      host: '127.0.0.1',
      port: 0,
      upstreamRegistry: registry,
    });
    const hostA = await startDirectory(home, { port: 0, upstream: lan.listening });
    const a = testRuntime({ messages });
    configureDiscovery(a, { directory: hostA.listening });
    // This subscriber has no directory: it sees only what the cluster registry holds.
    const b = testRuntime({ messages });
    configureDiscovery(b, {
      directory: { host: '127.0.0.1', port: nowhere },
      cluster: { servers: nats.url, bucket: 'lan', ttlMs: TTL_MS, relay: false },
    });
    const pub = await publisher(a, { advertiseHost: '127.0.0.1' });
    await pub.waitFor(Published);
    const sub = await subscriber(b);
    const available = await sub.next(Available, () => true, 10_000);
    expect(available.message.scope).toBe('cluster');
    await ping(sub, available.from, 3);
  });
});

describe.skipIf(!haveNats)('cluster scope: the NATS server restarts', () => {
  it('routes in use stay up, and the listing is found again once NATS is back', async () => {
    const pub = await publisher(clusterRuntime('restart'), { advertiseHost: '127.0.0.1' });
    const published = await pub.waitFor(Published);
    const sub = await subscriber(clusterRuntime('restart'));
    const available = await sub.next(Available, () => true, 10_000);

    await nats.restart({ freshStore: true }); // the worst case: the bucket is gone too
    await ping(sub, available.from, 1); // the direct route does not go through NATS

    // A newcomer finds the publisher: its registry reconnected and put the listing again.
    const newcomer = await subscriber(clusterRuntime('restart'));
    const found = await newcomer.next(Available, () => true, 20_000);
    expect(found.message.listing).toBe(published.listing);
    await ping(newcomer, found.from, 2);
    expect(sub.count(Dropped)).toBe(0);
  });
});
