/**
 * The server process of the connection-scale benchmark, forked by bench/connections.ts with
 * an IPC channel and --expose-gc:
 *
 *   node --expose-gc --import tsx bench/connections/server.ts
 *
 * Listens on 127.0.0.1 port 0 twice: a raw `net` server (the baseline: a socket that reads
 * and holds nothing) and Herald (default options, no connection cap; `encrypted` when
 * CONN_BENCH_ENCRYPTED=1). Its default target answers every `scale.Request` with a
 * `scale.Response` carrying the same id. On `{ type: 'measure' }` over IPC it collects
 * garbage until the heap stops shrinking and answers with its memory and connection counts.
 * Exits when the parent disconnects, or after SERVER_MAX_LIFE_MS if forgotten.
 */
import { createServer, type Socket } from 'node:net';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { Accepted, listen, Listening } from '@herald/net';
import {
  createRuntime,
  withOptions,
  type AnyMessage,
  type Handler,
  type Self,
} from '@herald/runtime';
import pino from 'pino';
import { ScaleRequest, ScaleResponse, scaleMessages } from './protocol.js';

/** A forgotten server exits after this long. */
const SERVER_MAX_LIFE_MS = 15 * 60_000;
/** The responder's mailbox: a burst of requests from many connections can arrive in one turn. */
const RESPONDER_CAPACITY = 1 << 16;

export interface ServerMemory {
  readonly type: 'memory';
  readonly rss: number;
  readonly heapUsed: number;
  readonly external: number;
  readonly herald: number;
  readonly raw: number;
}

const exposedGc = (globalThis as { gc?: () => void }).gc;
if (exposedGc === undefined) throw new Error('run with node --expose-gc');
const gc: () => void = exposedGc;

/** Memory after GC: collect, let finalizers and freed sockets run, until heapUsed settles. */
async function settledMemory(): Promise<NodeJS.MemoryUsage> {
  let last = Infinity;
  for (let i = 0; i < 10; i++) {
    gc();
    await nextTurn();
    const used = process.memoryUsage().heapUsed;
    if (Math.abs(last - used) < 64 * 1024) break;
    last = used;
  }
  await new Promise((resolve) => setTimeout(resolve, 200));
  gc();
  return process.memoryUsage();
}

let heraldConnections = 0;
const rawSockets = new Set<Socket>();

class Responder implements Handler {
  readonly name = 'scale-responder';
  constructor(readonly onListening: (port: number) => void) {}

  start(self: Self): void {
    listen(
      self,
      { host: '127.0.0.1', port: 0 },
      { messages: scaleMessages, encrypted: process.env['CONN_BENCH_ENCRYPTED'] === '1' },
    );
  }

  receive(self: Self, message: AnyMessage): void {
    if (ScaleRequest.is(message)) {
      self.reply(ScaleResponse({ id: message.id }));
    } else if (Accepted.is(message)) {
      heraldConnections++;
    } else if (Listening.is(message)) {
      this.onListening(message.listening.port);
    }
    // Closed / Abandoned: the client going away at the end.
  }
}

async function main(): Promise<void> {
  const send = process.send?.bind(process);
  if (send === undefined)
    throw new Error('bench/connections/server.ts runs under bench/connections.ts');
  setTimeout(() => process.exit(3), SERVER_MAX_LIFE_MS).unref();

  const raw = createServer((socket) => {
    rawSockets.add(socket);
    socket.on('error', () => socket.destroy());
    socket.on('close', () => rawSockets.delete(socket));
    socket.resume();
  });
  raw.maxConnections = Infinity;
  await new Promise<void>((resolve) =>
    raw.listen({ host: '127.0.0.1', port: 0, backlog: 4096 }, resolve),
  );
  const rawAddress = raw.address();
  const rawPort = typeof rawAddress === 'object' && rawAddress !== null ? rawAddress.port : 0;

  const runtime = createRuntime({ logger: pino({ level: 'silent' }), messages: scaleMessages });
  const heraldPort = await new Promise<number>((resolve) => {
    runtime.spawn(withOptions(new Responder(resolve), { capacity: RESPONDER_CAPACITY }));
  });

  process.on('message', (m: { type: string }) => {
    if (m.type !== 'measure') return;
    void settledMemory().then((u) => {
      const reply: ServerMemory = {
        type: 'memory',
        rss: u.rss,
        heapUsed: u.heapUsed,
        external: u.external,
        herald: heraldConnections,
        raw: rawSockets.size,
      };
      send(reply);
    });
  });
  process.on('disconnect', () => {
    raw.close();
    for (const s of rawSockets) s.destroy();
    void runtime.close({ timeoutMs: 2000 }).finally(() => process.exit(0));
  });
  send({ type: 'ports', raw: rawPort, herald: heraldPort });
}

await main();
