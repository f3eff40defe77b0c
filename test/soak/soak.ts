/**
 * Fuzz and soak harness for hostile peers (issue 8), run in a child process:
 *
 *   node --expose-gc --import tsx test/soak/soak.ts
 *   HERALD_SOAK_FRAMES=1000000 node --expose-gc --import tsx test/soak/soak.ts   # local, long
 *   HERALD_SEED=<n> ...                                                           # replay a seed
 *
 * One Herald server runtime listens on 127.0.0.1; hostile clients in this same process
 * (hand-made wire clients on real sockets) go through every class of issue 8: new type
 * names relayed to another client, 33-hop return stacks, watches with ever-new return
 * stacks, one-byte CHUNK parts and many partial messages, PING floods from a peer that
 * never reads, a Herald client flooding the controller, unknown-type frames, slowloris
 * trickles, codec attacks (uint64 in `type`, cyclic and DAG values in JSON), bare connects,
 * then mutated frames and mutated handshakes, seeded (`propertySeeds()`: the fixed CI list
 * under CI, one random printed seed locally, HERALD_SEED to replay).
 *
 * A warm-up round runs first; the heap is measured after GC; every class runs once at full
 * size, then the fuzz for each seed; every
 * server-side connection is awaited gone; the heap and RSS are measured again after GC.
 * Asserts: the server still serves, no proxy, socket or reassembly byte is left, heap growth
 * and RSS within limits. Prints one JSON line of figures; exits 1 with the line and the
 * reason when an assertion fails.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { createCodec, defineMessage, t, type Catalogue } from '@herald/codec';
import {
  Any,
  Watch,
  createLogger,
  createRuntime,
  type LogDestination,
  type Self,
} from '@herald/runtime';
import { Connected, Listening, connect, listen } from '@herald/net';
import { networkOf } from '@herald/net/internal';
import {
  ByteWriter,
  CHUNK_FLAG_FIRST,
  CHUNK_FLAG_LAST,
  FrameKind,
  PUBLIC_KEY_BYTES,
  TypeTableEncoder,
  encodeHelloBody,
  encodeMessage,
  encodePreamble,
  writeFrame,
} from '@herald/net/wire';
import { propertySeeds } from '@herald/testing';
import { EMPTY_MAP, rawSocket, socketClosed, wireClient, type WireClient } from './wire-client.js';

// ---- parameters ---------------------------------------------------------------------------

/** Mutated frames plus mutated handshakes the main rounds write (split over the seeds). */
const FRAMES = Number(process.env.HERALD_SOAK_FRAMES ?? 20_000);
/** Frames written per fuzz connection before it is checked with an Echo. */
const FRAMES_PER_CONNECTION = 200;
/** One mutated handshake per this many mutated frames. */
const FRAMES_PER_HANDSHAKE = 50;
/**
 * Share of a fuzz connection's frames that are mutated. Most mutations keep the framing
 * (a flipped or random byte inside the body, a body cut or extended with its length fixed)
 * and reach the header, type-table and codec checks; the server decodes a connection's
 * frames up to the first mutation that breaks the protocol, then closes it.
 */
const MUTATION_RATE = 0.25;
/** Fuzz connections at once. */
const CONCURRENCY = 4;
/** Heap the main rounds may leave behind after GC (bytes). */
const MAX_HEAP_GROWTH = Number(process.env.HERALD_SOAK_MAX_HEAP_GROWTH ?? 16 * 1024 * 1024);
/** RSS after GC at the end (bytes). */
const MAX_RSS = Number(process.env.HERALD_SOAK_MAX_RSS ?? 512 * 1024 * 1024);
/** Heap 20 watch-flooding connections (24,000 Watch messages) may leave after GC (bytes). */
const MAX_WATCH_HEAP_GROWTH = 2 * 1024 * 1024;
let watchHeapGrowth = 0;
/** Warn-or-worse log lines the unknown-type class may cause. */
const MAX_AMPLIFIED_LINES = 50;

const exposedGc = (globalThis as { gc?: () => void }).gc;
if (exposedGc === undefined) throw new Error('run with node --expose-gc');
const gc: () => void = exposedGc;

// ---- the server ---------------------------------------------------------------------------

const Echo = defineMessage('soak.Echo', { n: t.int() });
const EchoReply = defineMessage('soak.EchoReply', { n: t.int() });
const Introduce = defineMessage('soak.Introduce', {});
const Peer = defineMessage('soak.Peer', { peer: t.address() });
const Graph = defineMessage('soak.Graph', { v: t.json() }, { graph: true });
const Tree = defineMessage('soak.Tree', { v: t.json() });
const messages = [Echo, EchoReply, Introduce, Peer, Graph, Tree];

/** Log lines are counted, never kept: a soak must not grow the heap by logging into it. */
const log = { lines: 0, warn: 0, bytes: 0 };
const destination: LogDestination = {
  format: 'json',
  droppedLines: 0,
  bufferedBytes: 0,
  write(line: string): void {
    log.lines++;
    log.bytes += line.length;
    const level = /"level":(\d+)/.exec(line)?.[1];
    if (level !== undefined && Number(level) >= 40) log.warn++;
    if (process.env.HERALD_SOAK_DEBUG !== undefined) process.stderr.write(line);
  },
  flush(callback) {
    callback?.();
  },
  close() {},
};
const server = createRuntime({
  name: 'soak-server',
  logger: createLogger('info', { destination }),
  messages,
});
const network = networkOf(server);
const catalogue: Catalogue = server.catalogue;
let listeningPort!: (port: number) => void;
const portReady = new Promise<number>((resolve) => (listeningPort = resolve));
server.spawn(async function controller(self: Self) {
  listen(
    self,
    { port: 0 },
    { handshakeTimeoutMs: 500, keepaliveIdleMs: 300, keepaliveTimeoutMs: 2_000 },
  );
  listeningPort((await self.receive(Listening)).listening.port);
  let lastEcho = self.address;
  for (;;) {
    const m = await self.receive(Any);
    if (Echo.is(m)) {
      lastEcho = self.returnAddress;
      self.reply(EchoReply({ n: m.n }));
    } else if (Introduce.is(m)) {
      self.reply(Peer({ peer: lastEcho }));
    }
  }
});
const port = await portReady;

// A Herald client that stays connected: the victim of relays, and the liveness check.
const victim = createRuntime({
  name: 'soak-victim',
  logger: createLogger('silent'),
  messages,
});
let victimRemote!: (a: Connected) => void;
const victimConnected = new Promise<Connected>((resolve) => (victimRemote = resolve));
let echoes = 0;
const victimClient = victim.spawn(async function victimClient(self: Self) {
  connect(self, { host: '127.0.0.1', port }, { keepaliveIdleMs: 100, keepaliveTimeoutMs: 2_000 });
  const c = await self.receive(Connected);
  self.send(c.remote, Echo({ n: 0 }));
  await self.receive(EchoReply);
  victimRemote(c);
  for (;;) {
    const m = await self.receive(Any);
    if (EchoReply.is(m)) echoes++;
  }
});
const victimConnection = await victimConnected;

/** The victim still gets its answer: the server serves. */
async function stillServing(n: number): Promise<void> {
  const before = echoes;
  victim.send(victimConnection.remote, Echo({ n }), victimClient);
  await waitUntil(() => echoes > before, 5_000, `the victim's echo ${n}`);
}

// ---- helpers ------------------------------------------------------------------------------

async function waitUntil(check: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!check()) {
    if (Date.now() > deadline)
      throw new Error(`soak: timed out after ${ms} ms waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** xorshift32: deterministic per seed, so a failing run replays. */
function rng(seed: number): () => number {
  let x = seed >>> 0 || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 0x1_0000_0000;
  };
}

function frame(kind: number, body: Uint8Array): Uint8Array {
  const w = new ByteWriter(body.length + 8);
  writeFrame(w, kind, body);
  return w.take();
}

function u32(v: number): number[] {
  return [v >>> 24, (v >>> 16) & 0xff, (v >>> 8) & 0xff, v & 0xff];
}

const codec = createCodec({ catalogue });
const counts = {
  connections: 0,
  mutatedFrames: 0,
  mutatedHandshakes: 0,
  framesWritten: 0,
  closeReasons: {} as Record<string, number>,
  stillOpenAfterBatch: 0,
};

function closed(c: WireClient): void {
  const reason = c.closeReason ?? 'no-close-frame';
  counts.closeReasons[reason] = (counts.closeReasons[reason] ?? 0) + 1;
}

async function attacker(options: { answerPings?: boolean } = {}): Promise<WireClient> {
  counts.connections++;
  return wireClient(port, catalogue, options);
}

// ---- the classes of issue 8 -----------------------------------------------------------------

async function relayedTypeNames(names: number): Promise<void> {
  // Two attacker connections (each has its own 4,096-name table toward us).
  const perAttacker = Math.ceil(names / 2);
  for (let a = 0; a < 2; a++) {
    const c = await attacker();
    c.sendMessage(Introduce({}));
    await c.until(() => c.lastSpace(Peer.type) !== undefined, 5_000, 'an introduction');
    const to = c.lastSpace(Peer.type)?.[0] ?? [];
    for (let i = 0; i < perAttacker; i++) c.send({ typeName: `r${a}.T${i}`, to });
    c.sendMessage(Echo({ n: 1 }));
    await c.until(() => (c.received.get(EchoReply.type) ?? 0) > 0 || c.ended, 10_000, 'echo');
    c.destroy();
    await c.closed(1_000);
  }
}

async function zombieReturnStacks(): Promise<void> {
  const c = await attacker();
  c.sendMessage(Introduce({}));
  await c.until(() => c.lastSpace(Peer.type) !== undefined, 5_000, 'an introduction');
  const to = c.lastSpace(Peer.type)?.[0] ?? [];
  const ret = Array.from({ length: 32 }, (_, i) => 100 + i);
  for (let i = 0; i < 10; i++) c.sendMessage(Echo({ n: i }), to, ret);
  c.sendMessage(Echo({ n: 99 }));
  await c.until(() => (c.received.get(EchoReply.type) ?? 0) > 0 || c.ended, 5_000, 'echo');
  c.destroy();
  await c.closed(1_000);
}

async function watchLeak(connections: number): Promise<void> {
  for (let k = 0; k < connections; k++) {
    const c = await attacker();
    for (let i = 0; i < 1_200; i++) c.sendMessage(Watch(), [], [10_000 + k * 2_000 + i]);
    await c.closed(5_000);
    if (c.closeReason !== 'policy-violation')
      throw new Error(`watch flood: closed with ${c.closeReason ?? 'nothing'}`);
    closed(c);
  }
}

function chunkFrames(
  id: number,
  parts: number,
  size: number,
  last: boolean,
  table = new TypeTableEncoder(),
): Uint8Array[] {
  const header = encodeMessage(
    { bodyMode: 0, to: [], ret: [5], typeName: Echo.type, space: [], body: new Uint8Array(0) },
    table,
  );
  const out = [frame(FrameKind.CHUNK, Uint8Array.from([...u32(id), CHUNK_FLAG_FIRST, ...header]))];
  const data = new Uint8Array(size).fill(0x5a);
  for (let i = 0; i < parts; i++) {
    const flags = last && i === parts - 1 ? CHUNK_FLAG_LAST : 0;
    out.push(frame(FrameKind.CHUNK, Uint8Array.from([...u32(id), flags, ...data])));
  }
  return out;
}

async function reassembly(): Promise<void> {
  // One-byte parts, then the peer goes away in the middle.
  const a = await attacker();
  a.write(Buffer.concat(chunkFrames(1, 50_000, 1, false)));
  await waitUntil(() => network.reassembly.usedBytes >= 50_000 || a.ended, 5_000, 'parts held');
  if (network.reassembly.usedBytes > 2 * 50_000 + 4_096)
    throw new Error(`one-byte parts hold ${network.reassembly.usedBytes} bytes`);
  a.destroy();
  await a.closed(1_000);
  // Four connections, 16 partial messages each: the per-process budget holds them all.
  const many: WireClient[] = [];
  for (let k = 0; k < 4; k++) {
    const c = await attacker();
    many.push(c);
    const frames: Uint8Array[] = [];
    const table = new TypeTableEncoder();
    for (let id = 0; id < 16; id++) frames.push(...chunkFrames(id, 4, 16_000, false, table));
    c.write(Buffer.concat(frames));
  }
  await waitUntil(
    () => network.reassembly.usedBytes >= 4 * 16 * 64_000 || many.some((c) => c.ended),
    5_000,
    'partials held',
  );
  if (many.some((c) => c.ended)) throw new Error('a connection with 16 partials was closed');
  if (network.reassembly.usedBytes > network.reassembly.maxBytes)
    throw new Error('reassembly budget exceeded');
  for (const c of many) c.destroy();
  for (const c of many) await c.closed(1_000);
  await waitUntil(() => network.reassembly.usedBytes === 0, 5_000, 'the budget to be released');
}

async function pingFlood(): Promise<void> {
  const c = await attacker({ answerPings: false });
  c.socket.pause();
  const count = 100_000;
  const pings = Buffer.alloc(count * 9);
  for (let i = 0; i < count; i++)
    pings.set(frame(FrameKind.PING, Uint8Array.from(u32(i + 1))), i * 9);
  c.write(pings);
  const stream = [...network.streams].at(-1) as unknown as {
    bytesRead: number;
    bytesWritten: number;
  };
  await waitUntil(() => stream.bytesRead >= pings.length || c.ended, 10_000, 'the PINGs read');
  if (stream.bytesWritten > 256 * 1024)
    throw new Error(`PING flood: ${stream.bytesWritten} bytes written back`);
  c.destroy();
  await c.closed(1_000);
}

async function controllerFlood(): Promise<void> {
  const flood = createRuntime({ name: 'soak-flood', logger: createLogger('silent'), messages });
  let got = 0;
  const done = flood.run(async function flooder(self: Self) {
    connect(self, { host: '127.0.0.1', port });
    const c = await self.receive(Connected);
    for (let i = 0; i < 5_000; i++) self.send(c.remote, Echo({ n: i }));
    while (got < 5_000) {
      await self.receive(EchoReply);
      got++;
    }
  });
  await stillServing(-1);
  await Promise.race([
    done,
    new Promise((_, reject) =>
      setTimeout(() => reject(new Error(`flood: ${got} of 5000 answers`)), 20_000),
    ),
  ]);
  await flood.close({ timeoutMs: 2_000 });
}

async function unknownTypes(): Promise<number> {
  const c = await attacker();
  const before = log.warn;
  for (let i = 0; i < 2_000; i++) c.send({ typeName: i % 2 === 0 ? 'u.Unknown' : `u.Unknown${i}` });
  c.sendMessage(Echo({ n: 2 }));
  await c.until(() => (c.received.get(EchoReply.type) ?? 0) > 0 || c.ended, 5_000, 'echo');
  const lines = log.warn - before;
  if (lines > MAX_AMPLIFIED_LINES) throw new Error(`unknown types: ${lines} warn lines`);
  c.destroy();
  await c.closed(1_000);
  return lines;
}

async function slowloris(connections: number): Promise<void> {
  const clients: WireClient[] = [];
  for (let k = 0; k < connections; k++) {
    const c = await attacker({ answerPings: false });
    c.write(Uint8Array.of(0, 0, 0x03, 0xe8));
    clients.push(c);
  }
  const timer = setInterval(() => {
    for (const c of clients) c.write(Uint8Array.of(FrameKind.MESSAGE));
  }, 50);
  try {
    for (const c of clients) {
      await c.closed(5_000);
      if (c.closeReason !== 'keepalive-timeout' && c.closeReason !== 'stalled')
        throw new Error(`slowloris: closed with ${c.closeReason ?? 'nothing'}`);
      closed(c);
    }
  } finally {
    clearInterval(timer);
  }
}

async function codecAttacks(): Promise<void> {
  const c = await attacker();
  c.send({
    typeName: Echo.type,
    body: Uint8Array.of(
      0x82,
      0xa4,
      0x74,
      0x79,
      0x70,
      0x65,
      0xcf,
      ...new Array<number>(8).fill(0xff),
      0xa1,
      0x6e,
      1,
    ),
  });
  const cyclic: Record<string, unknown> = { a: 1 };
  cyclic.self = cyclic;
  c.sendMessage(Graph({ v: cyclic as never }));
  let dag: unknown[] = [];
  for (let i = 0; i < 40; i++) dag = [dag, dag];
  c.sendMessage(Graph({ v: dag as never }));
  const graphBody = codec.encodeBody(Graph({ v: dag as never }));
  c.send({ typeName: Tree.type, body: graphBody.body, bodyMode: graphBody.flags });
  c.sendMessage(Echo({ n: 3 }));
  await c.until(() => (c.received.get(EchoReply.type) ?? 0) > 0 || c.ended, 5_000, 'echo');
  c.destroy();
  await c.closed(1_000);
}

async function bareConnects(n: number): Promise<void> {
  const sockets = [];
  for (let i = 0; i < n; i++) {
    counts.connections++;
    sockets.push(await rawSocket(port));
  }
  // Closed by the handshake deadline (500 ms here).
  await Promise.all(sockets.map((s) => socketClosed(s, 5_000)));
}

// ---- mutation -----------------------------------------------------------------------------

/** Valid frames a peer might send after the handshake, for one connection. */
function corpus(random: () => number, n: number): Uint8Array[] {
  const table = new TypeTableEncoder();
  const out: Uint8Array[] = [];
  const echo = codec.encodeBody(Echo({ n: 7 }));
  const tree = codec.encodeBody(Tree({ v: { a: [1, 'x', null], b: true } }));
  while (out.length < n) {
    const pick = random();
    if (pick < 0.45) {
      out.push(
        frame(
          FrameKind.MESSAGE,
          encodeMessage(
            {
              bodyMode: 0,
              to: [],
              ret: [5 + (out.length % 3)],
              typeName: Echo.type,
              space: [],
              body: echo.body,
            },
            table,
          ),
        ),
      );
    } else if (pick < 0.6) {
      out.push(
        frame(
          FrameKind.MESSAGE,
          encodeMessage(
            { bodyMode: 0, to: [], ret: [9], typeName: Tree.type, space: [], body: tree.body },
            table,
          ),
        ),
      );
    } else if (pick < 0.7) {
      out.push(
        frame(
          FrameKind.MESSAGE,
          encodeMessage(
            {
              bodyMode: 0,
              to: [],
              ret: [],
              typeName: `m.T${Math.floor(random() * 50)}`,
              space: [],
              body: EMPTY_MAP,
            },
            table,
          ),
        ),
      );
    } else if (pick < 0.85) {
      out.push(
        ...chunkFrames(
          out.length,
          1 + Math.floor(random() * 3),
          1 + Math.floor(random() * 40),
          random() < 0.5,
          table,
        ),
      );
    } else {
      out.push(
        frame(random() < 0.8 ? FrameKind.PING : FrameKind.PONG, Uint8Array.from(u32(out.length))),
      );
    }
  }
  return out.slice(0, n);
}

/** One mutation: mostly inside the body (framing intact), sometimes the length or kind. */
function mutate(bytes: Uint8Array, random: () => number): Uint8Array {
  const out = Uint8Array.from(bytes);
  const op = random();
  const body = Math.max(4, out.length - 4);
  const at = 4 + Math.floor(random() * (out.length - 4 || 1));
  if (op < 0.4) {
    out[at] = (out[at] ?? 0) ^ (1 << Math.floor(random() * 8));
  } else if (op < 0.6) {
    out[at] = Math.floor(random() * 256);
  } else if (op < 0.75) {
    // Truncate the body, fixing the length so framing stays intact.
    const keep = 1 + Math.floor(random() * body);
    const cut = out.slice(0, Math.min(out.length, 4 + keep));
    new DataView(cut.buffer).setUint32(0, cut.length - 4);
    return cut;
  } else if (op < 0.9) {
    // Extend with random bytes, fixing the length.
    const extra = Uint8Array.from({ length: 1 + Math.floor(random() * 32) }, () =>
      Math.floor(random() * 256),
    );
    const grown = new Uint8Array(out.length + extra.length);
    grown.set(out);
    grown.set(extra, out.length);
    new DataView(grown.buffer).setUint32(0, grown.length - 4);
    return grown;
  } else if (op < 0.95) {
    out[4] = Math.floor(random() * 256); // the kind
  } else {
    out[Math.floor(random() * 4)] = Math.floor(random() * 256); // the length
  }
  return out;
}

async function fuzzConnection(random: () => number, frames: number): Promise<void> {
  let c: WireClient;
  try {
    c = await attacker();
  } catch {
    return;
  }
  const batch = corpus(random, frames).map((f) => {
    if (random() < MUTATION_RATE) {
      counts.mutatedFrames++;
      return mutate(f, random);
    }
    return f;
  });
  counts.framesWritten += batch.length;
  c.write(Buffer.concat(batch));
  c.sendMessage(Echo({ n: 4 }));
  await c
    .until(() => (c.received.get(EchoReply.type) ?? 0) > 0 || c.ended, 2_000, 'echo or close')
    .catch(() => {});
  if (!c.ended) counts.stillOpenAfterBatch++;
  c.destroy();
  await c.closed(1_000);
  closed(c);
}

function opening(random: () => number): Uint8Array {
  const encrypt = random() < 0.5;
  const key = encrypt
    ? Uint8Array.from({ length: PUBLIC_KEY_BYTES }, () => Math.floor(random() * 256))
    : null;
  const hello = encodeHelloBody({
    encrypt,
    maxFrameBytes: 65_536,
    keepaliveMs: 1_000,
    ephemeralKey: key,
  });
  return Buffer.concat([encodePreamble(), frame(FrameKind.HELLO, hello)]);
}

async function fuzzHandshake(random: () => number): Promise<void> {
  counts.mutatedHandshakes++;
  counts.connections++;
  let bytes = opening(random);
  const flips = 1 + Math.floor(random() * 3);
  for (let i = 0; i < flips; i++) {
    const at = Math.floor(random() * bytes.length);
    bytes[at] =
      random() < 0.5
        ? (bytes[at] ?? 0) ^ (1 << Math.floor(random() * 8))
        : Math.floor(random() * 256);
  }
  if (random() < 0.2) bytes = bytes.subarray(0, Math.floor(random() * bytes.length));
  let socket;
  try {
    socket = await rawSocket(port);
  } catch {
    return;
  }
  socket.end(bytes);
  await socketClosed(socket, 3_000);
}

async function fuzz(seed: number, mutations: number): Promise<void> {
  const random = rng(seed);
  const target = counts.mutatedFrames + counts.mutatedHandshakes + mutations;
  const left = (): boolean => counts.mutatedFrames + counts.mutatedHandshakes < target;
  let handshakesOwed = 0;
  const worker = async (): Promise<void> => {
    while (left()) {
      const before = counts.mutatedFrames;
      await fuzzConnection(random, FRAMES_PER_CONNECTION);
      handshakesOwed += (counts.mutatedFrames - before) / FRAMES_PER_HANDSHAKE;
      while (handshakesOwed >= 1 && left()) {
        handshakesOwed--;
        await fuzzHandshake(random);
      }
    }
  };
  await Promise.all(Array.from({ length: CONCURRENCY }, worker));
}

// ---- the run ------------------------------------------------------------------------------

/** Every class of issue 8 once, at `scale` (1 = the sizes above). */
async function classes(scale: number): Promise<{ amplifiedLines: number }> {
  await relayedTypeNames(Math.round(5_000 * scale));
  await zombieReturnStacks();
  // Watches with ever-new return stacks (the leak kept ~318 B a message): the heap after
  // GC must come back once the peers are gone.
  const watchBefore = scale === 1 ? await heap() : undefined;
  await watchLeak(Math.max(1, Math.round(20 * scale)));
  if (watchBefore !== undefined) {
    await settled();
    watchHeapGrowth = (await heap()).heapUsed - watchBefore.heapUsed;
    if (watchHeapGrowth > MAX_WATCH_HEAP_GROWTH)
      throw new Error(`watch flood left ${watchHeapGrowth} bytes of heap`);
  }
  await reassembly();
  await pingFlood();
  await controllerFlood();
  const amplifiedLines = await unknownTypes();
  await slowloris(3);
  await codecAttacks();
  await bareConnects(Math.max(5, Math.round(50 * scale)));
  return { amplifiedLines };
}

async function settled(): Promise<void> {
  // Every server-side connection but the victim's has ended.
  await waitUntil(
    () => network.proxies.size === 1 && network.streams.size === 1,
    10_000,
    'every hostile connection to end',
  );
}

async function heap(): Promise<{ heapUsed: number; rss: number; arrayBuffers: number }> {
  for (let i = 0; i < 4; i++) {
    gc();
    await nextTurn();
  }
  const m = process.memoryUsage();
  return { heapUsed: m.heapUsed, rss: m.rss, arrayBuffers: m.arrayBuffers };
}

const seeds = propertySeeds();
process.stderr.write(`soak seeds ${seeds.join(',')} (replay with HERALD_SEED=<seed>)\n`);
const started = Date.now();
const failures: string[] = [];
let amplifiedLines = 0;
let before = { heapUsed: 0, rss: 0, arrayBuffers: 0 };
let after = before;
try {
  // Warm-up: every class and some fuzz, so lazy initialisation is not counted as growth.
  await classes(0.2);
  await fuzz(seeds[0] ?? 1, Math.min(1_000, FRAMES));
  await settled();
  await stillServing(1);
  before = await heap();
  amplifiedLines = (await classes(1)).amplifiedLines;
  const perSeed = Math.ceil(FRAMES / seeds.length);
  for (const seed of seeds) await fuzz(seed, perSeed);
  await settled();
  await stillServing(2);
  after = await heap();
  if (network.reassembly.usedBytes !== 0)
    failures.push(`${network.reassembly.usedBytes} reassembly bytes left`);
  if (after.heapUsed - before.heapUsed > MAX_HEAP_GROWTH)
    failures.push(`heap grew ${after.heapUsed - before.heapUsed} bytes (limit ${MAX_HEAP_GROWTH})`);
  if (after.rss > MAX_RSS) failures.push(`rss ${after.rss} bytes (limit ${MAX_RSS})`);
} catch (error) {
  failures.push(error instanceof Error ? error.message : String(error));
}
const report = {
  seeds,
  frames: FRAMES,
  ...counts,
  amplifiedLines,
  watchHeapGrowth,
  logLines: log.lines,
  warnLines: log.warn,
  heapBefore: before.heapUsed,
  heapAfter: after.heapUsed,
  heapGrowth: after.heapUsed - before.heapUsed,
  rssAfter: after.rss,
  arrayBuffersAfter: after.arrayBuffers,
  proxiesLeft: network.proxies.size - 1,
  ms: Date.now() - started,
  failures,
};
process.stdout.write(`${JSON.stringify(report)}\n`);
await victim.close({ timeoutMs: 2_000 });
await server.close({ timeoutMs: 2_000 });
process.exit(failures.length === 0 ? 0 : 1);
