/**
 * The in-memory transport: listen on a name and port, dial it, get a pair of Duplex streams
 * that behave like two ends of a TCP connection, without a socket or a file descriptor.
 * Everything is in one process and deterministic: connections are set up and bytes cross
 * in the order they were sent, with nothing else competing.
 *
 * A memory network is a namespace of hosts (any names: 'server', 'alice', '10.0.0.1').
 * `network.transport(host)` is the Transport of one host: it listens on that host's ports and
 * dials from it, so a test can give every process of a topology its own host.
 *
 * Each direction of a connection is a {@link MemoryLink}. The default link hands every
 * segment over on the next turn of the event loop; the simulated network of @herald/testing
 * supplies links with latency on a TestClock, partitions and black holes. Connection set-up
 * crosses the links too (SYN one way, SYN-ACK or a refusal back), so a dial across a
 * partition waits as a TCP dial would.
 *
 * What behaves like a net.Socket, and why:
 * - Backpressure is end to end. A chunk written is accepted by the link while fewer than
 *   `windowBytes` are in flight (sent but not yet taken by the reader), like a TCP window;
 *   past it the writer's callback waits, its buffer fills and `write()` returns false until
 *   the reader reads and 'drain' follows. A paused reader therefore stops the writer.
 * - `end()` sends a FIN after the bytes already written: the peer reads them, then 'end'.
 *   Streams do not allow half-open connections (net's default): a side that sees 'end' ends
 *   its own writable side after what it has written, then both close.
 * - `destroy()` discards what the writer had not yet handed to the link and sends a reset
 *   behind what it had: the peer reads those bytes, then sees 'end' and 'close' (as after
 *   a close() of a TCP socket). What the peer writes afterwards is discarded.
 * - Failures carry errno codes: ECONNREFUSED when nothing listens, EADDRINUSE for a taken
 *   port, EADDRNOTAVAIL for listening on another host's name, ECONNRESET when the network
 *   resets a connection ({@link MemoryConnectionInfo.reset}).
 */
import { Duplex } from 'node:stream';
import { checkWhole } from './checks.js';
import {
  transportError,
  type DialOptions,
  type ListenOptions,
  type Transport,
  type TransportAddress,
  type TransportConnection,
  type TransportListener,
} from './transport.js';

/** Bytes in flight per direction (written, not yet read by the peer) before writes wait. */
export const DEFAULT_MEMORY_WINDOW_BYTES = 64 * 1024;

/** High-water mark of each stream's readable and writable buffers (Node's own default). */
export const DEFAULT_MEMORY_HIGH_WATER_BYTES = 16 * 1024;

/** The host of `network.transport()` when none is named. */
export const DEFAULT_MEMORY_HOST = 'localhost';

/** First and last port handed out for `listen` on port 0 and for the dialing end. */
export const MEMORY_EPHEMERAL_PORT_FIRST = 49152;
export const MEMORY_EPHEMERAL_PORT_LAST = 65535;

/** Host names that mean "this host" when listening. */
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['', '0.0.0.0', '::']);

/** What a link carries. The link sees only the kind and size, never the bytes. */
export interface MemorySegment {
  /** syn/syn-ack/refused set a connection up; data, fin and reset flow on it. */
  readonly kind: 'syn' | 'syn-ack' | 'refused' | 'data' | 'fin' | 'reset';
  /** Payload bytes (0 except for data). */
  readonly bytes: number;
}

/**
 * One direction of one connection. `carry` is called for each segment in the order sent; the
 * link calls `arrive` when the segment reaches the far end, now, later or never (lost). The
 * receiving end hands segments over in send order whatever order they arrive in, so a lost
 * segment stalls everything behind it, as on a black-holed TCP connection.
 */
export interface MemoryLink {
  carry(segment: MemorySegment, arrive: () => void): void;
}

/** Makes the link for bytes going `from` one end `to` the other (called twice per dial). */
export type MemoryLinkFactory = (from: TransportAddress, to: TransportAddress) => MemoryLink;

/**
 * The default link: each segment arrives on the next turn of the event loop (all that were
 * carried in one turn arrive together, in order, from one setImmediate).
 */
export const immediateLink: MemoryLinkFactory = () => {
  let due: (() => void)[] = [];
  const deliver = (): void => {
    const now = due;
    due = [];
    for (const arrive of now) arrive();
  };
  return {
    carry: (_segment, arrive) => {
      if (due.push(arrive) === 1) setImmediate(deliver);
    },
  };
};

export interface MemoryNetworkOptions {
  /** Links between the ends of each connection; default {@link immediateLink}. */
  readonly link?: MemoryLinkFactory;
  /** Bytes in flight per direction before writes wait; default {@link DEFAULT_MEMORY_WINDOW_BYTES}. */
  readonly windowBytes?: number;
  /** Stream buffer high-water mark; default {@link DEFAULT_MEMORY_HIGH_WATER_BYTES}. */
  readonly highWaterMark?: number;
}

/** A live connection of a memory network, as seen from outside (for fault injection). */
export interface MemoryConnectionInfo {
  /** The dialing end. */
  readonly client: TransportAddress;
  /** The listening end. */
  readonly server: TransportAddress;
  /**
   * Resets the connection at once, as a TCP RST does: both streams are destroyed with an
   * error carrying `code` (default ECONNRESET), bytes in flight are lost.
   */
  reset(code?: string): void;
}

type Item =
  | { readonly kind: 'syn' | 'syn-ack' | 'refused' | 'fin' | 'reset' }
  | { readonly kind: 'data'; readonly chunk: Buffer };

/** Takes one item; false asks the channel to wait until `resume()` (the reader is full). */
type Receiver = (item: Item) => boolean;

/**
 * One direction of a connection: sequence numbers over a link, reordering on arrival, the
 * in-flight window, and the reader's backpressure.
 */
class Channel {
  readonly #link: MemoryLink;
  readonly #window: number;
  #receiver: Receiver | undefined;
  #nextSeq = 0;
  #expected = 0;
  readonly #early = new Map<number, Item>();
  /** Arrived in order, not yet taken; `#head` is the next one (no O(n) shift per item). */
  #ready: Item[] = [];
  #head = 0;
  #inFlight = 0;
  #blockedWriter: (() => void) | undefined;
  #paused = false;
  /** The reader asked for more while an item was being handed to it. */
  #wanted = false;
  #closed = false;
  #pumping = false;

  /** Largest read made by joining ready chunks (the reader's high-water mark). */
  readonly #readLimit: number;

  constructor(link: MemoryLink, window: number, readLimit: number) {
    this.#link = link;
    this.#window = window;
    this.#readLimit = readLimit;
  }

  /** Sets who takes arriving items (the dial or accept step first, then the stream). */
  attach(receiver: Receiver): void {
    this.#receiver = receiver;
    this.#paused = false;
    this.#pump();
  }

  /**
   * Sends one item. `accepted` is called once the window has room for it (at once while
   * fewer than `window` bytes are in flight): the writer's flow control.
   */
  send(item: Item, accepted?: () => void): void {
    if (this.#closed) {
      accepted?.();
      return;
    }
    const seq = this.#nextSeq++;
    const bytes = item.kind === 'data' ? item.chunk.length : 0;
    const roomBefore = this.#inFlight < this.#window;
    this.#inFlight += bytes;
    if (accepted !== undefined) {
      if (roomBefore) accepted();
      else this.#blockedWriter = accepted;
    }
    this.#link.carry({ kind: item.kind, bytes }, () => this.#arrive(seq, item));
  }

  /** The reader wants more. */
  resume(): void {
    this.#wanted = true;
    if (!this.#paused) return;
    this.#paused = false;
    this.#pump();
  }

  /** The receiving end is gone: everything in flight or sent later is discarded. */
  close(): void {
    this.#closed = true;
    this.#receiver = undefined;
    this.#early.clear();
    this.#ready = [];
    this.#head = 0;
    this.#inFlight = 0;
    this.#releaseWriter();
  }

  #arrive(seq: number, item: Item): void {
    if (this.#closed) return;
    this.#early.set(seq, item);
    for (;;) {
      const next = this.#early.get(this.#expected);
      if (next === undefined) break;
      this.#early.delete(this.#expected);
      this.#expected++;
      this.#ready.push(next);
    }
    this.#pump();
  }

  #pump(): void {
    // A link may call arrive() synchronously and a push runs user code ('data' handlers
    // that write or read): one loop at a time keeps the order.
    if (this.#pumping) return;
    this.#pumping = true;
    try {
      while (!this.#paused && !this.#closed && this.#head < this.#ready.length) {
        const receiver = this.#receiver;
        if (receiver === undefined) break;
        let item = this.#ready[this.#head] as Item;
        this.#head++;
        if (item.kind === 'data') {
          item = this.#coalesce(item);
          this.#inFlight -= item.chunk.length;
          if (this.#inFlight < this.#window) this.#releaseWriter();
        }
        this.#wanted = false;
        // A reader that is full waits for resume(), unless it already asked during the push.
        if (!receiver(item) && !this.#wanted) this.#paused = true;
      }
      if (this.#head === this.#ready.length) {
        this.#ready = [];
        this.#head = 0;
      } else if (this.#head > 1024 && this.#head * 2 > this.#ready.length) {
        this.#ready = this.#ready.slice(this.#head);
        this.#head = 0;
      }
    } finally {
      this.#pumping = false;
    }
  }

  /**
   * Joins the data items ready behind `first` (up to the reader's high-water mark) into one chunk, as a TCP
   * read returns what has arrived: a reader that was paused gets a few large reads, not one
   * per write.
   */
  #coalesce(first: { readonly kind: 'data'; readonly chunk: Buffer }): {
    readonly kind: 'data';
    readonly chunk: Buffer;
  } {
    let end = this.#head;
    let bytes = first.chunk.length;
    for (; end < this.#ready.length; end++) {
      const next = this.#ready[end] as Item;
      if (next.kind !== 'data' || bytes + next.chunk.length > this.#readLimit) break;
      bytes += next.chunk.length;
    }
    if (end === this.#head) return first;
    const chunks = [first.chunk];
    for (let i = this.#head; i < end; i++) chunks.push((this.#ready[i] as { chunk: Buffer }).chunk);
    this.#head = end;
    return { kind: 'data', chunk: Buffer.concat(chunks, bytes) };
  }

  #releaseWriter(): void {
    const writer = this.#blockedWriter;
    this.#blockedWriter = undefined;
    writer?.();
  }
}

/**
 * One end of a memory connection: a Duplex with net.Socket's address fields. See the file
 * comment for its end/destroy semantics.
 */
class MemorySocket extends Duplex {
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly #out: Channel;
  readonly #in: Channel;
  #finSent = false;

  constructor(
    out: Channel,
    inbound: Channel,
    local: TransportAddress,
    remote: TransportAddress,
    highWaterMark: number,
  ) {
    super({
      allowHalfOpen: false,
      readableHighWaterMark: highWaterMark,
      writableHighWaterMark: highWaterMark,
    });
    this.#out = out;
    this.#in = inbound;
    this.localAddress = local.host;
    this.localPort = local.port;
    this.remoteAddress = remote.host;
    this.remotePort = remote.port;
    inbound.attach((item) => this.#take(item));
  }

  #take(item: Item): boolean {
    switch (item.kind) {
      case 'data':
        return this.push(item.chunk);
      case 'fin':
      case 'reset':
        this.push(null);
        return true;
      default:
        // Set-up segments never reach an established stream.
        return true;
    }
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: () => void): void {
    this.#out.send({ kind: 'data', chunk }, callback);
  }

  override _final(callback: () => void): void {
    this.#finSent = true;
    this.#out.send({ kind: 'fin' });
    callback();
  }

  override _read(): void {
    this.#in.resume();
  }

  override _destroy(error: Error | null, callback: (error: Error | null) => void): void {
    if (!this.#finSent) {
      this.#finSent = true;
      this.#out.send({ kind: 'reset' });
    }
    this.#in.close();
    callback(error);
  }
}

interface ListenerEntry {
  readonly address: TransportAddress;
  readonly onConnection: (connection: TransportConnection) => void;
}

interface ConnectionRecord extends MemoryConnectionInfo {
  serverSocket: MemorySocket;
  clientSocket: MemorySocket | undefined;
  resetCode: string | undefined;
}

function keyOf(address: TransportAddress): string {
  return `${address.host}:${address.port}`;
}

function abortError(): Error {
  return Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function validPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= MEMORY_EPHEMERAL_PORT_LAST;
}

/**
 * A namespace of hosts whose transports reach each other. Two networks never interfere, so
 * parallel tests each make their own.
 */
export class MemoryNetwork {
  readonly #link: MemoryLinkFactory;
  readonly #window: number;
  readonly #highWaterMark: number;
  readonly #listeners = new Map<string, ListenerEntry>();
  readonly #nextPort = new Map<string, number>();
  readonly #connections = new Set<ConnectionRecord>();

  /** Throws HERALD_ERR_BAD_OPTION for a window or high-water mark that is not a positive whole number. */
  constructor(options: MemoryNetworkOptions = {}) {
    checkWhole('memory', 'windowBytes', options.windowBytes, 1);
    checkWhole('memory', 'highWaterMark', options.highWaterMark, 1);
    this.#link = options.link ?? immediateLink;
    this.#window = options.windowBytes ?? DEFAULT_MEMORY_WINDOW_BYTES;
    this.#highWaterMark = options.highWaterMark ?? DEFAULT_MEMORY_HIGH_WATER_BYTES;
  }

  /** The transport of one host: listens on its ports and dials from it. */
  transport(host: string = DEFAULT_MEMORY_HOST): MemoryTransport {
    return new MemoryTransport(this, host);
  }

  /** Connections that are set up and not yet closed on both ends, oldest first. */
  connections(): readonly MemoryConnectionInfo[] {
    return [...this.#connections];
  }

  /** Addresses listened on, in the order the listeners opened. */
  listening(): readonly TransportAddress[] {
    return [...this.#listeners.values()].map((entry) => entry.address);
  }

  /** @internal */
  listen(
    host: string,
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
  ): TransportListener {
    const onHost = WILDCARD_HOSTS.has(at.host) ? host : at.host;
    if (onHost !== host)
      throw transportError('EADDRNOTAVAIL', `listen ${keyOf(at)}: not an address of ${host}`);
    if (!validPort(at.port))
      throw transportError('ERR_SOCKET_BAD_PORT', `listen ${keyOf(at)}: port out of range`);
    const port = at.port === 0 ? this.#ephemeralPort(host) : at.port;
    const address: TransportAddress = { host, port };
    const key = keyOf(address);
    if (this.#listeners.has(key))
      throw transportError('EADDRINUSE', `listen EADDRINUSE: address already in use ${key}`);
    const entry: ListenerEntry = { address, onConnection };
    this.#listeners.set(key, entry);
    return {
      address,
      close: () => {
        if (this.#listeners.get(key) === entry) this.#listeners.delete(key);
        return Promise.resolve();
      },
    };
  }

  /** @internal */
  dial(
    host: string,
    to: TransportAddress,
    signal: AbortSignal | undefined,
  ): Promise<TransportConnection> {
    return new Promise<TransportConnection>((resolve, reject) => {
      if (signal?.aborted === true) return reject(abortError());
      const local: TransportAddress = { host, port: this.#ephemeralPort(host) };
      const toServer = new Channel(this.#link(local, to), this.#window, this.#highWaterMark);
      const toClient = new Channel(this.#link(to, local), this.#window, this.#highWaterMark);
      let settled = false;
      let record: ConnectionRecord | undefined;
      const settle = (): boolean => {
        if (settled) return false;
        settled = true;
        signal?.removeEventListener('abort', onAbort);
        return true;
      };
      const onAbort = (): void => {
        if (settle()) reject(abortError());
      };
      signal?.addEventListener('abort', onAbort, { once: true });

      // The listening end: the SYN finds a listener (or not) when it arrives, not when sent.
      toServer.attach((item) => {
        if (item.kind !== 'syn') return true;
        const listener = this.#listeners.get(keyOf(to));
        if (listener === undefined) {
          toClient.send({ kind: 'refused' });
          toServer.close();
          return true;
        }
        toClient.send({ kind: 'syn-ack' });
        const serverSocket = new MemorySocket(
          toClient,
          toServer,
          listener.address,
          local,
          this.#highWaterMark,
        );
        record = this.#track(serverSocket, local, listener.address);
        listener.onConnection({ stream: serverSocket, local: listener.address, remote: local });
        return true;
      });

      // The dialing end.
      toClient.attach((item) => {
        if (item.kind === 'refused') {
          toClient.close();
          if (settle()) reject(transportError('ECONNREFUSED', `connect ECONNREFUSED ${keyOf(to)}`));
          return true;
        }
        if (item.kind !== 'syn-ack') return true;
        if (settled) {
          // Aborted while the SYN-ACK was on its way: reset the end that was accepted.
          toServer.send({ kind: 'reset' });
          toClient.close();
          return true;
        }
        settle();
        const resetCode = record?.resetCode;
        if (resetCode !== undefined) {
          // The network reset the connection before the dialer saw it (its accepted end is gone).
          toClient.close();
          reject(transportError(resetCode, `connect ${resetCode} ${keyOf(to)}`));
          return true;
        }
        const clientSocket = new MemorySocket(toServer, toClient, local, to, this.#highWaterMark);
        const tracked = record;
        if (tracked !== undefined) {
          tracked.clientSocket = clientSocket;
          clientSocket.once('close', () => this.#forget(tracked));
        }
        resolve({ stream: clientSocket, local, remote: to });
        return true;
      });
      toServer.send({ kind: 'syn' });
    });
  }

  #track(
    serverSocket: MemorySocket,
    client: TransportAddress,
    server: TransportAddress,
  ): ConnectionRecord {
    const record: ConnectionRecord = {
      client,
      server,
      serverSocket,
      clientSocket: undefined,
      resetCode: undefined,
      reset: (code = 'ECONNRESET') => {
        record.resetCode = code;
        this.#connections.delete(record);
        const message = `read ${code}`;
        serverSocket.destroy(transportError(code, message));
        record.clientSocket?.destroy(transportError(code, message));
      },
    };
    this.#connections.add(record);
    serverSocket.once('close', () => this.#forget(record));
    return record;
  }

  /** A connection is forgotten once both ends closed (the dialing end may never exist). */
  #forget(record: ConnectionRecord): void {
    if (record.serverSocket.destroyed && (record.clientSocket?.destroyed ?? true))
      this.#connections.delete(record);
  }

  #ephemeralPort(host: string): number {
    const span = MEMORY_EPHEMERAL_PORT_LAST - MEMORY_EPHEMERAL_PORT_FIRST + 1;
    let port = this.#nextPort.get(host) ?? MEMORY_EPHEMERAL_PORT_FIRST;
    for (let tries = 0; tries < span; tries++) {
      const candidate = port;
      port = port === MEMORY_EPHEMERAL_PORT_LAST ? MEMORY_EPHEMERAL_PORT_FIRST : port + 1;
      if (!this.#listeners.has(`${host}:${candidate}`)) {
        this.#nextPort.set(host, port);
        return candidate;
      }
    }
    throw transportError('EADDRNOTAVAIL', `no free port on ${host}`);
  }
}

/** The Transport of one host of a {@link MemoryNetwork}. */
export class MemoryTransport implements Transport {
  readonly name: string = 'memory';
  readonly network: MemoryNetwork;
  /** The host this transport listens on and dials from. */
  readonly host: string;

  constructor(network: MemoryNetwork, host: string) {
    this.network = network;
    this.host = host;
  }

  dial(to: TransportAddress, options: DialOptions = {}): Promise<TransportConnection> {
    return this.network.dial(this.host, to, options.signal);
  }

  listen(
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
    _options: ListenOptions = {},
  ): Promise<TransportListener> {
    try {
      return Promise.resolve(this.network.listen(this.host, at, onConnection));
    } catch (error) {
      return Promise.reject(error as Error);
    }
  }
}

/** A new, empty memory network. */
export function createMemoryNetwork(options: MemoryNetworkOptions = {}): MemoryNetwork {
  return new MemoryNetwork(options);
}
