/**
 * Delivery-guarantee benchmark: the same messages sent plain, at least once, and at least
 * once persistent (lmdb, batched fsync), over one TCP connection on 127.0.0.1, with the
 * ratios to the plain send from the same run.
 *
 *   node --import tsx bench/patterns.ts
 *
 * Two runtimes in this process (sender and receiver), connected with connect()/listen().
 * The sender's outlet sends `test.Job` messages round-robin to its one peer (the
 * connection); the receiver's controller takes them (through an Inbox for the reliable
 * modes, with a durable Inbox for the persistent mode).
 *
 * - plain: at-most-once sends, paced with AwaitDrain every PLAIN_BATCH messages so the
 *   outbound buffer stays bounded; the rate is counted to the receiver's Done.
 * - at-least-once: at most WINDOW unacknowledged (the sender sends one more per Delivered).
 * - durable: the same with `persistent: true`; the outbox commits with one fsync per
 *   event-loop turn (`sync: 'batched'`), the receiver commits its window record per message
 *   without its own fsync (docs/patterns.md, "Durability and fsync").
 *
 * Stops by itself. PATTERNS_BENCH_SCALE=<factor> scales the message counts (default 1).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defineMessage, t } from '@herald/codec';
import {
  AwaitDrain,
  Connected,
  Drained,
  Listening,
  NotConnected,
  NotListening,
  connect,
  listen,
} from '@herald/net';
import { createRuntime, type Address, type Self } from '@herald/runtime';
import pino from 'pino';
import {
  Delivered,
  NotDelivered,
  Reliable,
  createInbox,
  createOutlet,
  openDurableStore,
  patternMessages,
  type DurableStore,
} from '../packages/patterns/src/index.js';
import { formatResults, type BenchResult } from './result.js';

const Job = defineMessage('bench.Job', { n: t.int(), data: t.string() });
const Count = defineMessage('bench.Count', { expected: t.int() });
const Done = defineMessage('bench.Done', { received: t.int() });
const messages = [Job, Count, Done, ...patternMessages];

const SCALE = Number(process.env.PATTERNS_BENCH_SCALE ?? '1');
const PLAIN_MESSAGES = Math.round(100_000 * SCALE);
const RELIABLE_MESSAGES = Math.round(50_000 * SCALE);
const DURABLE_MESSAGES = Math.round(10_000 * SCALE);
const PLAIN_BATCH = 1_000;
const WINDOW = 1_000;
/** About 100 bytes of payload, as in bench/net.ts. */
const DATA = 'x'.repeat(90);

type Mode = 'plain' | 'at-least-once' | 'durable';

/** The receiver: counts Jobs (through an inbox for reliable ones) and answers Count with Done. */
async function receiver(self: Self, store: DurableStore | undefined): Promise<void> {
  listen(self, { host: '127.0.0.1', port: 0 }, { messages });
  const up = await self.receive(Listening, NotListening);
  if (NotListening.is(up)) throw new Error(`cannot listen: ${up.errno ?? ''}`);
  portReady(up.listening.port);
  const inbox = createInbox(self, store === undefined ? {} : { store, name: 'bench' });
  let received = 0;
  let expected = -1;
  let asker: Address | undefined;
  for (;;) {
    const m = await self.receive(Job, Reliable, Count);
    if (Count.is(m)) {
      received = 0;
      expected = m.expected;
      asker = self.returnAddress;
      continue;
    }
    if (Reliable.is(m)) {
      if (inbox.accept(self, m) === undefined) continue;
    }
    if (++received === expected && asker !== undefined) self.send(asker, Done({ received }));
  }
}

let portReady: (port: number) => void = () => undefined;

async function sender(
  self: Self,
  port: number,
  mode: Mode,
  count: number,
  store: DurableStore | undefined,
): Promise<number> {
  connect(self, { host: '127.0.0.1', port }, { messages });
  const c = await self.receive(Connected, NotConnected);
  if (!Connected.is(c)) throw new Error(`cannot connect: ${c.reason}`);
  const outlet = createOutlet(self, {
    delivery: mode === 'plain' ? 'at-most-once' : 'at-least-once',
    confirm: true,
    maxInFlight: WINDOW,
    bufferLimit: WINDOW,
    ...(store === undefined ? {} : { store, name: 'bench' }),
  });
  outlet.observe(c);
  self.send(c.remote, Count({ expected: count }));
  const persistent = mode === 'durable';
  const start = performance.now();
  let sent = 0;
  if (mode === 'plain') {
    while (sent < count) {
      const batch = Math.min(PLAIN_BATCH, count - sent);
      for (let i = 0; i < batch; i++) outlet.send(Job({ n: sent++, data: DATA }));
      const drained = await self.ask(c.remote, AwaitDrain(), Drained, { timeout: 30_000 });
      if (!Drained.is(drained)) throw new Error('no Drained');
    }
  } else {
    while (sent < Math.min(WINDOW, count))
      outlet.send(Job({ n: sent++, data: DATA }), { persistent });
    let acked = 0;
    while (acked < count) {
      const m = await self.receive(Delivered, NotDelivered, { timeout: 60_000, save: [Done] });
      if (!Delivered.is(m)) throw new Error(`not delivered: ${JSON.stringify(m)}`);
      acked++;
      if (sent < count) outlet.send(Job({ n: sent++, data: DATA }), { persistent });
    }
  }
  const done = await self.receive(Done, { timeout: 60_000 });
  if (!Done.is(done)) throw new Error('no Done from the receiver');
  const seconds = (performance.now() - start) / 1000;
  outlet.stop();
  return count / seconds;
}

async function measure(mode: Mode, count: number): Promise<number> {
  const dir =
    mode === 'durable' ? mkdtempSync(join(tmpdir(), 'herald-bench-patterns-')) : undefined;
  const sendStore = dir === undefined ? undefined : openDurableStore(join(dir, 'out'));
  const receiveStore = dir === undefined ? undefined : openDurableStore(join(dir, 'in'));
  const logger = pino({ level: 'silent' });
  const rr = createRuntime({ logger, messages, name: 'receiver' });
  const sr = createRuntime({ logger, messages, name: 'sender' });
  try {
    const port = new Promise<number>((resolve) => {
      portReady = resolve;
    });
    rr.spawn(receiver, receiveStore);
    const at = await port;
    const result = await sr.run(sender, at, mode, count, sendStore);
    if (typeof result !== 'number') throw new Error(`${mode}: ${JSON.stringify(result)}`);
    return result;
  } finally {
    await sr.close();
    await rr.close();
    await sendStore?.close();
    await receiveStore?.close();
    if (dir !== undefined) rmSync(dir, { recursive: true, force: true });
  }
}

const plain = await measure('plain', PLAIN_MESSAGES);
const reliable = await measure('at-least-once', RELIABLE_MESSAGES);
const durable = await measure('durable', DURABLE_MESSAGES);
const results: BenchResult[] = [
  { name: `plain send (${PLAIN_MESSAGES} msgs)`, value: plain, unit: 'msg/s' },
  {
    name: `at-least-once (${RELIABLE_MESSAGES} msgs, window ${WINDOW})`,
    value: reliable,
    unit: 'msg/s',
    baseline: 'plain',
    ratio: reliable / plain,
  },
  {
    name: `durable, batched fsync (${DURABLE_MESSAGES} msgs)`,
    value: durable,
    unit: 'msg/s',
    baseline: 'plain',
    ratio: durable / plain,
    also: [{ baseline: 'at-least-once', ratio: durable / reliable }],
  },
];
console.log(
  formatResults('patterns: delivery guarantees over one TCP connection (127.0.0.1)', results),
);
