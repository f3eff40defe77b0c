/**
 * Other messaging systems measured in the same run as Herald and the raw socket, with the
 * same 100-byte messages and the same two processes: zeromq.js (PUSH/PULL one-way,
 * REQ/REP round trip) and nats.js through a `nats-server` that the bench starts on
 * 127.0.0.1 with a free port.
 *
 * Both libraries are devDependencies of the bench and are loaded with a dynamic import, so
 * a missing or broken install (or no `nats-server` binary) skips that peer with a note
 * instead of failing the whole bench.
 *
 * One-way: the first message (kind RUN_BEGIN) carries n; the receiver in process B times
 * from it to the n-th data message on its own clock and reports over IPC. NATS is flow
 * controlled like Herald (B publishes an ack every K, A keeps at most WINDOW unacked, so
 * the server never cuts B as a slow consumer); zeromq's PUSH has its own high water mark
 * and `send()` waits for room.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer, connect as tcpConnect } from 'node:net';

/** Message size of every peer, the same as Herald's body and the raw socket's payload. */
export const PEER_MESSAGE_BYTES = 100;
/** First byte of a one-way message. */
export const RUN_BEGIN = 0;
export const RUN_DATA = 1;

export const NATS_DATA = 'bench.data';
export const NATS_ACK = 'bench.ack';
export const NATS_REQUEST = 'bench.request';

/** How long `nats-server` may take to accept connections before the peer is skipped. */
const NATS_START_TIMEOUT_MS = 10_000;

/** What process B reports over IPC when a one-way run ends. */
export interface PeerDone {
  readonly type: 'peer-done';
  readonly peer: 'zeromq' | 'nats';
  readonly count: number;
  readonly ms: number;
  /** CPU time of the receiving process meanwhile (for NATS: not the server's). */
  readonly cpuMs: number;
}

/** Ports (or endpoints) process B serves the peers on; a missing one is skipped. */
export interface PeerEndpoints {
  readonly zeromqPull?: string;
  readonly zeromqReply?: string;
  readonly skipped: readonly string[];
}

export function beginMessage(n: number): Buffer {
  const m = Buffer.alloc(PEER_MESSAGE_BYTES, 0x61);
  m[0] = RUN_BEGIN;
  m.writeUInt32BE(n, 1);
  return m;
}

export function dataMessage(): Buffer {
  const m = Buffer.alloc(PEER_MESSAGE_BYTES, 0x61);
  m[0] = RUN_DATA;
  return m;
}

/** A free TCP port on 127.0.0.1 (listen on 0, read it, close). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const address = server.address();
  await new Promise<void>((resolve) => server.close(() => resolve()));
  if (typeof address !== 'object' || address === null) throw new Error('no port');
  return address.port;
}

/** A running `nats-server` on 127.0.0.1. */
export interface NatsServer {
  readonly port: number;
  readonly version: string;
  stop(): Promise<void>;
}

/**
 * Starts `nats-server` (from PATH, or NATS_SERVER_BIN) on 127.0.0.1 with a free port and
 * waits until it accepts a connection. Resolves to a string saying why when it cannot.
 */
export async function startNatsServer(): Promise<NatsServer | string> {
  const bin = process.env['NATS_SERVER_BIN'] ?? 'nats-server';
  const port = await freePort();
  let child: ChildProcess;
  try {
    child = spawn(bin, ['-a', '127.0.0.1', '-p', String(port)], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
  } catch (e) {
    return `cannot start ${bin}: ${(e as Error).message}`;
  }
  let version = '';
  let log = '';
  child.stderr?.on('data', (chunk: Buffer) => {
    log += chunk.toString();
    const v = /Version:\s+(\S+)/.exec(log);
    if (v?.[1] !== undefined) version = v[1];
  });
  const failed = new Promise<string>((resolve) => {
    child.once('error', (e) => resolve(`cannot start ${bin}: ${e.message}`));
    child.once('exit', (code) => resolve(`${bin} exited with ${code}: ${log.trim().slice(-200)}`));
  });
  const ready = (async (): Promise<true | string> => {
    const deadline = performance.now() + NATS_START_TIMEOUT_MS;
    while (performance.now() < deadline) {
      const ok = await new Promise<boolean>((resolve) => {
        const s = tcpConnect({ host: '127.0.0.1', port }, () => {
          s.destroy();
          resolve(true);
        });
        s.once('error', () => resolve(false));
      });
      if (ok) return true;
      // Polling a port that is not open yet: nats-server prints no machine-readable ready line.
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    return `${bin} did not accept connections within ${NATS_START_TIMEOUT_MS} ms`;
  })();
  const outcome = await Promise.race([ready, failed]);
  const stop = async (): Promise<void> => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
    await exited;
    clearTimeout(timer);
  };
  if (outcome !== true) {
    await stop();
    return outcome;
  }
  return { port, version: version === '' ? 'unknown version' : version, stop };
}

// ---- process B: the receiving side ----------------------------------------------------

/** Times one one-way run on this side: from RUN_BEGIN to the n-th RUN_DATA. */
class RunTimer {
  n = 0;
  count = 0;
  start = 0;
  cpu: NodeJS.CpuUsage = process.cpuUsage();

  /** Returns the elapsed ms when the run is complete, else undefined. */
  take(m: Uint8Array): number | undefined {
    if (m[0] === RUN_BEGIN) {
      this.n = Buffer.from(m.buffer, m.byteOffset, m.byteLength).readUInt32BE(1);
      this.count = 0;
      this.start = performance.now();
      this.cpu = process.cpuUsage();
      return undefined;
    }
    return ++this.count === this.n ? performance.now() - this.start : undefined;
  }

  /** CPU ms of this process since RUN_BEGIN. */
  cpuMs(): number {
    const u = process.cpuUsage(this.cpu);
    return (u.user + u.system) / 1000;
  }
}

/**
 * Serves zeromq PULL and REP on 127.0.0.1 (ports chosen by zeromq). Resolves to the
 * endpoints, or to why it cannot.
 */
export async function serveZeromq(
  report: (done: PeerDone) => void,
): Promise<{ pull: string; reply: string } | string> {
  let zmq: typeof import('zeromq');
  try {
    zmq = await import('zeromq');
  } catch (e) {
    return `zeromq cannot be loaded: ${(e as Error).message.split('\n')[0] ?? ''}`;
  }
  const pull = new zmq.Pull();
  const reply = new zmq.Reply();
  await pull.bind('tcp://127.0.0.1:*');
  await reply.bind('tcp://127.0.0.1:*');
  const timer = new RunTimer();
  void (async () => {
    for await (const [m] of pull) {
      if (m === undefined) continue;
      const ms = timer.take(m);
      if (ms !== undefined)
        report({ type: 'peer-done', peer: 'zeromq', count: timer.n, ms, cpuMs: timer.cpuMs() });
    }
  })();
  const response = Buffer.alloc(PEER_MESSAGE_BYTES, 0x62);
  void (async () => {
    for await (const _ of reply) await reply.send(response);
  })();
  return { pull: pull.lastEndpoint ?? '', reply: reply.lastEndpoint ?? '' };
}

/** Subscribes on the NATS server: counts and acks bench.data, answers bench.request. */
export async function serveNats(
  port: number,
  k: number,
  report: (done: PeerDone) => void,
): Promise<(() => Promise<void>) | string> {
  let nats: typeof import('nats');
  try {
    nats = await import('nats');
  } catch (e) {
    return `nats cannot be loaded: ${(e as Error).message.split('\n')[0] ?? ''}`;
  }
  const nc = await nats.connect({ servers: `127.0.0.1:${port}` });
  const timer = new RunTimer();
  const ack = Buffer.alloc(4);
  nc.subscribe(NATS_DATA, {
    callback: (_err, msg) => {
      const ms = timer.take(msg.data);
      if (timer.count > 0 && timer.count % k === 0) {
        ack.writeUInt32BE(timer.count, 0);
        nc.publish(NATS_ACK, ack);
      }
      if (ms !== undefined)
        report({ type: 'peer-done', peer: 'nats', count: timer.n, ms, cpuMs: timer.cpuMs() });
    },
  });
  const response = Buffer.alloc(PEER_MESSAGE_BYTES, 0x62);
  nc.subscribe(NATS_REQUEST, { callback: (_err, msg) => msg.respond(response) });
  await nc.flush();
  return () => nc.close();
}

// ---- process A: the sending side ------------------------------------------------------

export interface PeerThroughput {
  /** Messages per second on the receiver's clock. */
  readonly rate: number;
  /** Receiver CPU µs per message. */
  readonly cpuUs: number;
}

/** zeromq PUSH: n messages, awaiting each `send` (zeromq.js allows one send at a time). */
export async function zeromqOneWay(
  endpoint: string,
  n: number,
  done: Promise<PeerDone>,
): Promise<PeerThroughput> {
  const zmq = await import('zeromq');
  const push = new zmq.Push({ linger: 0 });
  push.connect(endpoint);
  const data = dataMessage();
  await push.send(beginMessage(n));
  for (let i = 0; i < n; i++) await push.send(data);
  const d = await done;
  push.close();
  return { rate: d.count / (d.ms / 1000), cpuUs: (d.cpuMs * 1000) / d.count };
}

/** zeromq REQ/REP: one request outstanding; durations in ms. */
export async function zeromqRoundTrips(endpoint: string, counts: readonly number[]) {
  const zmq = await import('zeromq');
  const req = new zmq.Request({ linger: 0 });
  req.connect(endpoint);
  const request = dataMessage();
  const runs: number[][] = [];
  for (const count of counts) {
    const samples: number[] = [];
    for (let i = 0; i < count; i++) {
      const t0 = performance.now();
      await req.send(request);
      await req.receive();
      samples.push(performance.now() - t0);
    }
    runs.push(samples);
  }
  req.close();
  return runs;
}

/** A nats.js connection in process A. */
export async function natsClient(port: number) {
  const nats = await import('nats');
  const nc = await nats.connect({ servers: `127.0.0.1:${port}` });
  let onAck: (count: number) => void = () => {};
  nc.subscribe(NATS_ACK, {
    callback: (_err, msg) =>
      onAck(Buffer.from(msg.data.buffer, msg.data.byteOffset, 4).readUInt32BE(0)),
  });
  await nc.flush();
  return {
    /** n messages with at most `window` unacknowledged (the receiver acks every k). */
    async oneWay(n: number, k: number, window: number, done: Promise<PeerDone>) {
      const data = dataMessage();
      let sent = 0;
      let acked = 0;
      const pump = () => {
        while (sent < n && sent - acked < window) {
          for (let i = 0; i < k && sent < n; i++, sent++) nc.publish(NATS_DATA, data);
        }
      };
      onAck = (count) => {
        acked = count;
        pump();
      };
      nc.publish(NATS_DATA, beginMessage(n));
      pump();
      const d = await done;
      return { rate: d.count / (d.ms / 1000), cpuUs: (d.cpuMs * 1000) / d.count };
    },
    /** `nc.request`, one outstanding; durations in ms. */
    async roundTrips(count: number): Promise<number[]> {
      const request = dataMessage();
      const samples: number[] = [];
      for (let i = 0; i < count; i++) {
        const t0 = performance.now();
        await nc.request(NATS_REQUEST, request, { timeout: 5_000 });
        samples.push(performance.now() - t0);
      }
      return samples;
    },
    close: () => nc.close(),
  };
}
