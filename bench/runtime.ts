/**
 * In-process runtime benchmarks, each beside a baseline measured in the same run.
 *
 *   node --expose-gc --import tsx bench/runtime.ts
 *
 * - ping-pong: two function actors, one message outstanding; and two handler actors.
 *   Baseline: a bare mailbox (an array queue per party, drained once per microtask).
 * - burst: one actor sends batches of 1,000 messages, the other counts them and acks each
 *   batch. Same baseline.
 * - memory per idle actor: 100,000 function actors waiting in receive(); heap delta / count.
 */
import { defineMessage, t } from '@herald/codec';
import { createRuntime, Stop, type Handler, type Self, withOptions } from '@herald/runtime';
import pino from 'pino';
import { formatResults, rate, type BenchResult } from './result.js';

const Ping = defineMessage('Ping', { n: t.int() });
const Pong = defineMessage('Pong', { n: t.int() });
const Ack = defineMessage('Ack', {});

const MEASURE_MS = 1500;

const RESOLVED = Promise.resolve();

/**
 * The baseline: a bare mailbox per party, drained once per microtask. It schedules its
 * drain the cheap way (a resolved promise's then, not queueMicrotask's AsyncResource), as
 * the runtime does, so the ratio measures the runtime's own work.
 */
class BareMailbox {
  queue: unknown[] = [];
  scheduled = false;
  constructor(readonly handle: (m: unknown) => void) {}
  push(m: unknown): void {
    this.queue.push(m);
    if (!this.scheduled) {
      this.scheduled = true;
      void RESOLVED.then(() => {
        this.scheduled = false;
        const q = this.queue;
        this.queue = [];
        for (const x of q) this.handle(x);
      });
    }
  }
}

function barePingPong(messages: number): Promise<number> {
  return new Promise((resolve) => {
    let count = 0;
    // eslint-disable-next-line prefer-const
    let a: BareMailbox;
    const b = new BareMailbox((m) => a.push(Pong({ n: (m as unknown as { n: number }).n })));
    a = new BareMailbox((m) => {
      count += 2;
      if (count >= messages) resolve(count);
      else b.push(Ping({ n: (m as unknown as { n: number }).n + 1 }));
    });
    b.push(Ping({ n: 0 }));
  });
}

function bareBurst(messages: number, batch: number): Promise<number> {
  return new Promise((resolve) => {
    let received = 0;
    let sent = 0;
    // eslint-disable-next-line prefer-const
    let sender: BareMailbox;
    const receiver = new BareMailbox(() => {
      received++;
      if (received % batch === 0) sender.push(Ack());
    });
    const sendBatch = () => {
      for (let i = 0; i < batch; i++) receiver.push(Ping({ n: sent++ }));
    };
    sender = new BareMailbox(() => {
      if (sent >= messages) resolve(sent);
      else sendBatch();
    });
    sendBatch();
  });
}

const quiet = () => pino({ level: 'silent' });

async function heraldPingPong(messages: number): Promise<number> {
  const rt = createRuntime({ logger: quiet() });
  async function ponger(self: Self) {
    for (;;) {
      const m = await self.receive(Ping, Stop);
      if (Stop.is(m)) return;
      self.reply(Pong({ n: m.n }));
    }
  }
  const result = await rt.run(async (self: Self) => {
    const p = self.spawn(ponger);
    for (let i = 0; i < messages / 2; i++) {
      self.send(p, Ping({ n: i }));
      await self.receive(Pong);
    }
    return messages;
  });
  await rt.close();
  return result as number;
}

async function heraldHandlerPingPong(messages: number): Promise<number> {
  const rt = createRuntime({ logger: quiet() });
  const ponger: Handler = {
    receive: (self, m) => self.reply(Pong({ n: (m as unknown as { n: number }).n })),
  };
  const result = await new Promise<number>((resolve) => {
    let count = 0;
    const p = rt.spawn(ponger);
    const pinger: Handler = {
      start: (self) => self.send(p, Ping({ n: 0 })),
      receive: (self, m) => {
        count += 2;
        if (count >= messages) {
          resolve(count);
          self.complete();
        } else self.send(p, Ping({ n: (m as unknown as { n: number }).n + 1 }));
      },
    };
    rt.spawn(pinger);
  });
  await rt.close();
  return result;
}

async function heraldBurst(messages: number, batch: number): Promise<number> {
  const rt = createRuntime({ logger: quiet() });
  async function counter(self: Self) {
    let n = 0;
    for (;;) {
      const m = await self.receive(Ping, Stop);
      if (Stop.is(m)) return n;
      if (++n % batch === 0) self.reply(Ack());
    }
  }
  const result = await rt.run(async (self: Self) => {
    const c = self.spawn(withOptions(counter, { capacity: batch * 2 }));
    let sent = 0;
    while (sent < messages) {
      for (let i = 0; i < batch; i++) self.send(c, Ping({ n: sent++ }));
      await self.receive(Ack);
    }
    return sent;
  });
  await rt.close();
  return result as number;
}

function gc(): void {
  const g = (globalThis as { gc?: () => void }).gc;
  if (g === undefined) throw new Error('run with node --expose-gc');
  g();
  g();
}

async function idleActorBytes(count: number): Promise<number> {
  const rt = createRuntime({ logger: quiet() });
  async function idle(self: Self) {
    await self.receive(Stop);
  }
  gc();
  const before = process.memoryUsage().heapUsed;
  for (let i = 0; i < count; i++) rt.spawn(idle);
  await new Promise<void>((resolve) => setImmediate(resolve));
  gc();
  const after = process.memoryUsage().heapUsed;
  await rt.close({ timeoutMs: 10_000 });
  return (after - before) / count;
}

export async function runRuntimeBench(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const N = 200_000;
  // Warm up both paths once.
  await barePingPong(N);
  await heraldPingPong(N);
  const bare = await rate(MEASURE_MS, () => barePingPong(N));
  const fn = await rate(MEASURE_MS, () => heraldPingPong(N));
  const handler = await rate(MEASURE_MS, () => heraldHandlerPingPong(N));
  results.push({ name: 'bare mailbox ping-pong', value: bare, unit: 'msg/s' });
  results.push({
    name: 'ping-pong, function actors',
    value: fn,
    unit: 'msg/s',
    baseline: 'bare mailbox',
    ratio: fn / bare,
    aim: '>= 0.6x bare mailbox',
  });
  results.push({
    name: 'ping-pong, handler actors',
    value: handler,
    unit: 'msg/s',
    baseline: 'bare mailbox',
    ratio: handler / bare,
    aim: '>= 0.6x bare mailbox',
  });
  const B = 1000;
  await bareBurst(N, B);
  await heraldBurst(N, B);
  const bareB = await rate(MEASURE_MS, () => bareBurst(N, B));
  const burst = await rate(MEASURE_MS, () => heraldBurst(N, B));
  results.push({ name: 'bare mailbox burst', value: bareB, unit: 'msg/s' });
  results.push({
    name: 'burst (batches of 1,000), function actors',
    value: burst,
    unit: 'msg/s',
    baseline: 'bare mailbox',
    ratio: burst / bareB,
  });
  const bytes = await idleActorBytes(100_000);
  results.push({
    name: 'heap per idle function actor (100,000 spawned)',
    value: bytes,
    unit: 'bytes',
    better: 'lower',
    aim: '<= 1024 bytes',
  });
  return results;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(formatResults('runtime (in-process)', await runRuntimeBench()));
}
