/**
 * Connection-scale benchmark: N connections (default 10,000) on 127.0.0.1 to one server
 * process. Stops by itself (about 30–60 s for 10,000).
 *
 *   node --import tsx bench/connections.ts
 *   CONN_BENCH_N=2000 CONN_BENCH_SECONDS=5 node --import tsx bench/connections.ts
 *   CONN_BENCH_ENCRYPTED=1 ...           # encrypted connections (anonymous handshake)
 *   CONN_BENCH_CPU_PROF=<dir> ...        # the server processes run with --cpu-prof
 *
 * The server (bench/connections/server.ts, forked with --expose-gc) measures its own
 * memory after GC: with no connections, with N idle raw `net` sockets (the baseline: a
 * socket that reads and holds nothing), and with N idle Herald connections (handshake
 * done, nothing sent). Per connection = (RSS with N − RSS with none) / N, and the same for
 * the V8 heap. Then every Herald connection sends one `scale.Request` per second, spread
 * evenly over the second, for CONN_BENCH_SECONDS (default 10); the server's default target
 * answers each; this process records every round trip (p50, p99, max) after a warm-up
 * second. The clients run in this process (one Herald runtime, one actor holding every
 * connection), so this measures both processes sharing the machine's cores.
 *
 * File descriptors: each process needs N + FD_MARGIN. Node raises its soft `ulimit -n` to
 * the hard limit by itself; when that is still too low, N is reduced and a NOTE says so
 * (raise the hard limit, e.g. `ulimit -n 20000` as root, to run the full 10,000).
 */
import { execFileSync, fork, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { close, connect, Connected, NotConnected } from '@herald/net';
import { defineMessage } from '@herald/codec';
import {
  createRuntime,
  withOptions,
  type Address,
  type AnyMessage,
  type Handler,
  type Self,
} from '@herald/runtime';
import pino from 'pino';
import { ScaleRequest, ScaleResponse, scaleMessages } from './connections/protocol.js';
import type { ServerMemory } from './connections/server.js';
import { formatResults, type BenchResult } from './result.js';

const DEFAULT_CONNECTIONS = 10_000;
const DEFAULT_LOAD_SECONDS = 10;
/** File descriptors each process needs besides one per connection. */
const FD_MARGIN = 512;
/** Connections being opened at once (below the listen backlog, 511). */
const OPEN_CONCURRENCY = 256;
/** How often the client actor is woken to send the requests that are due. */
const TICK_MS = 5;
/** Round trips in the first second of load are not counted (connections warming up). */
const WARMUP_MS = 1000;
/** Each connection sends one request per this many ms. */
const REQUEST_INTERVAL_MS = 1000;
/** The round-trip aim of issue 11. */
const AIM_P99_MS = 5;
/** The idle-connection aim of issue 11. */
const AIM_BYTES_PER_CONNECTION = 16 * 1024;

const SERVER_SCRIPT = fileURLToPath(new URL('./connections/server.ts', import.meta.url));

const Tick = defineMessage('scale.Tick', {});

function fileLimits(): { soft: number; hard: number } {
  const read = (flag: string) => {
    const out = execFileSync('sh', ['-c', `ulimit ${flag}`], { encoding: 'utf8' }).trim();
    return out === 'unlimited' ? Number.MAX_SAFE_INTEGER : Number(out);
  };
  return { soft: read('-Sn'), hard: read('-Hn') };
}

/**
 * The connection count each process can hold. Node raises its own soft `ulimit -n` to the
 * hard limit at start-up (and the forked server inherits it), so the hard limit is what
 * counts: when it is too low, N is reduced and a NOTE says so.
 */
function connectionCount(requested: number, notes: string[]): number {
  const { soft, hard } = fileLimits();
  if (soft >= requested + FD_MARGIN) return requested;
  const n = Math.max(1, Math.min(hard, soft) - FD_MARGIN);
  notes.push(`ulimit -n is ${soft} (hard ${hard}): ${n} connections instead of ${requested}`);
  return n;
}

// ---- the server process -----------------------------------------------------------------

interface Server {
  readonly child: ChildProcess;
  readonly raw: number;
  readonly herald: number;
  measure(): Promise<ServerMemory>;
}

async function startServer(): Promise<Server> {
  const profDir = process.env['CONN_BENCH_CPU_PROF'];
  const child = fork(SERVER_SCRIPT, [], {
    execPath: process.execPath,
    execArgv: [
      '--expose-gc',
      ...(profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]),
      '--import',
      'tsx',
    ],
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ports = await new Promise<{ raw: number; herald: number }>((resolve, reject) => {
    child.once('message', (m: { raw: number; herald: number }) => resolve(m));
    child.once('exit', (code) => reject(new Error(`server exited early (${code})`)));
  });
  const measure = () =>
    new Promise<ServerMemory>((resolve) => {
      const on = (m: { type: string }) => {
        if (m.type !== 'memory') return;
        child.off('message', on);
        resolve(m as ServerMemory);
      };
      child.on('message', on);
      child.send({ type: 'measure' });
    });
  return { child, ...ports, measure };
}

async function stopServer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

// ---- raw baseline ----------------------------------------------------------------------

async function openRaw(port: number, n: number): Promise<Socket[]> {
  const sockets: Socket[] = [];
  let next = 0;
  const one = async (): Promise<void> => {
    while (next < n) {
      next++;
      const s = tcpConnect({ host: '127.0.0.1', port });
      await new Promise<void>((resolve, reject) => {
        s.once('connect', resolve);
        s.once('error', reject);
      });
      sockets.push(s);
    }
  };
  await Promise.all(Array.from({ length: OPEN_CONCURRENCY }, one));
  return sockets;
}

// ---- Herald clients --------------------------------------------------------------------

/** Holds every client connection, opens them, and sends and times the requests. */
class Clients implements Handler {
  readonly name = 'scale-clients';
  readonly remotes: Address[] = [];
  failed = 0;
  #opening = 0;
  readonly #sentAt: Float64Array;
  /** Round trips in ms, once counting. */
  readonly samples: number[] = [];
  /** Requests due while the previous one on that connection was still unanswered. */
  overdue = 0;
  #loadStart = 0;
  #loadEnd = 0;
  #sent = 0;
  #onOpen: () => void = () => {};

  constructor(
    readonly n: number,
    readonly port: number,
  ) {
    this.#sentAt = new Float64Array(n);
  }

  /** Resolves when all N connections are open (or failed). */
  readonly opened = new Promise<void>((resolve) => (this.#onOpen = resolve));

  start(self: Self): void {
    for (let i = 0; i < Math.min(OPEN_CONCURRENCY, this.n); i++) this.#openOne(self);
  }

  #openOne(self: Self): void {
    this.#opening++;
    connect(
      self,
      { host: '127.0.0.1', port: this.port },
      {
        messages: scaleMessages,
        encrypted: process.env['CONN_BENCH_ENCRYPTED'] === '1',
      },
    );
  }

  /** Starts sending: each connection once per REQUEST_INTERVAL_MS, for `ms`. */
  load(ms: number): void {
    this.#loadStart = performance.now();
    this.#loadEnd = this.#loadStart + ms;
    this.#sent = 0;
  }

  get loadDone(): boolean {
    return performance.now() >= this.#loadEnd;
  }

  receive(self: Self, message: AnyMessage): void {
    if (ScaleResponse.is(message)) {
      const now = performance.now();
      const t0 = this.#sentAt[message.id] ?? 0;
      if (t0 > 0 && t0 - this.#loadStart >= WARMUP_MS) this.samples.push(now - t0);
      this.#sentAt[message.id] = 0;
    } else if (Tick.is(message)) {
      this.#tick(self);
    } else if (Connected.is(message) || NotConnected.is(message)) {
      this.#opening--;
      if (Connected.is(message)) this.remotes.push(message.remote);
      else this.failed++;
      const done = this.remotes.length + this.failed;
      if (done + this.#opening < this.n) this.#openOne(self);
      if (done === this.n) this.#onOpen();
    }
    // Closed / Abandoned at the end.
  }

  /** Sends every request that is due by now, round-robin over the connections. */
  #tick(self: Self): void {
    const now = performance.now();
    if (this.#loadStart === 0 || now >= this.#loadEnd) return;
    const count = this.remotes.length;
    const due = Math.floor(((now - this.#loadStart) * count) / REQUEST_INTERVAL_MS);
    while (this.#sent < due) {
      const id = this.#sent % count;
      this.#sent++;
      const remote = this.remotes[id];
      if (remote === undefined) continue;
      if ((this.#sentAt[id] ?? 0) > 0) {
        this.overdue++;
        continue;
      }
      this.#sentAt[id] = performance.now();
      self.send(remote, ScaleRequest({ id }));
    }
  }

  closeAll(self: Self): void {
    for (const remote of this.remotes) close(self, remote);
  }
}

function percentile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
}

async function runConnectionBench(
  n: number,
  seconds: number,
  notes: string[],
): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  // The raw baseline in a server process of its own, so memory the raw sockets leave
  // behind (V8 and malloc keep freed pages) is not counted against (or for) Herald.
  const rawServer = await startServer();
  let rawPerConnection: number;
  let rawHeapPerConnection: number;
  try {
    const empty = await rawServer.measure();
    const rawSockets = await openRaw(rawServer.raw, n);
    let withRaw = await rawServer.measure();
    while (withRaw.raw < n) withRaw = await rawServer.measure();
    rawPerConnection = (withRaw.rss - empty.rss) / n;
    rawHeapPerConnection = (withRaw.heapUsed - empty.heapUsed) / n;
    for (const s of rawSockets) s.destroy();
  } finally {
    await stopServer(rawServer.child);
  }

  const server = await startServer();
  const runtime = createRuntime({
    logger: pino({ level: 'silent' }),
    messages: [...scaleMessages, Tick],
  });
  try {
    const afterRaw = await server.measure();
    const empty = afterRaw;
    const clients = new Clients(n, server.herald);
    const clientsAddress = runtime.spawn(withOptions(clients, { capacity: 1 << 16 }));
    const openStart = performance.now();
    await clients.opened;
    const openMs = performance.now() - openStart;
    if (clients.failed > 0)
      notes.push(`${clients.failed} of ${n} Herald connections failed to open`);
    const open = clients.remotes.length;
    let idle = await server.measure();
    while (idle.herald < open) idle = await server.measure();
    const heraldPerConnection = (idle.rss - afterRaw.rss) / open;
    const heapPerConnection = (idle.heapUsed - afterRaw.heapUsed) / open;

    results.push(
      { name: `server RSS, no connections`, value: empty.rss / 1024 / 1024, unit: 'MiB' },
      {
        name: `RSS per idle raw socket (${n.toLocaleString('en-US')})`,
        value: rawPerConnection,
        unit: 'bytes',
        better: 'lower',
      },
      {
        name: `RSS per idle Herald connection (${open.toLocaleString('en-US')})`,
        value: heraldPerConnection,
        unit: 'bytes',
        better: 'lower',
        ...(rawPerConnection > 0
          ? { baseline: 'raw socket', ratio: heraldPerConnection / rawPerConnection }
          : {}),
        aim: `<= ${AIM_BYTES_PER_CONNECTION / 1024} KiB`,
      },
      {
        name: 'V8 heap per idle raw socket',
        value: rawHeapPerConnection,
        unit: 'bytes',
        better: 'lower',
      },
      {
        name: 'V8 heap per idle Herald connection',
        value: heapPerConnection,
        unit: 'bytes',
        better: 'lower',
        baseline: 'raw socket',
        ratio: heapPerConnection / rawHeapPerConnection,
      },
      { name: 'connections opened per second', value: open / (openMs / 1000), unit: 'conn/s' },
    );

    // Load: every connection one request per second.
    const ticker = setInterval(() => runtime.send(clientsAddress, Tick()), TICK_MS);
    clients.load(seconds * 1000);
    await new Promise<void>((resolve) => {
      const check = setInterval(() => {
        if (!clients.loadDone) return;
        clearInterval(check);
        resolve();
      }, 100);
    });
    clearInterval(ticker);
    // Let the last answers come back (bounded).
    await new Promise((resolve) => setTimeout(resolve, 500));
    const sorted = clients.samples.sort((a, b) => a - b);
    const loaded = await server.measure();
    results.push(
      {
        name: `round trips measured (${open.toLocaleString('en-US')} conn x 1/s, ${seconds - WARMUP_MS / 1000} s)`,
        value: sorted.length,
        unit: '',
      },
      {
        name: 'round trip p50 under load',
        value: percentile(sorted, 0.5),
        unit: 'ms',
        better: 'lower',
      },
      {
        name: 'round trip p99 under load',
        value: percentile(sorted, 0.99),
        unit: 'ms',
        better: 'lower',
        aim: `<= ${AIM_P99_MS} ms`,
      },
      { name: 'round trip max under load', value: sorted.at(-1) ?? 0, unit: 'ms', better: 'lower' },
      {
        name: 'server RSS per connection after the load',
        value: (loaded.rss - afterRaw.rss) / open,
        unit: 'bytes',
        better: 'lower',
      },
    );
    if (clients.overdue > 0) {
      notes.push(`${clients.overdue} requests were due before the previous answer came back`);
    }
    const closer = runtime.spawn(async (self: Self) => clients.closeAll(self));
    await runtime.completion(closer);
  } finally {
    await stopServer(server.child);
    await runtime.close({ timeoutMs: 5_000 });
  }
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const notes: string[] = [];
  const requested = Number(process.env['CONN_BENCH_N'] ?? DEFAULT_CONNECTIONS);
  const seconds = Number(process.env['CONN_BENCH_SECONDS'] ?? DEFAULT_LOAD_SECONDS);
  const n = connectionCount(requested, notes);
  const started = performance.now();
  const results = await runConnectionBench(n, seconds, notes);
  console.log(
    formatResults(
      `connections (one server process, clients in another, 127.0.0.1, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
      results,
    ),
  );
  for (const note of notes) console.log(`  NOTE ${note}`);
  // Thousands of closing sockets: do not wait for the last FINs.
  process.exit(process.exitCode ?? 0);
}
