/**
 * Socket-level test harness for @herald/net: a Herald server runtime whose log lines are
 * kept in memory, Herald clients that do a request/reply round trip, raw `net.Socket`
 * clients for sending arbitrary bytes, and a TCP relay that can deliver bytes one at a
 * time or tamper with them.
 *
 * Every wait is event-driven (re-checked whenever something is recorded) and bounded by a
 * timeout whose error says what was awaited and what had happened so far.
 */
import { createRequire } from 'node:module';
import net from 'node:net';
import { Writable } from 'node:stream';
import { defineMessage, t, type MessageOf } from '@herald/codec';
import {
  createRuntime,
  type Address,
  type AnyMessage,
  type Envelope,
  type Handler,
  type Logger,
  type Runtime,
  type Self,
} from '@herald/runtime';
import {
  Abandoned,
  Accepted,
  Closed,
  Connected,
  Listening,
  NotConnected,
  NotListening,
  connect,
  listen,
  type ConnectOptions,
  type ListenOptions,
} from '../../src/index.js';

/** Default bound on every wait: generous for loaded CI machines, far below vitest's limit. */
export const WAIT_MS = 5000;

// pino is a dependency of @herald/runtime, not of @herald/net: load the runtime's copy, so
// the logger handed to createRuntime() is the exact pino the runtime was built against.
const requireHere = createRequire(import.meta.url);
const requireFromRuntime = createRequire(requireHere.resolve('@herald/runtime'));
const pino = requireFromRuntime('pino') as (
  options: { level: string },
  stream: NodeJS.WritableStream,
) => Logger;

// ---- waiting ---------------------------------------------------------------------------

/** Something that changes over time and can be awaited until a condition holds. */
export class Signal {
  readonly #waiters = new Set<() => void>();

  /** Re-checks every waiter's condition. */
  changed(): void {
    for (const check of [...this.#waiters]) check();
  }

  /**
   * Resolves with the first non-undefined result of `probe` (checked now and after every
   * change); rejects after `timeoutMs` with `description` and `state()`.
   */
  waitFor<T>(
    probe: () => T | undefined,
    description: string,
    state: () => string,
    timeoutMs = WAIT_MS,
  ): Promise<T> {
    const now = probe();
    if (now !== undefined) return Promise.resolve(now);
    return new Promise<T>((resolve, reject) => {
      const check = (): void => {
        const value = probe();
        if (value === undefined) return;
        this.#waiters.delete(check);
        clearTimeout(timer);
        resolve(value);
      };
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}; ${state()}`));
      }, timeoutMs);
      this.#waiters.add(check);
    });
  }
}

/** Resolves when `promise` does; rejects after `timeoutMs` naming `description`. */
export function within<T>(
  promise: Promise<T>,
  description: string,
  timeoutMs = WAIT_MS,
): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new Error(`timed out after ${timeoutMs} ms waiting for ${description}`)),
      timeoutMs,
    );
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

// ---- logging ---------------------------------------------------------------------------

/** One pino JSON line. */
export interface LogLine {
  readonly level: number;
  readonly msg: string;
  readonly reason?: unknown;
  readonly peer?: unknown;
  readonly [key: string]: unknown;
}

export const LEVEL_WARN = 40;

/** A pino logger whose lines are parsed and kept in memory. */
export class MemoryLog {
  readonly lines: LogLine[] = [];
  readonly logger: Logger;
  readonly #signal = new Signal();

  constructor(level = 'info') {
    const stream = new Writable({
      write: (chunk: Buffer, _encoding, callback) => {
        for (const text of chunk.toString('utf8').split('\n')) {
          if (text !== '') this.lines.push(JSON.parse(text) as LogLine);
        }
        this.#signal.changed();
        callback();
      },
    });
    this.logger = pino({ level }, stream);
  }

  /** Resolves with the first line (old or new) that `match` accepts. */
  waitFor(
    match: (line: LogLine) => boolean,
    description: string,
    timeoutMs = WAIT_MS,
  ): Promise<LogLine> {
    return this.#signal.waitFor(
      () => this.lines.find(match),
      `log line: ${description}`,
      () =>
        `last lines: ${this.lines
          .slice(-6)
          .map((l) => JSON.stringify(l))
          .join('\n  ')}`,
      timeoutMs,
    );
  }
}

/** The `peer` key the server's connection logger is bound to for a client socket. */
export function peerKey(socket: net.Socket): string {
  return `${socket.localAddress ?? ''}:${socket.localPort ?? 0}`;
}

/** The line in which the server says why it dropped a connection (`rejected` / `closing`). */
export function isRejection(line: LogLine): boolean {
  return typeof line.reason === 'string' && /^(rejected|closing) connection: /.test(line.msg);
}

// ---- Herald peers ----------------------------------------------------------------------

export const Echo = defineMessage('test.Echo', { n: t.int() });
export type Echo = MessageOf<typeof Echo>;
export const EchoReply = defineMessage('test.EchoReply', { n: t.int() });
export type EchoReply = MessageOf<typeof EchoReply>;
const appMessages = [Echo, EchoReply] as const;

export interface Recorded {
  readonly message: AnyMessage;
  readonly from: Address;
}

/**
 * A controller actor that records every message it receives, answers Echo with EchoReply,
 * and runs `begin` (listen or connect) when it starts.
 */
export class Controller implements Handler {
  readonly name = 'TestController';
  readonly received: Recorded[] = [];
  readonly #signal = new Signal();
  readonly #begin: (self: Self) => void;

  constructor(begin: (self: Self) => void) {
    this.#begin = begin;
  }

  start(self: Self): void {
    this.#begin(self);
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    this.received.push({ message, from: envelope.from });
    if (Echo.is(message)) self.reply(EchoReply({ n: message.n }));
    this.#signal.changed();
  }

  /** Messages of one type received so far. */
  all<M extends AnyMessage>(type: { readonly type: string; is(value: unknown): value is M }): M[] {
    return this.received.flatMap((r) => (type.is(r.message) ? [r.message] : []));
  }

  /** Resolves with the first received message (old or new) that `match` accepts. */
  waitFor<M extends AnyMessage>(
    type: { readonly type: string; is(value: unknown): value is M },
    match: (message: M) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<M> {
    return this.#signal.waitFor(
      () => this.all(type).find(match),
      `a ${type.type} message`,
      () => `received: ${this.received.map((r) => r.message.type).join(', ') || 'nothing'}`,
      timeoutMs,
    );
  }
}

export interface TestServer {
  readonly runtime: Runtime;
  readonly log: MemoryLog;
  readonly controller: Controller;
  readonly listener: Address;
  readonly port: number;
  close(): Promise<void>;
}

/** A runtime listening on 127.0.0.1 (port 0) with `options`; logs at info into memory. */
export async function startServer(options: ListenOptions = {}): Promise<TestServer> {
  const log = new MemoryLog('info');
  const runtime = createRuntime({ name: 'server', logger: log.logger, messages: appMessages });
  const controller = new Controller((self) => {
    listen(self, { port: 0 }, options);
  });
  runtime.spawn(controller);
  const ready = await Promise.race([
    controller.waitFor(Listening),
    controller.waitFor(NotListening).then((m) => {
      throw new Error(`listen failed: ${m.explanation}`);
    }),
  ]);
  return {
    runtime,
    log,
    controller,
    listener: ready.listener,
    port: ready.listening.port,
    close: () => runtime.close({ timeoutMs: 2000 }),
  };
}

export interface TestClient {
  readonly runtime: Runtime;
  readonly log: MemoryLog;
  readonly controller: Controller;
  readonly address: Address;
  close(): Promise<void>;
}

/** A runtime whose controller connects to 127.0.0.1:`port` with `options`. */
export function startClient(port: number, options: ConnectOptions = {}): TestClient {
  const log = new MemoryLog('info');
  const runtime = createRuntime({ name: 'client', logger: log.logger, messages: appMessages });
  const controller = new Controller((self) => {
    connect(self, { host: '127.0.0.1', port }, options);
  });
  const address = runtime.spawn(controller);
  return {
    runtime,
    log,
    controller,
    address,
    close: () => runtime.close({ timeoutMs: 2000 }),
  };
}

/**
 * Connects a Herald client to `port`, sends Echo(n) to the peer's controller and awaits
 * EchoReply(n). Resolves with the reply; the client runtime is closed either way.
 */
export async function roundTrip(
  port: number,
  options: ConnectOptions = {},
  n = 42,
): Promise<EchoReply> {
  const client = startClient(port, options);
  try {
    const connected = await Promise.race([
      client.controller.waitFor(Connected),
      client.controller.waitFor(NotConnected).then((m) => {
        throw new Error(`round trip: not connected (${m.reason})`);
      }),
    ]);
    client.runtime.send(connected.remote, Echo({ n }), client.address);
    return await client.controller.waitFor(EchoReply, (m) => m.n === n);
  } finally {
    await client.close();
  }
}

export { Abandoned, Accepted, Closed, Connected, NotConnected };

// ---- raw clients -----------------------------------------------------------------------

export interface RawClient {
  readonly socket: net.Socket;
  /** What the server sent, in order. */
  readonly received: Buffer[];
  /** Resolves when the socket is fully closed (never rejects; errors are recorded). */
  readonly closed: Promise<void>;
  /** The socket error that preceded the close, if any (ECONNRESET is normal here). */
  error: Error | undefined;
  /** All received bytes as one buffer. */
  bytes(): Buffer;
}

/** Opens a plain TCP connection to 127.0.0.1:`port` and resolves once connected. */
export async function rawConnect(port: number): Promise<RawClient> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  const received: Buffer[] = [];
  const client: RawClient = {
    socket,
    received,
    closed: new Promise<void>((resolve) => socket.once('close', () => resolve())),
    error: undefined,
    bytes: () => Buffer.concat(received),
  };
  socket.on('data', (chunk: Buffer) => received.push(chunk));
  socket.on('error', (error) => {
    client.error = error;
  });
  await within(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    `raw connect to 127.0.0.1:${port}`,
  );
  return client;
}

// ---- relay -----------------------------------------------------------------------------

export interface RelayOptions {
  readonly target: { readonly host: string; readonly port: number };
  /** Deliver every byte as its own write, one per event-loop turn, in both directions. */
  readonly byteByByte?: boolean;
  /**
   * Rewrites bytes going from the client to the target. `offset` is the position of the
   * chunk's first byte in that direction's stream. Return the bytes to send.
   */
  readonly toTarget?: (chunk: Buffer, offset: number) => Buffer;
}

export interface Relay {
  readonly port: number;
  /** Socket writes made so far (both directions). */
  readonly writes: number;
  /** Bytes relayed so far (both directions). */
  readonly bytes: number;
  close(): Promise<void>;
}

/** A TCP relay on 127.0.0.1 (port 0) to `options.target`, one upstream per client. */
export async function startRelay(options: RelayOptions): Promise<Relay> {
  const sockets = new Set<net.Socket>();
  let writes = 0;
  let bytes = 0;

  const track = (socket: net.Socket): void => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined); // the pipe below passes the failure on
  };

  /** Forwards `from` to `to` in order, whole chunks or one byte per turn; FIN follows the data. */
  const pipe = (
    from: net.Socket,
    to: net.Socket,
    rewrite: ((chunk: Buffer, offset: number) => Buffer) | undefined,
  ): void => {
    const queue: Buffer[] = [];
    let offset = 0;
    let ended = false;
    let pumping = false;
    const pump = (): void => {
      pumping = false;
      if (to.destroyed) return;
      const head = queue[0];
      if (head === undefined) {
        if (ended) to.end();
        return;
      }
      if (options.byteByByte === true) {
        to.write(head.subarray(0, 1));
        writes += 1;
        if (head.length === 1) queue.shift();
        else queue[0] = head.subarray(1);
        pumping = true;
        setImmediate(pump);
      } else {
        queue.shift();
        to.write(head);
        writes += 1;
        pump();
      }
    };
    from.on('data', (chunk: Buffer) => {
      const out = rewrite === undefined ? chunk : rewrite(chunk, offset);
      offset += chunk.length;
      bytes += out.length;
      queue.push(out);
      if (!pumping) pump();
    });
    from.on('end', () => {
      ended = true;
      if (!pumping) pump();
    });
    from.on('error', () => to.destroy());
    from.on('close', () => {
      if (!ended) to.destroy();
    });
  };

  const server = net.createServer({ allowHalfOpen: true, noDelay: true }, (client) => {
    track(client);
    const upstream = net.connect({
      host: options.target.host,
      port: options.target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
    track(upstream);
    pipe(client, upstream, options.toTarget);
    pipe(upstream, client, undefined);
  });
  await within(
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ host: '127.0.0.1', port: 0 }, resolve);
    }),
    'relay listening',
  );
  const address = server.address();
  if (address === null || typeof address !== 'object') throw new Error('relay has no port');
  return {
    port: address.port,
    get writes() {
      return writes;
    },
    get bytes() {
      return bytes;
    },
    close: async () => {
      for (const socket of sockets) socket.destroy();
      await within(new Promise<void>((resolve) => server.close(() => resolve())), 'relay closed');
    },
  };
}
