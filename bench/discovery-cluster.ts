/**
 * The cluster scope on NATS, measured against a real nats-server (JetStream) on loopback:
 *
 *   node --import tsx bench/discovery-cluster.ts
 *   CLUSTER_BENCH_N=200 node --import tsx bench/discovery-cluster.ts
 *
 * - put → added: one registry puts a new listing, another's glob watch reports it (a
 *   JetStream publish with its acknowledgement, then the watch's delivery).
 * - publisher death → removed: a publisher's NATS connection closes without a word (as when
 *   its process is killed); measured from the close to `removed` at the watcher, with a
 *   1 s TTL (heartbeats every 333 ms): by design between TTL − one heartbeat and the TTL.
 * - relay round trip and throughput: 64-byte ping-pong and a 16 MiB one-way transfer over
 *   a relay stream (two NATS connections through the server), beside the same over TCP on
 *   127.0.0.1 (the baseline).
 */
import { createServer, connect as tcpConnect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { connect as natsConnect } from 'nats';
import { createNatsRegistry, natsRelayTransport, type Listing } from '@herald/discovery';
import { startNatsServer } from '../packages/discovery/test/cluster-nats-server.js';
import { formatResults, type BenchResult } from './result.js';

const N = Number(process.env['CLUSTER_BENCH_N'] ?? 100);
const DEATHS = Math.max(3, Math.floor(N / 10));
const TTL_MS = 1_000;
const PINGS = N * 10;
const TRANSFER_BYTES = 16 * 1024 * 1024;

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

function summary(name: string, samples: number[]): BenchResult[] {
  const sorted = [...samples].sort((a, b) => a - b);
  return [
    { name: `${name} p50`, value: percentile(sorted, 50), unit: 'ms', better: 'lower' },
    { name: `${name} p99`, value: percentile(sorted, 99), unit: 'ms', better: 'lower' },
  ];
}

function listing(id: string, name: string): Listing {
  return { id, name, endpoints: [{ host: '10.0.0.1', port: 7000, scope: 'cluster' }] };
}

/** Waits for the next event a watcher function is given that satisfies `match`. */
class Events<T> {
  readonly #waiters: { match: (e: T) => boolean; resolve: () => void }[] = [];
  readonly push = (event: T): void => {
    for (let i = 0; i < this.#waiters.length; i++) {
      const waiter = this.#waiters[i];
      if (waiter !== undefined && waiter.match(event)) {
        this.#waiters.splice(i, 1);
        waiter.resolve();
        return;
      }
    }
  };
  next(match: (e: T) => boolean): Promise<void> {
    return new Promise((resolve) => this.#waiters.push({ match, resolve }));
  }
}

/** 64-byte ping-pong round trips (the far end echoes), in ms. */
async function pingPong(client: Duplex, count: number): Promise<number[]> {
  const samples: number[] = [];
  const ping = Buffer.alloc(64, 7);
  let pending: (() => void) | undefined;
  let got = 0;
  client.on('data', (chunk: Buffer) => {
    got += chunk.length;
    if (got >= 64) {
      got -= 64;
      pending?.();
    }
  });
  for (let i = 0; i < count; i++) {
    const start = performance.now();
    await new Promise<void>((resolve) => {
      pending = resolve;
      client.write(ping);
    });
    samples.push(performance.now() - start);
  }
  client.removeAllListeners('data');
  return samples;
}

/** One-way transfer of TRANSFER_BYTES honouring backpressure; MB/s until the reader has all. */
async function transfer(writer: Duplex, reader: Duplex): Promise<number> {
  const chunk = Buffer.alloc(64 * 1024, 1);
  let received = 0;
  const done = new Promise<void>((resolve) => {
    reader.on('data', (data: Buffer) => {
      received += data.length;
      if (received >= TRANSFER_BYTES) resolve();
    });
  });
  const start = performance.now();
  for (let sent = 0; sent < TRANSFER_BYTES; sent += chunk.length) {
    if (!writer.write(chunk)) await new Promise((resolve) => writer.once('drain', resolve));
  }
  await done;
  return TRANSFER_BYTES / 1e6 / ((performance.now() - start) / 1000);
}

const server = await startNatsServer();
const results: BenchResult[] = [];
try {
  // put → added
  {
    const bucket = 'bench-put';
    const publisher = await createNatsRegistry({ servers: server.url, bucket });
    const subscriber = await createNatsRegistry({ servers: server.url, bucket });
    const events = new Events<{ kind: string; listing: Listing }>();
    subscriber.watch({ kind: 'glob', pattern: 'bench.*' }, events.push);
    const samples: number[] = [];
    for (let i = 0; i < N + 1; i++) {
      const id = `l${i}`;
      const added = events.next((e) => e.kind === 'added' && e.listing.id === id);
      const start = performance.now();
      await publisher.put(listing(id, `bench.${i}`));
      await added;
      if (i > 0) samples.push(performance.now() - start); // the first one warms up
    }
    results.push(...summary('cluster put → added', samples));
    await publisher.close();
    await subscriber.close();
  }

  // publisher death → removed
  {
    const bucket = 'bench-death';
    const subscriber = await createNatsRegistry({ servers: server.url, bucket, ttlMs: TTL_MS });
    const events = new Events<{ kind: string; listing: Listing }>();
    subscriber.watch({ kind: 'exact', pattern: 'mortal' }, events.push);
    const samples: number[] = [];
    for (let i = 0; i < DEATHS; i++) {
      const id = `d${i}`;
      const nc = await natsConnect({ servers: server.url });
      const publisher = await createNatsRegistry({ connection: nc, bucket, ttlMs: TTL_MS });
      const added = events.next((e) => e.kind === 'added' && e.listing.id === id);
      await publisher.put(listing(id, 'mortal'));
      await added;
      const removed = events.next((e) => e.kind === 'removed' && e.listing.id === id);
      const start = performance.now();
      await nc.close();
      await removed;
      samples.push(performance.now() - start);
    }
    results.push(...summary(`cluster publisher death → removed (TTL ${TTL_MS} ms)`, samples));
    await subscriber.close();
  }

  // relay vs TCP: round trip and throughput
  {
    const a = await natsConnect({ servers: server.url });
    const b = await natsConnect({ servers: server.url });
    const serverRelay = natsRelayTransport(a, 'bench.relay.server');
    const clientRelay = natsRelayTransport(b, 'bench.relay.client');
    let accepted: Duplex | undefined;
    const listener = await serverRelay.listen({ host: '', port: 0 }, (c) => {
      accepted = c.stream;
    });
    const relayClient = (await clientRelay.dial(listener.address)).stream;
    await new Promise((resolve) => setImmediate(resolve));
    const relayServer = accepted as Duplex;
    relayServer.on('data', (chunk: Buffer) => relayServer.write(chunk));
    const relayRtt = await pingPong(relayClient, PINGS);
    relayServer.removeAllListeners('data');

    const tcp = createServer();
    const tcpAccepted = new Promise<Socket>((resolve) => tcp.once('connection', resolve));
    await new Promise<void>((resolve) => tcp.listen(0, '127.0.0.1', resolve));
    const port = (tcp.address() as { port: number }).port;
    const tcpClient = tcpConnect(port, '127.0.0.1');
    tcpClient.setNoDelay(true);
    const tcpServer = await tcpAccepted;
    tcpServer.setNoDelay(true);
    tcpServer.on('data', (chunk: Buffer) => tcpServer.write(chunk));
    const tcpRtt = await pingPong(tcpClient, PINGS);
    tcpServer.removeAllListeners('data');

    const relayRate = await transfer(relayClient, relayServer);
    const tcpRate = await transfer(tcpClient, tcpServer);
    const tcpP50 = percentile(
      [...tcpRtt].sort((x, y) => x - y),
      50,
    );
    const [relayP50, relayP99] = summary('relay 64-byte round trip', relayRtt);
    results.push(
      ...summary('tcp 64-byte round trip', tcpRtt),
      {
        ...(relayP50 as BenchResult),
        baseline: 'tcp 64-byte round trip p50',
        ratio: (relayP50?.value ?? NaN) / tcpP50,
      },
      relayP99 as BenchResult,
      { name: 'tcp one-way transfer', value: tcpRate, unit: 'MB/s' },
      {
        name: 'relay one-way transfer',
        value: relayRate,
        unit: 'MB/s',
        baseline: 'tcp one-way transfer',
        ratio: relayRate / tcpRate,
      },
    );
    relayClient.destroy();
    relayServer.destroy();
    tcpClient.destroy();
    tcpServer.destroy();
    tcp.close();
    await serverRelay.close();
    await clientRelay.close();
    await a.close();
    await b.close();
  }
} finally {
  await server.stop();
}
console.log(
  formatResults(`discovery cluster (NATS) — N=${N}, ${DEATHS} deaths, ${PINGS} pings`, results),
);
