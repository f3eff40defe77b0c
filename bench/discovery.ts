/**
 * Discovery latency: how long from subscribe() to Available, and from a publisher's death
 * to its subscribers' NotAvailable, through a host directory on loopback.
 *
 *   node --import tsx bench/discovery.ts
 *   DISCOVERY_BENCH_N=500 node --import tsx bench/discovery.ts
 *
 * One process, three runtimes (the host directory, the publisher, the subscriber), real
 * TCP on 127.0.0.1, encrypted as every discovery connection is:
 *
 * - subscribe → Available: a new subscribing actor each round, while the publisher is
 *   listed; includes the directory round trip (Find, Found) and the encrypted handshake
 *   to the publisher's listener. The runtime's directory link is already up (first round
 *   not counted), as in any process that has subscribed or published before.
 * - publisher death → NotAvailable: each round a new publisher runtime publishes, the
 *   subscriber gets Available, then the publisher runtime is closed (its sockets end);
 *   measured from the close call to NotAvailable at the subscriber. A SIGKILLed process
 *   is noticed the same way (the kernel ends its sockets): test/discovery-failures.test.ts.
 */
import {
  Available,
  NotAvailable,
  Published,
  configureDiscovery,
  publish,
  startDirectory,
  subscribe,
} from '@herald/discovery';
import { createRuntime, type Runtime, type Self } from '@herald/runtime';
import pino from 'pino';
import { formatResults, type BenchResult } from './result.js';

const N = Number(process.env['DISCOVERY_BENCH_N'] ?? 200);

function quietRuntime(name: string): Runtime {
  return createRuntime({ name, logger: pino({ level: 'silent' }) });
}

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

const home = quietRuntime('directory');
const directory = await startDirectory(home, { port: 0 });
const at = directory.listening;
const subscriberRuntime = quietRuntime('subscriber');
configureDiscovery(subscriberRuntime, { directory: at });

function startPublisher(): Promise<Runtime> {
  const runtime = quietRuntime('publisher');
  configureDiscovery(runtime, { directory: at });
  return new Promise((resolve) => {
    runtime.spawn(async (self: Self) => {
      publish(self, 'bench.echo');
      await self.receive(Published);
      resolve(runtime);
      await self.receive(NotAvailable); // never: runs until its runtime closes
    });
  });
}

/** Subscribes and resolves with ms to Available; then `after` runs inside the subscriber. */
function subscribeOnce(after?: (self: Self) => Promise<void>): Promise<number> {
  return new Promise((resolve) => {
    subscriberRuntime.spawn(async (self: Self) => {
      const start = performance.now();
      subscribe(self, 'bench.echo');
      await self.receive(Available);
      resolve(performance.now() - start);
      await after?.(self);
    });
  });
}

// subscribe → Available
let publisher = await startPublisher();
await subscribeOnce(); // warm-up: the subscriber runtime's directory link comes up
const toAvailable: number[] = [];
for (let i = 0; i < N; i++) toAvailable.push(await subscribeOnce());

// publisher death → NotAvailable
await publisher.close();
const toNotAvailable: number[] = [];
for (let i = 0; i < N; i++) {
  publisher = await startPublisher();
  await new Promise<void>((done) => {
    void subscribeOnce(async (self) => {
      const start = performance.now();
      void publisher.close();
      await self.receive(NotAvailable);
      toNotAvailable.push(performance.now() - start);
      done();
    });
  });
}

process.stdout.write(
  `${formatResults(`discovery through a host directory on loopback (N=${N})`, [
    ...summary('subscribe -> Available', toAvailable),
    ...summary('publisher death -> NotAvailable', toNotAvailable),
  ])}\n`,
);
await subscriberRuntime.close();
await directory.close();
await home.close();
