/**
 * Memory per idle Herald connection at the network level (issue 8, aim ≤ 16 KiB RSS):
 *
 *   node --expose-gc --import tsx test/soak/idle-connections.ts
 *   HERALD_IDLE_CONNECTIONS=1000 ...        # fewer connections
 *   HERALD_IDLE_SNAPSHOT=1 ...              # also a heap snapshot summary by constructor
 *
 * This process is the server: a runtime listening on 127.0.0.1 (clear, default options).
 * A child process (idle-clients.ts) opens the connections; the handshakes complete, then
 * nothing is sent. RSS and heap are measured after GC before the child starts and again
 * once every connection is accepted and idle; the difference divided by the count is the
 * cost of one idle connection on the server side (socket, SocketProxy actor, wire session,
 * codec stream, logger, tables). Prints one JSON line.
 */
import { spawn } from 'node:child_process';
import { writeHeapSnapshot } from 'node:v8';
import { readFileSync, rmSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Any, createLogger, createRuntime, type Self } from '@herald/runtime';
import { Accepted, Listening, listen } from '@herald/net';
import { networkOf } from '@herald/net/internal';

const COUNT = Number(process.env.HERALD_IDLE_CONNECTIONS ?? 5_000);
const AIM_BYTES = 16 * 1024;

const exposedGc = (globalThis as { gc?: () => void }).gc;
if (exposedGc === undefined) throw new Error('run with node --expose-gc');
const gc: () => void = exposedGc;

async function memory(): Promise<NodeJS.MemoryUsage> {
  for (let i = 0; i < 6; i++) {
    gc();
    await nextTurn();
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  return process.memoryUsage();
}

const runtime = createRuntime({ name: 'idle-server', logger: createLogger('warn') });
const network = networkOf(runtime);
let accepted = 0;
let portReady!: (port: number) => void;
const port = new Promise<number>((resolve) => (portReady = resolve));
runtime.spawn(async function server(self: Self) {
  listen(self, { host: '127.0.0.1', port: 0 });
  portReady((await self.receive(Listening)).listening.port);
  for (;;) {
    // Abandoned and Closed come at the end, when the clients go.
    if (Accepted.is(await self.receive(Any))) accepted++;
  }
});
const listeningPort = await port;
const before = await memory();

const child = spawn(
  process.execPath,
  ['--import', 'tsx', fileURLToPath(new URL('./idle-clients.ts', import.meta.url))],
  {
    env: {
      ...process.env,
      HERALD_IDLE_CONNECTIONS: String(COUNT),
      HERALD_IDLE_PORT: String(listeningPort),
    },
    stdio: ['pipe', 'pipe', 'inherit'],
  },
);
const started = Date.now();
const clientLine = await new Promise<string>((resolve, reject) => {
  let out = '';
  child.stdout.on('data', (chunk: Buffer) => {
    out += chunk.toString();
    const line = /connected \d+ failed \d+/.exec(out);
    if (line !== null) resolve(line[0]);
  });
  child.once('exit', (code) => reject(new Error(`idle clients exited with ${code}`)));
});
while (accepted < COUNT && Date.now() - started < 120_000) await nextTurn();
const connectMs = Date.now() - started;
const after = await memory();

let topHolders: { name: string; count: number; selfBytes: number }[] | undefined;
if (process.env.HERALD_IDLE_SNAPSHOT !== undefined) {
  const file = writeHeapSnapshot();
  topHolders = summarize(file);
  rmSync(file);
}

const per = (key: 'rss' | 'heapUsed' | 'external' | 'arrayBuffers'): number =>
  Math.round((after[key] - before[key]) / Math.max(1, accepted));
const report = {
  connections: accepted,
  client: clientLine,
  proxies: network.proxies.size,
  rssPerConnection: per('rss'),
  heapPerConnection: per('heapUsed'),
  externalPerConnection: per('external'),
  arrayBuffersPerConnection: per('arrayBuffers'),
  aimBytes: AIM_BYTES,
  withinAim: per('rss') <= AIM_BYTES,
  rssBefore: before.rss,
  rssAfter: after.rss,
  connectMs,
  ...(topHolders === undefined ? {} : { topHolders }),
};
process.stdout.write(`${JSON.stringify(report)}\n`);
child.stdin.end();
await new Promise((resolve) => child.once('exit', resolve));
await runtime.close({ timeoutMs: 5_000 });
process.exit(0);

/** Self size by kind and constructor over a heap snapshot: the top kinds and classes. */
function summarize(file: string): { name: string; count: number; selfBytes: number }[] {
  const snapshot = JSON.parse(readFileSync(file, 'utf8')) as {
    snapshot: { meta: { node_fields: string[]; node_types: [string[]] } };
    nodes: number[];
    strings: string[];
  };
  const fields = snapshot.snapshot.meta.node_fields;
  const width = fields.length;
  const typeAt = fields.indexOf('type');
  const nameAt = fields.indexOf('name');
  const sizeAt = fields.indexOf('self_size');
  const types = snapshot.snapshot.meta.node_types[0];
  const byName = new Map<string, { count: number; selfBytes: number }>();
  for (let i = 0; i < snapshot.nodes.length; i += width) {
    const type = types[snapshot.nodes[i + typeAt] as number] ?? '?';
    const name =
      type === 'object' || type === 'closure'
        ? `${type}:${snapshot.strings[snapshot.nodes[i + nameAt] as number] ?? '?'}`
        : type;
    const entry = byName.get(name) ?? { count: 0, selfBytes: 0 };
    entry.count++;
    entry.selfBytes += snapshot.nodes[i + sizeAt] as number;
    byName.set(name, entry);
  }
  const all = [...byName.entries()]
    .map(([name, e]) => ({ name, ...e }))
    .sort((a, b) => b.selfBytes - a.selfBytes);
  // The largest kinds overall, then the largest named constructors (which classes hold it).
  return [...all.slice(0, 15), ...all.filter((e) => /^object:[A-Z]/.test(e.name)).slice(0, 25)];
}
