/**
 * Socket-level test harness for @herald/net, on top of @herald/testing: a Herald server
 * runtime whose log lines are kept in memory, Herald clients that do a request/reply round
 * trip, and raw `net.Socket` clients for sending arbitrary bytes. (The relay that delivers
 * bytes one at a time or tampers with them is @herald/testing's fault relay.)
 *
 * Every wait is event-driven and bounded by a timeout whose error says what was awaited
 * and what had happened so far.
 */
import net from 'node:net';
import { defineMessage, t, type MessageOf } from '@herald/codec';
import type { Address, Runtime } from '@herald/runtime';
import {
  spawnProbe,
  testRuntime,
  welcomingServer,
  withTimeout,
  DEFAULT_WAIT_MS,
  type Greeting,
  type LogLine,
  type MemoryLogger,
  type Probe,
} from '@herald/testing';
import {
  Abandoned,
  Accepted,
  Closed,
  Connected,
  NotConnected,
  connect,
  type ConnectOptions,
  type ListenOptions,
} from '../../src/index.js';

/** pino's number for warn, as it appears in a parsed log line. */
export const LEVEL_WARN = 40;

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

/** The server answers Echo(n) with EchoReply(n). */
const echo: Greeting<Echo> = { hello: Echo, welcome: (m) => EchoReply({ n: m.n }) };

export interface TestServer {
  readonly runtime: Runtime;
  readonly log: MemoryLogger;
  /** The listening controller: records Accepted, Abandoned, ...; answers Echo. */
  readonly controller: Probe;
  readonly listener: Address;
  readonly port: number;
  close(): Promise<void>;
}

/** A runtime listening on 127.0.0.1 (port 0) with `options`; logs at info into memory. */
export async function startServer(options: ListenOptions = {}): Promise<TestServer> {
  const runtime = testRuntime({ name: 'server', messages: appMessages });
  const { server, port, listener } = await welcomingServer(runtime, {
    listen: options,
    greeting: echo,
  });
  return {
    runtime,
    log: runtime.log,
    controller: server,
    listener,
    port,
    close: () => runtime.close({ timeoutMs: 2000 }),
  };
}

export interface TestClient {
  readonly runtime: Runtime;
  readonly log: MemoryLogger;
  readonly controller: Probe;
  readonly address: Address;
  close(): Promise<void>;
}

/** A runtime whose controller connects to 127.0.0.1:`port` with `options`. */
export async function startClient(port: number, options: ConnectOptions = {}): Promise<TestClient> {
  const runtime = testRuntime({ name: 'client', messages: appMessages });
  const controller = await spawnProbe(runtime, {
    name: 'TestController',
    onStart: (self) => connect(self, { host: '127.0.0.1', port }, options),
  });
  return {
    runtime,
    log: runtime.log,
    controller,
    address: controller.address,
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
  const client = await startClient(port, options);
  try {
    const { message } = await client.controller.recorder.waitFor(
      (r) => Connected.is(r.message) || NotConnected.is(r.message),
      { what: `the round trip's connection to 127.0.0.1:${port}` },
    );
    if (!Connected.is(message)) {
      const reason = NotConnected.is(message) ? message.reason : message.type;
      throw new Error(`round trip: not connected (${reason})`);
    }
    const connected = message;
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
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    }),
    DEFAULT_WAIT_MS,
    `raw connect to 127.0.0.1:${port}`,
  );
  return client;
}
