/**
 * Network benchmark: actor to actor across two processes on 127.0.0.1, beside a raw-socket
 * baseline measured in the same run against the same peer process.
 *
 *   node --import tsx bench/net.ts
 *
 * Process A (this one) runs the senders; process B (bench/net/peer.ts, spawned here) runs
 * the receivers. Payloads are 100 bytes (bench/net/protocol.ts has the exact layouts).
 *
 * - one-way throughput: a function actor in A sends n Payloads to B's actor through
 *   connect()/listen(), with at most WINDOW unacknowledged (B acks every K), so the
 *   outbound buffer stays bounded (no Congested, no dead letters). The rate is measured by
 *   the receiver: messages / (last Payload - Begin) on B's clock. Plain and encrypted.
 * - round trip: one Request outstanding; p50 and p99 over ROUND_TRIPS after a warm-up.
 * - baseline: net.createServer / net.connect with setNoDelay, length-prefixed frames
 *   batched per event-loop turn (one socket.write per setImmediate), same protocol.
 *
 * - other systems in the same run (bench/net/peers.ts), same 100-byte messages: NATS
 *   (nats.js through a nats-server started here on 127.0.0.1) and zeromq.js (PUSH/PULL,
 *   REQ/REP). Each throughput and latency figure is printed with its ratio to the raw
 *   socket and to NATS. A peer that cannot be loaded or started is skipped with a note.
 *
 * Environment: NET_BENCH_ONLY=raw,nats,zeromq,plain,encrypted,rtt runs a subset;
 * NET_BENCH_CIPHER=tweetnacl (default) or sodium-native picks the encrypted case's cipher
 * suite on both ends (bench/net/cipher-suite.ts says why it is handed in);
 * NET_BENCH_CPU_PROF=<dir> starts the peer with `--cpu-prof --cpu-prof-dir=<dir>`.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { connect as tcpConnect, type Socket } from 'node:net';
import { fileURLToPath, pathToFileURL } from 'node:url';
import {
  Abandoned,
  close,
  Closed,
  Congested,
  connect,
  Connected,
  Drained,
  NotConnected,
} from '@herald/net';
import { createRuntime, type Address, type Self } from '@herald/runtime';
import pino from 'pino';
import nacl from 'tweetnacl';
import { benchCipherName, benchCipherSuite } from './net/cipher-suite.js';
import {
  Ack,
  BatchedWriter,
  Begin,
  benchMessages,
  encodedBodyBytes,
  PAYLOAD_DATA,
  REQUEST_DATA,
  Done,
  FrameReader,
  Payload,
  PAYLOAD_BYTES,
  RAW_ACK,
  RAW_BEGIN,
  RAW_DATA,
  RAW_DONE,
  RAW_REQUEST,
  RAW_RESPONSE,
  rawFrame,
  Request,
  Response,
} from './net/protocol.js';
import type { PeerPorts } from './net/peer.js';
import {
  natsClient,
  startNatsServer,
  zeromqOneWay,
  zeromqRoundTrips,
  type NatsServer,
  type PeerDone,
} from './net/peers.js';
import { formatResults, type BenchResult } from './result.js';

/** The receiver acks every K messages. */
const K = 1000;
/**
 * Most messages unacknowledged at once: 8,000 x (100 B body + 24 B the proxy counts per
 * frame) = 992,000 B, just under the default 1 MiB high water, so no Congested.
 */
const WINDOW = 8 * K;
/** Warm-up run of each throughput case; its rate sizes the measured run. */
const WARMUP_MESSAGES = 200_000;
/** Target length of one measured throughput run. */
const MEASURE_S = 2.5;
const MAX_MESSAGES = 10_000_000;
const WARMUP_ROUND_TRIPS = 3_000;
const ROUND_TRIPS = 20_000;

const PEER_SCRIPT = fileURLToPath(new URL('./net/peer.ts', import.meta.url));

interface Throughput {
  /** Messages per second on the receiver's clock. */
  readonly rate: number;
  /** Bytes the receiver read per message (frames, headers, encryption). */
  readonly bytesPerMessage: number;
  /** CPU µs the receiving process spent per message (robust on a shared, loaded machine). */
  readonly cpuUs: number;
}

interface Latency {
  readonly p50: number;
  readonly p99: number;
}

function measuredCount(warmRate: number): number {
  const n = Math.round((warmRate * MEASURE_S) / K) * K;
  return Math.min(MAX_MESSAGES, Math.max(WARMUP_MESSAGES, n));
}

function percentiles(samplesMs: number[]): Latency {
  const s = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => (s[Math.min(s.length - 1, Math.floor(q * s.length))] ?? 0) * 1000;
  return { p50: at(0.5), p99: at(0.99) };
}

// ---- the peer process ------------------------------------------------------------------

async function spawnPeer(natsPort: number): Promise<{ child: ChildProcess; ports: PeerPorts }> {
  const profDir = process.env['NET_BENCH_CPU_PROF'];
  const execArgv = [
    ...(profDir === undefined ? [] : ['--cpu-prof', `--cpu-prof-dir=${profDir}`]),
    '--import',
    'tsx',
  ];
  const child = fork(PEER_SCRIPT, [], {
    execPath: process.execPath,
    execArgv,
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, NET_BENCH_NATS_PORT: String(natsPort) },
  });
  const ports = await new Promise<PeerPorts>((resolve, reject) => {
    child.once('message', (m: { type: 'ports'; ports: PeerPorts }) => resolve(m.ports));
    child.once('exit', (code) => reject(new Error(`peer exited early (${code})`)));
  });
  return { child, ports };
}

async function stopPeer(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.disconnect();
  const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
  await exited;
  clearTimeout(timer);
}

/** The next run-complete report of `peer` from the peer process. */
function peerDone(child: ChildProcess, peer: PeerDone['peer']): Promise<PeerDone> {
  return new Promise((resolve) => {
    const on = (m: { type: string }) => {
      if (m.type !== 'peer-done' || (m as PeerDone).peer !== peer) return;
      child.off('message', on);
      resolve(m as PeerDone);
    };
    child.on('message', on);
  });
}

// ---- raw socket baseline ---------------------------------------------------------------

class RawClient {
  readonly #socket: Socket;
  readonly #out: BatchedWriter;
  #onAck: (count: number) => void = () => {};
  #onDone: (count: number, ms: number, bytes: number, cpuMs: number) => void = () => {};
  #onResponse: () => void = () => {};

  private constructor(socket: Socket) {
    this.#socket = socket;
    this.#out = new BatchedWriter(socket);
    const reader = new FrameReader((kind, buf, at) => {
      switch (kind) {
        case RAW_ACK:
          this.#onAck(buf.readUInt32BE(at));
          return;
        case RAW_DONE:
          this.#onDone(
            buf.readUInt32BE(at),
            buf.readDoubleBE(at + 4),
            buf.readDoubleBE(at + 12),
            buf.readDoubleBE(at + 20),
          );
          return;
        case RAW_RESPONSE:
          this.#onResponse();
          return;
      }
    });
    socket.on('data', (chunk: Buffer) => reader.push(chunk));
  }

  static async open(port: number): Promise<RawClient> {
    const socket = tcpConnect({ host: '127.0.0.1', port, noDelay: true });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    return new RawClient(socket);
  }

  throughput(n: number): Promise<Throughput> {
    const data = rawFrame(RAW_DATA, new Uint8Array(PAYLOAD_BYTES).fill(0x61));
    const begin = Buffer.alloc(8);
    begin.writeUInt32BE(n, 0);
    begin.writeUInt32BE(K, 4);
    return new Promise((resolve) => {
      let sent = 0;
      let acked = 0;
      const pump = () => {
        while (sent < n && sent - acked < WINDOW) {
          for (let i = 0; i < K; i++) this.#out.write(data);
          sent += K;
        }
      };
      this.#onAck = (count) => {
        acked = count;
        pump();
      };
      this.#onDone = (count, ms, bytes, cpuMs) =>
        resolve({
          rate: count / (ms / 1000),
          bytesPerMessage: bytes / count,
          cpuUs: (cpuMs * 1000) / count,
        });
      this.#out.write(rawFrame(RAW_BEGIN, begin));
      pump();
    });
  }

  roundTrips(count: number): Promise<number[]> {
    const request = rawFrame(RAW_REQUEST, new Uint8Array(PAYLOAD_BYTES).fill(0x61));
    const samples: number[] = [];
    return new Promise((resolve) => {
      let t0 = 0;
      this.#onResponse = () => {
        samples.push(performance.now() - t0);
        if (samples.length === count) return resolve(samples);
        t0 = performance.now();
        this.#out.write(request);
      };
      t0 = performance.now();
      this.#out.write(request);
    });
  }

  close(): void {
    this.#socket.end();
  }
}

// ---- Herald ----------------------------------------------------------------------------

interface HeraldRun {
  warm: Throughput;
  measured: Throughput;
  latency?: Latency;
  congestion: number;
  refused: number;
}

async function heraldThroughput(
  self: Self,
  remote: Address,
  n: number,
  tally: { congestion: number; refused: number },
): Promise<Throughput> {
  const payload = Payload({ data: PAYLOAD_DATA });
  self.send(remote, Begin({ n, k: K }));
  let sent = 0;
  let acked = 0;
  for (;;) {
    while (sent < n && sent - acked < WINDOW) {
      for (let i = 0; i < K; i++) if (!self.send(remote, payload)) tally.refused++;
      sent += K;
    }
    const m = await self.receive(Ack, Done, Congested, Drained);
    if (Ack.is(m)) acked = m.count;
    else if (Done.is(m))
      return {
        rate: m.count / (m.ms / 1000),
        bytesPerMessage: m.bytes / m.count,
        cpuUs: (m.cpuMs * 1000) / m.count,
      };
    else tally.congestion++;
  }
}

async function heraldRoundTrips(self: Self, remote: Address, count: number): Promise<number[]> {
  const request = Request({ data: REQUEST_DATA });
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const t0 = performance.now();
    self.send(remote, request);
    await self.receive(Response);
    samples.push(performance.now() - t0);
  }
  return samples;
}

async function heraldCase(
  port: number,
  encrypted: boolean,
  phases: { throughput: boolean; rtt: boolean },
): Promise<HeraldRun> {
  const cipherSuite = await benchCipherSuite();
  const runtime = createRuntime({ logger: pino({ level: 'silent' }), messages: benchMessages });
  const run = (await runtime.run(async (self: Self): Promise<HeraldRun> => {
    connect(
      self,
      { host: '127.0.0.1', port },
      {
        encrypted,
        messages: benchMessages,
        cipherSuite,
      },
    );
    const c = await self.receive(Connected, NotConnected);
    if (!Connected.is(c)) throw new Error(`cannot connect: ${c.reason}`);
    const tally = { congestion: 0, refused: 0 };
    let warm: Throughput = { rate: 0, bytesPerMessage: 0, cpuUs: 0 };
    let measured = warm;
    if (phases.throughput) {
      warm = await heraldThroughput(self, c.remote, WARMUP_MESSAGES, tally);
      measured = await heraldThroughput(self, c.remote, measuredCount(warm.rate), tally);
    }
    let latency: Latency | undefined;
    if (phases.rtt) {
      await heraldRoundTrips(self, c.remote, WARMUP_ROUND_TRIPS);
      latency = percentiles(await heraldRoundTrips(self, c.remote, ROUND_TRIPS));
    }
    close(self, c.remote);
    await self.receive(Closed, Abandoned);
    return { warm, measured, ...(latency === undefined ? {} : { latency }), ...tally };
  })) as HeraldRun;
  if (run.congestion > 0 || run.refused > 0) {
    process.stderr.write(
      `net bench: ${run.congestion} Congested/Drained, ${run.refused} refused sends\n`,
    );
  }
  const dead = runtime.deadLetterCount;
  await runtime.close({ timeoutMs: 1000 });
  if (dead > 0) throw new Error(`${dead} dead letters in the sending process`);
  return run;
}

// ---- the encryption ceiling -----------------------------------------------------------

/**
 * tweetnacl secretbox on 64 KiB records (what FrameWriter seals per batch), in this
 * process: bytes per second for seal alone and for open alone. One side of an encrypted
 * connection can carry at most the slower of the two, divided by the wire bytes per message.
 */
function naclBytesPerSecond(): number {
  const key = nacl.randomBytes(nacl.secretbox.keyLength);
  const nonce = new Uint8Array(nacl.secretbox.nonceLength);
  const plain = new Uint8Array(64 * 1024);
  const sealed = nacl.secretbox(plain, nonce, key);
  const time = (op: () => unknown): number => {
    for (let i = 0; i < 20; i++) op();
    let n = 0;
    const start = performance.now();
    let now = start;
    while (now - start < 300) {
      op();
      n++;
      now = performance.now();
    }
    return (n * plain.length) / ((now - start) / 1000);
  };
  return Math.min(
    time(() => nacl.secretbox(plain, nonce, key)),
    time(() => nacl.secretbox.open(sealed, nonce, key)),
  );
}

// ---- the benchmark ---------------------------------------------------------------------

function selected(): Set<string> {
  const only = process.env['NET_BENCH_ONLY'];
  return new Set((only ?? 'raw,nats,zeromq,plain,encrypted,rtt').split(',').map((s) => s.trim()));
}

/** What a figure is, so ratios to the raw socket and NATS can be attached after the run. */
type Figure = 'rate' | 'cpu' | 'p50' | 'p99';

/** Warm-up of the other systems' one-way runs (they are slower; this keeps them short). */
const PEER_WARMUP_MESSAGES = 50_000;

export async function runNetBench(): Promise<{ results: BenchResult[]; notes: string[] }> {
  for (const m of [Payload({ data: PAYLOAD_DATA }), Request({ data: REQUEST_DATA })]) {
    const bytes = encodedBodyBytes(m);
    if (bytes !== PAYLOAD_BYTES) throw new Error(`${m.type} body is ${bytes} bytes`);
  }
  const want = selected();
  const notes: string[] = [];
  let natsServer: NatsServer | undefined;
  if (want.has('nats')) {
    const started = await startNatsServer();
    if (typeof started === 'string') notes.push(`NATS skipped: ${started}`);
    else natsServer = started;
  }
  const { child, ports } = await spawnPeer(natsServer?.port ?? 0);
  for (const why of ports.skipped) notes.push(`skipped: ${why}`);
  const results: Array<BenchResult & { figure?: Figure }> = [];
  const latencyRows = (label: string, l: Latency, aimP50?: string, aimP99?: string) => {
    results.push(
      {
        name: `${label} round trip p50`,
        value: l.p50,
        unit: 'µs',
        better: 'lower',
        figure: 'p50',
        ...(aimP50 === undefined ? {} : { aim: aimP50 }),
      },
      {
        name: `${label} round trip p99`,
        value: l.p99,
        unit: 'µs',
        better: 'lower',
        figure: 'p99',
        ...(aimP99 === undefined ? {} : { aim: aimP99 }),
      },
    );
  };
  /** Receiver CPU per message: what load from other processes does not change. */
  const cpuRow = (label: string, us: number) =>
    results.push({
      name: `  ${label} receiver CPU per message`,
      value: us,
      unit: 'µs',
      better: 'lower',
      figure: 'cpu',
    });
  try {
    if (want.has('raw')) {
      const raw = await RawClient.open(ports.raw);
      const warm = await raw.throughput(WARMUP_MESSAGES);
      const t = await raw.throughput(measuredCount(warm.rate));
      await raw.roundTrips(WARMUP_ROUND_TRIPS);
      const latency = percentiles(await raw.roundTrips(ROUND_TRIPS));
      raw.close();
      results.push({
        name: `raw socket one-way (${t.bytesPerMessage.toFixed(0)} B/msg on the wire)`,
        value: t.rate,
        unit: 'msg/s',
        figure: 'rate',
      });
      cpuRow('raw socket', t.cpuUs);
      latencyRows('raw socket', latency);
    }

    if (natsServer !== undefined && ports.nats) {
      const nc = await natsClient(natsServer.port);
      const warm = await nc.oneWay(PEER_WARMUP_MESSAGES, K, WINDOW, peerDone(child, 'nats'));
      const t = await nc.oneWay(measuredCount(warm.rate), K, WINDOW, peerDone(child, 'nats'));
      await nc.roundTrips(WARMUP_ROUND_TRIPS);
      const latency = percentiles(await nc.roundTrips(ROUND_TRIPS));
      await nc.close();
      results.push({
        name: `NATS ${natsServer.version} one-way through the broker (nats.js)`,
        value: t.rate,
        unit: 'msg/s',
        figure: 'rate',
      });
      cpuRow('NATS subscriber', t.cpuUs);
      latencyRows('NATS request/reply', latency);
    } else if (natsServer !== undefined) {
      notes.push('NATS skipped: the peer process could not subscribe');
    }

    if (want.has('zeromq') && ports.zeromq !== undefined) {
      const warm = await zeromqOneWay(
        ports.zeromq.pull,
        PEER_WARMUP_MESSAGES,
        peerDone(child, 'zeromq'),
      );
      const t = await zeromqOneWay(
        ports.zeromq.pull,
        measuredCount(warm.rate),
        peerDone(child, 'zeromq'),
      );
      const [, samples] = await zeromqRoundTrips(ports.zeromq.reply, [
        WARMUP_ROUND_TRIPS,
        ROUND_TRIPS,
      ]);
      results.push({
        name: 'zeromq.js PUSH/PULL one-way',
        value: t.rate,
        unit: 'msg/s',
        figure: 'rate',
      });
      cpuRow('zeromq.js PULL', t.cpuUs);
      latencyRows('zeromq.js REQ/REP', percentiles(samples ?? []));
    }

    const plainPhases = { throughput: want.has('plain'), rtt: want.has('rtt') };
    if (plainPhases.throughput || plainPhases.rtt) {
      const plain = await heraldCase(ports.plain, false, plainPhases);
      if (plainPhases.throughput) {
        results.push({
          name: `herald one-way, plain (${plain.measured.bytesPerMessage.toFixed(0)} B/msg on the wire)`,
          value: plain.measured.rate,
          unit: 'msg/s',
          figure: 'rate',
          aim: '>= 1M msg/s and >= 1.5x NATS',
        });
        cpuRow('herald plain', plain.measured.cpuUs);
      }
      if (plain.latency !== undefined) {
        latencyRows('herald plain', plain.latency, '<= 1.3x raw socket', '<= 2x raw socket');
      }
    }
    if (want.has('encrypted')) {
      const enc = await heraldCase(ports.encrypted, true, {
        throughput: true,
        rtt: want.has('rtt'),
      });
      const cipher = benchCipherName();
      const ceiling = naclBytesPerSecond() / enc.measured.bytesPerMessage;
      results.push({
        name: 'tweetnacl ceiling (64 KiB seal or open, one core)',
        value: ceiling,
        unit: 'msg/s',
      });
      results.push({
        name: `herald one-way, encrypted, ${cipher} (${enc.measured.bytesPerMessage.toFixed(0)} B/msg on the wire)`,
        value: enc.measured.rate,
        unit: 'msg/s',
        figure: 'rate',
        aim: cipher === 'tweetnacl' ? '>= 600k msg/s (tweetnacl)' : '>= 1M msg/s (sodium-native)',
      });
      cpuRow('herald encrypted', enc.measured.cpuUs);
      if (enc.latency !== undefined) latencyRows('herald encrypted', enc.latency);
    }
  } finally {
    await stopPeer(child);
    await natsServer?.stop();
  }
  return { results: withRatios(results), notes };
}

/**
 * Attaches to every throughput and latency figure its ratio to the raw socket's and to
 * NATS's figure of the same kind from this run.
 */
function withRatios(results: ReadonlyArray<BenchResult & { figure?: Figure }>): BenchResult[] {
  const base = (prefix: string, figure: Figure) =>
    results.find((r) => r.figure === figure && r.name.trimStart().startsWith(prefix))?.value;
  const out: BenchResult[] = results.map(({ figure, ...r }) => {
    if (figure === undefined) return r;
    const name = r.name.trimStart();
    const raw = name.startsWith('raw socket') ? undefined : base('raw socket', figure);
    const nats = name.startsWith('NATS') ? undefined : base('NATS', figure);
    const also = nats === undefined ? [] : [{ baseline: 'NATS', ratio: r.value / nats }];
    return {
      ...r,
      ...(raw === undefined ? {} : { baseline: 'raw socket', ratio: r.value / raw }),
      ...(also.length === 0 ? {} : { also }),
    };
  });
  return out;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  const started = performance.now();
  const { results, notes } = await runNetBench();
  console.log(
    formatResults(
      `net (two processes on 127.0.0.1, ${PAYLOAD_BYTES} B bodies, ${((performance.now() - started) / 1000).toFixed(1)} s)`,
      results,
    ),
  );
  for (const note of notes) console.log(`  NOTE ${note}`);
}
