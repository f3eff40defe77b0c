/**
 * How many chunks of a bulk transfer a high-priority message waits behind (issue 13, item
 * 4; docs/priorities.md). Two runtimes over loopback TCP; the client's writes are tapped
 * (packages/net/test/support/outbound-tap.ts) and the figure is the number of bulk frames
 * (64 KiB chunks, or 60 KiB messages) that were still in the client process when the urgent
 * message was sent, or were framed after it, and still went out ahead of it.
 *
 *   node --import tsx bench/priority.ts [runs]
 *
 * Scenarios: a 32 MiB message, and 300 messages of 60 KiB, each sent as 'low' (the
 * connection holds them in lanes from the start) and as 'normal' (lanes start only with
 * the urgent message), plus, for contrast, an urgent message sent 'normal' behind normal
 * bulk (no priorities at all).
 */
import { defineMessage, t } from '@herald/codec';
import { Accepted, connect, Connected, listen, Listening, type ConnectOptions } from '@herald/net';
import { Any, createRuntime, type Address, type Priority, type Self } from '@herald/runtime';
import {
  isBulkFrame,
  isSmallMessage,
  outboundTap,
  pausableRelay,
} from '../packages/net/test/support/outbound-tap.js';

const Big = defineMessage('bench.Big', { data: t.bytes() });
const Bulk = defineMessage('bench.Bulk', { data: t.bytes() });
const Urgent = defineMessage('bench.Urgent', {});
const messages = [Big, Bulk, Urgent];

const RUNS = Number(process.argv[2] ?? 5);
/** Bulk frames written before the urgent message is sent: the transfer is under way. */
const UNDER_WAY_FRAMES = 8;

interface Scenario {
  readonly name: string;
  readonly bulk: 'one large message' | 'many messages';
  readonly bulkPriority: Priority;
  readonly urgentPriority: Priority;
}

const SCENARIOS: Scenario[] = [
  {
    name: '32 MiB message, low; urgent high',
    bulk: 'one large message',
    bulkPriority: 'low',
    urgentPriority: 'high',
  },
  {
    name: '32 MiB message, normal; urgent high',
    bulk: 'one large message',
    bulkPriority: 'normal',
    urgentPriority: 'high',
  },
  {
    name: '300 x 60 KiB messages, low; urgent high',
    bulk: 'many messages',
    bulkPriority: 'low',
    urgentPriority: 'high',
  },
  {
    name: '300 x 60 KiB messages, normal; urgent high',
    bulk: 'many messages',
    bulkPriority: 'normal',
    urgentPriority: 'high',
  },
  {
    name: '300 x 60 KiB messages, normal; urgent normal (no priorities)',
    bulk: 'many messages',
    bulkPriority: 'normal',
    urgentPriority: 'normal',
  },
];

function waitUntil(check: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const poll = (): void => {
      if (check()) resolve();
      else setImmediate(poll);
    };
    poll();
  });
}

async function once(scenario: Scenario, slow: boolean): Promise<number> {
  const server = createRuntime({ name: 'server', messages, logLevel: 'error' });
  const client = createRuntime({ name: 'client', messages, logLevel: 'error' });
  let urgentArrived!: () => void;
  const arrived = new Promise<void>((resolve) => (urgentArrived = resolve));
  const port = await new Promise<number>((resolve) => {
    server.spawn(async (self: Self) => {
      listen(self, { port: 0 });
      resolve((await self.receive(Listening)).listening.port);
      for (;;) {
        const m = await self.receive(Accepted, Big, Bulk, Urgent);
        if (Urgent.is(m)) urgentArrived();
      }
    });
  });
  const relay = await pausableRelay(port);
  const tap = outboundTap();
  const options: ConnectOptions = { transport: tap.transport };
  const remote = await new Promise<Address>((resolve) => {
    client.spawn(async (self: Self) => {
      connect(self, { host: '127.0.0.1', port: relay.port }, options);
      await self.receive(Connected);
      resolve(self.returnAddress);
      // Keeps the controller alive, taking the connection's notices (Congested, Drained).
      for (;;) await self.receive(Any);
    });
  });
  // A slow peer: the relay stops reading, the kernel buffers fill, bytes wait in the stream.
  if (slow) relay.pause();
  const priority = scenario.bulkPriority;
  if (scenario.bulk === 'one large message')
    client.send(remote, Big({ data: new Uint8Array(32 * 1024 * 1024) }), undefined, { priority });
  else
    for (let i = 0; i < 300; i++)
      client.send(remote, Bulk({ data: new Uint8Array(60 * 1024) }), undefined, { priority });
  await waitUntil(() => tap.frames.filter(isBulkFrame).length >= UNDER_WAY_FRAMES);
  if (slow) await waitUntil(() => tap.mark().buffered > 0);
  const mark = tap.mark();
  client.send(remote, Urgent(), undefined, { priority: scenario.urgentPriority });
  relay.resume();
  await arrived;
  const ahead = tap.ahead(mark, isSmallMessage, isBulkFrame);
  await client.close({ timeoutMs: 1_000 });
  await server.close({ timeoutMs: 1_000 });
  await relay.close();
  if (ahead === undefined) throw new Error('the urgent frame was not seen');
  return ahead;
}

console.log(`priority: bulk frames (64 KiB) ahead of an urgent message, ${RUNS} runs each`);
for (const slow of [false, true]) {
  console.log(
    slow ? ' slow peer (stopped reading until the urgent message was sent)' : ' fast peer',
  );
  for (const scenario of SCENARIOS) {
    const figures: number[] = [];
    for (let i = 0; i < RUNS; i++) figures.push(await once(scenario, slow));
    figures.sort((a, b) => a - b);
    const median = figures[Math.floor(figures.length / 2)];
    console.log(
      `  ${scenario.name.padEnd(62)} max ${String(figures.at(-1)).padStart(4)}  median ${String(median).padStart(4)}  [${figures.join(', ')}]`,
    );
  }
}
