/**
 * Process B of the network benchmark, spawned by bench/net.ts with an IPC channel:
 *
 *   node --import tsx bench/net/peer.ts
 *
 * Listens on 127.0.0.1 (port 0) three times: Herald plain, Herald encrypted, and a raw
 * `net` server for the baseline; serves the other systems (bench/net/peers.ts: zeromq PULL
 * and REP, and a NATS subscriber when NET_BENCH_NATS_PORT names a running nats-server),
 * then sends the ports to the parent over IPC. On each:
 * counts Payloads (acking every k, Done after n, timed on this side) and answers every
 * Request with a Response. Exits when the parent disconnects (so `--cpu-prof` profiles
 * are written), or after PEER_MAX_LIFE_MS if it is forgotten.
 */
import { createServer, type Socket } from 'node:net';
import { listen, Listening } from '@herald/net';
import { networkOf } from '@herald/net/internal';
import type { CipherSuite } from '@herald/net/wire';
import {
  createRuntime,
  withOptions,
  type AnyMessage,
  type Envelope,
  type Handler,
  type Self,
} from '@herald/runtime';
import pino from 'pino';
import {
  Ack,
  BatchedWriter,
  Begin,
  cpuMsSince,
  benchMessages,
  RESPONSE_DATA,
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
  RAW_HEADER_BYTES,
  rawFrame,
  Request,
  Response,
} from './protocol.js';
import { serveNats, serveZeromq, type PeerDone } from './peers.js';
import { benchCipherSuite } from './cipher-suite.js';

/** A forgotten peer exits after this long. */
const PEER_MAX_LIFE_MS = 180_000;
/** The sink's mailbox: one socket read can deliver many messages before it runs. */
const SINK_CAPACITY = 1 << 17;

export interface PeerPorts {
  readonly plain: number;
  readonly encrypted: number;
  readonly raw: number;
  /** zeromq endpoints, when zeromq could be loaded. */
  readonly zeromq?: { readonly pull: string; readonly reply: string };
  /** A NATS subscriber is up on the port the parent gave. */
  readonly nats: boolean;
  /** Why a peer is not served, one line each. */
  readonly skipped: readonly string[];
}

/** The receiver acks every NATS_ACK_EVERY NATS messages (bench/net.ts uses the same K). */
const NATS_ACK_EVERY = 1000;

/** Counting and answering state for one throughput run. */
class Counter {
  n = 0;
  k = 1;
  count = 0;
  start = 0;
  cpuAtStart: NodeJS.CpuUsage = process.cpuUsage();
  bytesAtStart = 0;

  begin(n: number, k: number, bytesRead: number): void {
    this.n = n;
    this.k = k;
    this.count = 0;
    this.start = performance.now();
    this.cpuAtStart = process.cpuUsage();
    this.bytesAtStart = bytesRead;
  }
}

function heraldBytesRead(self: Self): number {
  let bytes = 0;
  for (const stream of networkOf(self.runtime).streams) bytes += (stream as Socket).bytesRead;
  return bytes;
}

/** The Herald side: the controller of both listeners and the default target of every connection. */
class Sink implements Handler {
  readonly name = 'bench-sink';
  readonly #counter = new Counter();
  readonly #ports: { plain?: number; encrypted?: number } = {};
  readonly #response = Response({ data: RESPONSE_DATA });

  constructor(
    readonly onListening: (ports: { plain: number; encrypted: number }) => void,
    /** The encrypted listener's suite (NET_BENCH_CIPHER, bench/net/cipher-suite.ts). */
    readonly cipherSuite: CipherSuite,
  ) {}

  start(self: Self): void {
    listen(self, { host: '127.0.0.1', port: 0 }, { messages: benchMessages });
    listen(
      self,
      { host: '127.0.0.1', port: 0 },
      {
        messages: benchMessages,
        encrypted: true,
        cipherSuite: this.cipherSuite,
      },
    );
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    const c = this.#counter;
    switch (message.type) {
      case Payload.type:
        if (++c.count % c.k === 0) self.reply(Ack({ count: c.count }));
        if (c.count === c.n) {
          self.reply(
            Done({
              count: c.count,
              ms: performance.now() - c.start,
              cpuMs: cpuMsSince(c.cpuAtStart),
              bytes: heraldBytesRead(self) - c.bytesAtStart,
            }),
          );
        }
        return;
      case Request.type:
        self.reply(this.#response);
        return;
      case Begin.type: {
        const b = message as ReturnType<typeof Begin>;
        c.begin(b.n, b.k, heraldBytesRead(self));
        return;
      }
      case Listening.type: {
        const l = message as Listening;
        this.#ports[l.encrypted ? 'encrypted' : 'plain'] = l.listening.port;
        const { plain, encrypted } = this.#ports;
        if (plain !== undefined && encrypted !== undefined) this.onListening({ plain, encrypted });
        return;
      }
      default:
        // Accepted, Closed, Abandoned: connection life, nothing to do.
        void envelope;
    }
  }
}

/** The baseline: the same protocol over a plain socket. */
function serveRaw(socket: Socket): void {
  socket.setNoDelay(true);
  const out = new BatchedWriter(socket);
  const counter = new Counter();
  const response = rawFrame(RAW_RESPONSE, new Uint8Array(PAYLOAD_BYTES).fill(0x61));
  const reader = new FrameReader((kind, buf, at) => {
    switch (kind) {
      case RAW_DATA:
        if (++counter.count % counter.k === 0) {
          const ack = Buffer.allocUnsafe(RAW_HEADER_BYTES + 4);
          ack.writeUInt32BE(5, 0);
          ack[4] = RAW_ACK;
          ack.writeUInt32BE(counter.count, 5);
          out.write(ack);
        }
        if (counter.count === counter.n) {
          const done = Buffer.allocUnsafe(RAW_HEADER_BYTES + 28);
          done.writeUInt32BE(29, 0);
          done[4] = RAW_DONE;
          done.writeUInt32BE(counter.count, 5);
          done.writeDoubleBE(performance.now() - counter.start, 9);
          done.writeDoubleBE(socket.bytesRead - counter.bytesAtStart, 17);
          done.writeDoubleBE(cpuMsSince(counter.cpuAtStart), 25);
          out.write(done);
        }
        return;
      case RAW_REQUEST:
        out.write(response);
        return;
      case RAW_BEGIN:
        counter.begin(buf.readUInt32BE(at), buf.readUInt32BE(at + 4), socket.bytesRead);
        return;
    }
  });
  socket.on('data', (chunk: Buffer) => reader.push(chunk));
  socket.on('error', () => socket.destroy());
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined) throw new Error('bench/net/peer.ts runs under bench/net.ts (IPC)');
  setTimeout(() => process.exit(3), PEER_MAX_LIFE_MS).unref();

  const cipherSuite = await benchCipherSuite();
  const raw = createServer({ noDelay: true }, serveRaw);
  await new Promise<void>((resolve) => raw.listen({ host: '127.0.0.1', port: 0 }, resolve));
  const rawAddress = raw.address();
  const rawPort = typeof rawAddress === 'object' && rawAddress !== null ? rawAddress.port : 0;

  const runtime = createRuntime({ logger: pino({ level: 'silent' }), messages: benchMessages });
  const herald = await new Promise<{ plain: number; encrypted: number }>((resolve) => {
    runtime.spawn(withOptions(new Sink(resolve, cipherSuite), { capacity: SINK_CAPACITY }));
  });
  const report = (done: PeerDone) => send(done);
  const skipped: string[] = [];
  const zeromq = await serveZeromq(report);
  if (typeof zeromq === 'string') skipped.push(zeromq);
  let closeNats: (() => Promise<void>) | undefined;
  const natsPort = Number(process.env['NET_BENCH_NATS_PORT'] ?? '0');
  if (natsPort > 0) {
    const nats = await serveNats(natsPort, NATS_ACK_EVERY, report).catch(
      (e: Error) => `nats subscriber: ${e.message}`,
    );
    if (typeof nats === 'string') skipped.push(nats);
    else closeNats = nats;
  }
  const ports: PeerPorts = {
    ...herald,
    raw: rawPort,
    ...(typeof zeromq === 'string' ? {} : { zeromq }),
    nats: closeNats !== undefined,
    skipped,
  };
  send({ type: 'ports', ports });

  process.on('disconnect', () => {
    if (runtime.deadLetterCount > 0) {
      process.stderr.write(`peer: ${runtime.deadLetterCount} dead letters\n`);
    }
    raw.close();
    void closeNats?.();
    void runtime.close({ timeoutMs: 1000 }).finally(() => process.exit(0));
  });
}

await main();
