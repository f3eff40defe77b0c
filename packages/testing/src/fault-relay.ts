/**
 * A TCP fault relay for tests: sits between a client and a real server on 127.0.0.1 and
 * does to the link what networks do. It can black-hole it (a partition: silence, no close),
 * reset it, refuse new connections, add latency, deliver every byte as a write of its own,
 * or tamper with the bytes, so reconnect, keep-alive, framing and group behaviour can be
 * tested against real failures on real sockets.
 *
 * ```ts
 * const relay = await startFaultRelay({ target: { host: '127.0.0.1', port: server.port } });
 * connect(client.self, { host: '127.0.0.1', port: relay.port });
 * await relay.waitForConnections(1);
 * relay.blackhole(); // the link goes silent; neither side sees a close
 * ```
 *
 * Every wait is event-driven (re-checked after each thing the relay does) and bounded by a
 * timeout whose error describes the relay's state.
 */
import net from 'node:net';
import { DEFAULT_WAIT_MS, Signal, waitFor } from './wait.js';
import { TestingError } from './errors.js';

export type RelayDirection = 'to-target' | 'to-client';

export interface FaultRelayOptions {
  /** Where accepted connections are forwarded. */
  readonly target: { readonly host: string; readonly port: number };
  /** Interface to listen on. Default `127.0.0.1`; the port is always chosen by the OS. */
  readonly host?: string;
  /**
   * Deliver every byte as a write of its own, one per event-loop turn, in both directions
   * (so the peers' parsers see every split point). Default false.
   */
  readonly byteByByte?: boolean;
  /** Latency added to every chunk, in both directions, from the start. See `delay()`. */
  readonly delayMs?: number;
  /**
   * Rewrites bytes on their way. `offset` is the position of the chunk's first byte in that
   * direction's stream. Return the bytes to forward (the same buffer to leave it alone).
   */
  readonly rewrite?: (chunk: Buffer, direction: RelayDirection, offset: number) => Buffer;
}

/** What the relay did, in order; also available as {@link FaultRelay.events}. */
export type FaultRelayEvent =
  /** A client connection was accepted; `blackholed` if it arrived during a black hole. */
  | { readonly type: 'connection'; readonly id: number; readonly blackholed: boolean }
  /** The relay's connection to the target is established for link `id`. */
  | { readonly type: 'upstream-connected'; readonly id: number }
  /** Bytes read from one side of a black-holed link (or held back by a delay) and thrown away. */
  | {
      readonly type: 'dropped';
      readonly id: number;
      readonly direction: RelayDirection;
      readonly bytes: number;
    }
  /** One side of a black-holed link closed or reset; the other side was not told. */
  | { readonly type: 'close-held'; readonly id: number; readonly from: 'client' | 'target' }
  /** Every socket of link `id` is closed. */
  | { readonly type: 'closed'; readonly id: number };

export interface FaultRelay {
  /** Port the relay listens on (stays the same across `refuse(true)` / `refuse(false)`). */
  readonly port: number;
  readonly host: string;
  /** Client connections accepted so far (refused attempts are not counted). */
  readonly connections: number;
  /** Links with at least one socket still open. */
  readonly active: number;
  /** Total bytes thrown away on black-holed links, both directions. */
  readonly droppedBytes: number;
  /** Bytes written on to the far side so far, both directions, after any rewrite. */
  readonly forwardedBytes: number;
  /** Socket writes made so far, both directions (one per byte with `byteByByte`). */
  readonly writes: number;
  readonly blackholed: boolean;
  readonly refusing: boolean;
  /** The latency now added to each chunk read (see `delay()`). */
  readonly delayMs: number;
  /** Everything the relay did, oldest first. */
  readonly events: readonly FaultRelayEvent[];
  /**
   * Stops all traffic on every current link and every link accepted from now on, as a
   * network partition would. Nothing is closed and nothing propagates: bytes from either
   * side are read and discarded (so are bytes still held back by a delay), and a FIN or
   * RST from either side is not passed on. New clients are accepted (the kernel completes
   * the handshake) but never connected to the target.
   */
  blackhole(): void;
  /**
   * Ends the black hole for links accepted from now on. Links that were black-holed stay
   * black-holed until they close, `resetAll()` or `close()`: bytes were discarded mid-stream,
   * so resuming them would hand the peers a corrupt stream, which no real partition does.
   */
  heal(): void;
  /**
   * Holds every chunk read from now on for `ms` before forwarding it, in both directions
   * (order is kept; a FIN waits behind the data). `delay(0)` ends the added latency for
   * chunks read from then on.
   */
  delay(ms: number): void;
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
  onEvent(listener: (event: FaultRelayEvent) => void): () => void;
  /**
   * Resolves once `condition` holds, checking now and after every event; rejects after
   * `timeoutMs` with `description` and the relay's state.
   */
  waitFor(condition: () => boolean, description: string, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `count` connections have been accepted in total. */
  waitForConnections(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once exactly `count` links are open (e.g. `0` after clients hung up). */
  waitForActive(count: number, timeoutMs?: number): Promise<void>;
  /** Resolves once at least `bytes` bytes have been discarded in total. */
  waitForDroppedBytes(bytes: number, timeoutMs?: number): Promise<void>;
}

interface Link {
  readonly id: number;
  readonly client: net.Socket;
  upstream: net.Socket | undefined;
  /** Black-holed: traffic and closes are swallowed for the rest of the link's life. */
  dead: boolean;
  openSockets: number;
  /** Wakes each direction's pump (to discard what it holds once the link is dead). */
  readonly pumps: (() => void)[];
}

/** A chunk on its way, due to be written at `due` (`Date.now()` time). */
interface Pending {
  bytes: Buffer;
  readonly due: number;
}

/** Starts a relay on 127.0.0.1 (port 0) forwarding to `options.target`. */
export async function startFaultRelay(options: FaultRelayOptions): Promise<FaultRelay> {
  const host = options.host ?? '127.0.0.1';
  const { target } = options;
  const links = new Set<Link>();
  const events: FaultRelayEvent[] = [];
  const listeners = new Set<(event: FaultRelayEvent) => void>();
  const signal = new Signal();
  let server: net.Server | undefined;
  let port = 0;
  let nextId = 1;
  let connections = 0;
  let droppedBytes = 0;
  let forwardedBytes = 0;
  let writes = 0;
  let delayMs = options.delayMs ?? 0;
  let blackholed = false;
  let closed = false;

  const emit = (event: FaultRelayEvent): void => {
    events.push(event);
    for (const listener of listeners) listener(event);
    signal.changed();
  };

  const state = (): string =>
    `connections=${connections} active=${links.size} droppedBytes=${droppedBytes} ` +
    `forwardedBytes=${forwardedBytes} blackholed=${blackholed} ` +
    `refusing=${server === undefined} delayMs=${delayMs} ` +
    `last events=${JSON.stringify(events.slice(-5))}`;

  const waitUntil = (
    condition: () => boolean,
    description: string,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<void> =>
    waitFor(condition, {
      on: signal,
      timeoutMs,
      what: `${description} at the fault relay`,
      describe: state,
    }).then(() => undefined);

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

  const drop = (link: Link, direction: RelayDirection, bytes: number): void => {
    droppedBytes += bytes;
    emit({ type: 'dropped', id: link.id, direction, bytes });
  };

  /**
   * Wires one direction: bytes, FIN and errors from `from` go to `to` unless the link is
   * dead, in order, after the delay, whole or a byte per turn, with backpressure (pause the
   * reader while the writer's buffer is full).
   */
  const pipe = (
    link: Link,
    from: net.Socket,
    to: () => net.Socket | undefined,
    direction: RelayDirection,
  ): void => {
    const side = direction === 'to-target' ? 'client' : 'target';
    const queue: Pending[] = [];
    let offset = 0;
    let ended = false;
    let finSent = false;
    /** A timer or immediate will call `pump`; nothing else may write meanwhile. */
    let scheduled = false;

    const pump = (): void => {
      if (link.dead) {
        // A partition loses what was in flight, including bytes a timer was holding back.
        const held = queue.splice(0).reduce((sum, p) => sum + p.bytes.length, 0);
        if (held > 0) drop(link, direction, held);
        return;
      }
      if (scheduled) return;
      for (;;) {
        const destination = to();
        if (destination === undefined || destination.destroyed) return;
        const head = queue[0];
        if (head === undefined) {
          if (ended && !finSent) {
            finSent = true;
            destination.end();
          }
          return;
        }
        const wait = head.due - Date.now();
        if (wait > 0) {
          scheduled = true;
          setTimeout(() => {
            scheduled = false;
            pump();
          }, wait).unref();
          return;
        }
        let chunk = head.bytes;
        if (options.byteByByte === true && chunk.length > 1) {
          head.bytes = chunk.subarray(1);
          chunk = chunk.subarray(0, 1);
        } else queue.shift();
        writes += 1;
        forwardedBytes += chunk.length;
        if (!destination.write(chunk)) {
          from.pause();
          destination.once('drain', () => from.resume());
        }
        if (options.byteByByte === true) {
          scheduled = true;
          setImmediate(() => {
            scheduled = false;
            pump();
          });
          return;
        }
      }
    };
    link.pumps.push(pump);

    from.on('data', (chunk: Buffer) => {
      if (link.dead || to() === undefined) {
        drop(link, direction, chunk.length);
        return;
      }
      const out = options.rewrite?.(chunk, direction, offset) ?? chunk;
      offset += chunk.length;
      queue.push({ bytes: out, due: Date.now() + delayMs });
      pump();
    });
    from.on('end', () => {
      if (link.dead) emit({ type: 'close-held', id: link.id, from: side });
      else {
        ended = true;
        pump();
      }
    });
    from.on('error', () => {
      // The peer reset (or the connect failed): pass the reset on, unless partitioned.
      if (link.dead) emit({ type: 'close-held', id: link.id, from: side });
      else hardReset(to());
    });
    from.on('close', () => socketClosed(link));
  };

  const connectUpstream = (link: Link): void => {
    const upstream = net.connect({
      host: target.host,
      port: target.port,
      allowHalfOpen: true,
      noDelay: true,
    });
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
      pumps: [],
    };
    links.add(link);
    pipe(link, client, () => link.upstream, 'to-target');
    if (!link.dead) connectUpstream(link);
    emit({ type: 'connection', id: link.id, blackholed: link.dead });
  };

  const listen = (listenPort: number): Promise<net.Server> =>
    new Promise<net.Server>((resolve, reject) => {
      const next = net.createServer({ allowHalfOpen: true, noDelay: true }, onConnection);
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
    throw new TestingError(
      'HERALD_ERR_TEST_FAILED',
      'fault relay: listening socket has no TCP address',
    );
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
    get forwardedBytes() {
      return forwardedBytes;
    },
    get writes() {
      return writes;
    },
    get blackholed() {
      return blackholed;
    },
    get refusing() {
      return server === undefined;
    },
    get delayMs() {
      return delayMs;
    },
    events,
    blackhole() {
      blackholed = true;
      for (const link of links) {
        link.dead = true;
        // A reader paused by backpressure would hold bytes instead of discarding them.
        link.client.resume();
        link.upstream?.resume();
        for (const pump of link.pumps) pump();
      }
    },
    heal() {
      blackholed = false;
    },
    delay(ms) {
      if (!Number.isFinite(ms) || ms < 0)
        throw new TestingError(
          'HERALD_ERR_BAD_OPTION',
          `fault relay: delay must be a finite number of ms >= 0, not ${ms}`,
        );
      delayMs = ms;
    },
    resetAll() {
      for (const link of links) {
        hardReset(link.client);
        hardReset(link.upstream);
      }
    },
    async refuse(on: boolean) {
      if (closed)
        throw new TestingError('HERALD_ERR_TEST_MISUSE', 'fault relay: refuse() after close()');
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
      await waitUntil(() => links.size === 0, 'every socket to close on close()');
    },
    onEvent(listener) {
      listeners.add(listener);
      return () => listeners.delete(listener);
    },
    waitFor: waitUntil,
    waitForConnections(count, timeoutMs) {
      return waitUntil(() => connections >= count, `${count} accepted connection(s)`, timeoutMs);
    },
    waitForActive(count, timeoutMs) {
      return waitUntil(() => links.size === count, `exactly ${count} open link(s)`, timeoutMs);
    },
    waitForDroppedBytes(bytes, timeoutMs) {
      return waitUntil(() => droppedBytes >= bytes, `${bytes} dropped byte(s)`, timeoutMs);
    },
  };
}
