/**
 * A controllable TCP proxy for fault tests: sits between a client and a real server on
 * 127.0.0.1 and can black-hole, reset or refuse connections on command, so reconnect,
 * keep-alive and group behaviour can be tested against the failures networks really have.
 *
 * ```ts
 * const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: server.port } });
 * connectTo('127.0.0.1', proxy.port);
 * await proxy.waitForConnections(1);
 * proxy.blackhole(); // the link goes silent; neither side sees a close
 * ```
 *
 * Every wait is event-driven (re-checked after each thing the proxy does) and bounded by a
 * timeout whose error describes the proxy's state.
 */
import net from 'node:net';

export interface TcpProxyOptions {
  /** Where accepted connections are forwarded. */
  readonly target: { readonly host: string; readonly port: number };
  /** Interface to listen on. Default `127.0.0.1`; the port is always chosen by the OS. */
  readonly host?: string;
}

/** What the proxy did, in order; also available as {@link TcpProxy.events}. */
export type TcpProxyEvent =
  /** A client connection was accepted; `blackholed` if it arrived during a black hole. */
  | { readonly type: 'connection'; readonly id: number; readonly blackholed: boolean }
  /** The proxy's connection to the target is established for link `id`. */
  | { readonly type: 'upstream-connected'; readonly id: number }
  /** Bytes read from one side of a black-holed link and thrown away. */
  | {
      readonly type: 'dropped';
      readonly id: number;
      readonly direction: 'to-target' | 'to-client';
      readonly bytes: number;
    }
  /** One side of a black-holed link closed or reset; the other side was not told. */
  | { readonly type: 'close-held'; readonly id: number; readonly from: 'client' | 'target' }
  /** Every socket of link `id` is closed. */
  | { readonly type: 'closed'; readonly id: number };

export interface TcpProxy {
  /** Port the proxy listens on (stays the same across `refuse(true)` / `refuse(false)`). */
  readonly port: number;
  readonly host: string;
  /** Client connections accepted so far (refused attempts are not counted). */
  readonly connections: number;
  /** Links with at least one socket still open. */
  readonly active: number;
  /** Total bytes thrown away on black-holed links, both directions. */
  readonly droppedBytes: number;
  readonly blackholed: boolean;
  readonly refusing: boolean;
  /** Everything the proxy did, oldest first. */
  readonly events: readonly TcpProxyEvent[];
  /**
   * Stops all traffic on every current link and every link accepted from now on, as a
   * network partition would. Nothing is closed and nothing propagates: bytes from either
   * side are read and discarded, and a FIN or RST from either side is not passed on. New
   * clients are accepted (the kernel completes the handshake) but never connected to the
   * target.
   */
  blackhole(): void;
  /**
   * Ends the black hole for links accepted from now on. Links that were black-holed stay
   * black-holed until they close, `resetAll()` or `close()`: bytes were discarded mid-stream,
   * so resuming them would hand the peers a corrupt stream, which no real partition does.
   */
  heal(): void;
  /** Resets (TCP RST) both sides of every current link: the peers see ECONNRESET. */
  resetAll(): void;
  /**
   * `true` closes the listening socket so new connection attempts fail with ECONNREFUSED
   * (existing links are untouched); `false` listens again on the same port. Rejects if the
   * port was taken in between (very unlikely; the OS does not hand out a listening port).
   */
  refuse(on: boolean): Promise<void>;
  /** Stops listening and destroys every link; resolves once all sockets are closed. */
  close(): Promise<void>;
  /** Calls `listener` for each event from now on; returns an unsubscribe function. */
  onEvent(listener: (event: TcpProxyEvent) => void): () => void;
  /**
   * Resolves once `condition` holds, checking now and after every event; rejects after
   * `timeoutMs` with `description` and the proxy's state.
   */
  waitFor(condition: () => boolean, description: string, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `count` connections have been accepted in total. */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once exactly `count` links are open (e.g. `0` after clients hung up). */
  waitForActive(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `bytes` bytes have been discarded in total. */
  waitForDroppedBytes(bytes: number, timeoutMs?: number): Promise<void>;
}

/** Default bound on every wait: generous for loaded CI machines, far below vitest's 60 s. */
export const DEFAULT_PROXY_WAIT_MS = 5000;

interface Link {
  readonly id: number;
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  /** Black-holed: traffic and closes are swallowed for the rest of the link's life. */
  dead: boolean;
  openSockets: number;
}

interface Waiter {
  readonly condition: () => boolean;
  readonly resolve: () => void;
}

/** Starts a proxy on 127.0.0.1 (port 0) forwarding to `options.target`. */
export async function startTcpProxy(options: TcpProxyOptions): Promise<TcpProxy> {
  const host = options.host ?? '127.0.0.1';
  const { target } = options;
  const links = new Set<Link>();
  const events: TcpProxyEvent[] = [];
  const listeners = new Set<(event: TcpProxyEvent) => void>();
  const waiters = new Set<Waiter>();
  let server: net.Server | undefined;
  let port = 0;
  let nextId = 1;
  let connections = 0;
  let droppedBytes = 0;
  let blackholed = false;
  let closed = false;

  const emit = (event: TcpProxyEvent): void => {
    events.push(event);
    for (const listener of listeners) listener(event);
    for (const waiter of waiters) {
      if (waiter.condition()) {
        waiters.delete(waiter);
        waiter.resolve();
      }
    }
  };

  const state = (): string =>
    `connections=${connections} active=${links.size} droppedBytes=${droppedBytes} ` +
    `blackholed=${blackholed} refusing=${server === undefined} ` +
    `last events=${JSON.stringify(events.slice(-5))}`;

  const waitFor = (
    condition: () => boolean,
    description: string,
    timeoutMs = DEFAULT_PROXY_WAIT_MS,
  ): Promise<void> => {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = {
        condition,
        resolve: () => {
          clearTimeout(timer);
          resolve();
        },
      };
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(
          new Error(
            `tcp-proxy: timed out after ${timeoutMs} ms waiting for ${description} (${state()})`,
          ),
        );
      }, timeoutMs);
      waiters.add(waiter);
    });
  };

  const hardReset = (socket: net.Socket | undefined): void => {
    if (socket === undefined || socket.destroyed) return;
    // A socket still connecting has no peer to reset yet; just drop it.
    if (socket.connecting) socket.destroy();
    else socket.resetAndDestroy();
  };

  const socketClosed = (link: Link): void => {
    link.openSockets -= 1;
    if (link.openSockets === 0) {
      links.delete(link);
      emit({ type: 'closed', id: link.id });
    }
  };

  /**
   * Wires one direction: bytes, FIN and errors from `from` go to `to` unless the link is
   * dead, with backpressure (pause the reader while the writer's buffer is full).
   */
  const pipe = (
    link: Link,
    from: net.Socket,
    to: () => net.Socket | undefined,
    direction: 'to-target' | 'to-client',
  ): void => {
    const side = direction === 'to-target' ? 'client' : 'target';
    from.on('data', (chunk: Buffer) => {
      const destination = to();
      if (link.dead || destination === undefined) {
        droppedBytes += chunk.length;
        emit({ type: 'dropped', id: link.id, direction, bytes: chunk.length });
        return;
      }
      if (!destination.write(chunk)) {
        from.pause();
        destination.once('drain', () => from.resume());
      }
    });
    from.on('end', () => {
      if (link.dead) emit({ type: 'close-held', id: link.id, from: side });
      else to()?.end();
    });
    from.on('error', () => {
      // The peer reset (or the connect failed): pass the reset on, unless partitioned.
      if (link.dead) emit({ type: 'close-held', id: link.id, from: side });
      else hardReset(to());
    });
    from.on('close', () => socketClosed(link));
  };

  const connectUpstream = (link: Link): void => {
    const upstream = net.connect({ host: target.host, port: target.port, allowHalfOpen: true });
    link.upstream = upstream;
    link.openSockets += 1;
    upstream.on('connect', () => emit({ type: 'upstream-connected', id: link.id }));
    pipe(link, upstream, () => link.client, 'to-client');
  };

  const onConnection = (client: net.Socket): void => {
    if (closed) {
      client.destroy();
      return;
    }
    connections += 1;
    const link: Link = {
      id: nextId++,
      client,
      upstream: undefined,
      dead: blackholed,
      openSockets: 1,
    };
    links.add(link);
    pipe(link, client, () => link.upstream, 'to-target');
    if (!link.dead) connectUpstream(link);
    emit({ type: 'connection', id: link.id, blackholed: link.dead });
  };

  const listen = (listenPort: number): Promise<net.Server> =>
    new Promise<net.Server>((resolve, reject) => {
      const next = net.createServer({ allowHalfOpen: true }, onConnection);
      next.once('error', reject);
      next.listen({ host, port: listenPort }, () => {
        next.off('error', reject);
        // Errors after listening (none expected) must not crash the test process.
        next.on('error', () => undefined);
        resolve(next);
      });
    });

  const stopListening = (): void => {
    // Closing the handle is immediate: from here new attempts get ECONNREFUSED. Accepted
    // sockets are tracked in `links`, not through the server.
    server?.close();
    server = undefined;
  };

  server = await listen(0);
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('tcp-proxy: listening socket has no TCP address');
  }
  port = address.port;

  return {
    get port() {
      return port;
    },
    host,
    get connections() {
      return connections;
    },
    get active() {
      return links.size;
    },
    get droppedBytes() {
      return droppedBytes;
    },
    get blackholed() {
      return blackholed;
    },
    get refusing() {
      return server === undefined;
    },
    events,
    blackhole() {
      blackholed = true;
      for (const link of links) {
        link.dead = true;
        // A reader paused by backpressure would hold bytes instead of discarding them.
        link.client.resume();
        link.upstream?.resume();
      }
    },
    heal() {
      blackholed = false;
    },
    resetAll() {
      for (const link of links) {
        hardReset(link.client);
        hardReset(link.upstream);
      }
    },
    async refuse(on: boolean) {
      if (closed) throw new Error('tcp-proxy: refuse() after close()');
      if (on) stopListening();
      else if (server === undefined) server = await listen(port);
    },
    async close() {
      closed = true;
      stopListening();
      for (const link of links) {
        link.client.destroy();
        link.upstream?.destroy();
      }
      await waitFor(() => links.size === 0, 'every socket to close on close()');
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor,
    waitForConnections(count, timeoutMs) {
      return waitFor(() => connections >= count, `${count} accepted connection(s)`, timeoutMs);
    },
    waitForActive(count, timeoutMs) {
      return waitFor(() => links.size === count, `exactly ${count} open link(s)`, timeoutMs);
    },
    waitForDroppedBytes(bytes, timeoutMs) {
      return waitFor(() => droppedBytes >= bytes, `${bytes} dropped byte(s)`, timeoutMs);
    },
  };
}
