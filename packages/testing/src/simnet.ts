/**
 * The simulated network: Herald's in-memory transport with links whose behaviour a test
 * controls, on a TestClock and a seeded random source. Every process of a topology gets a
 * host (`sim.node('server').transport`), and the test then shapes the network between them:
 *
 * - latency per pair of hosts, fixed or drawn from a range with the seeded random source;
 *   bytes arrive when the clock reaches their time (`clock.advance()`), in order;
 * - a dropped connection (`dropConnections`): both ends reset at once with ECONNRESET;
 * - a partition between two sets of hosts: nothing crosses, in either direction. Bytes are
 *   held and delivered after `heal()` (mode 'hold', what TCP's retransmission gives once a
 *   route comes back) or lost for good (mode 'drop': the connection stalls forever, only a
 *   keep-alive or a timeout notices). Dials across a partition wait, as a SYN does;
 * - a black hole: a host whose traffic, in and out, vanishes (a partition of one host from
 *   everyone else, 'drop' by default);
 * - a peer that restarts: its connections reset, its listeners close and, after `downMs` on
 *   the clock, open again on the same ports with the same handlers.
 *
 * Deterministic: there are no sockets and nothing else runs in between, segments are
 * delivered on clock timers (ties in the order sent) or, at zero latency, on the next turn
 * of the event loop, and the only randomness is the seeded source. The same seed and the
 * same test steps give the same run, event for event (`onEvent` shows them).
 */
import {
  createMemoryNetwork,
  type MemoryLink,
  type MemoryNetwork,
  type MemorySegment,
  type Transport,
  type TransportAddress,
  type TransportConnection,
  type TransportListenOptions,
  type TransportListener,
} from '@herald/net';
import type { TestClock } from '@herald/runtime';
import { TestingError } from './errors.js';

/** A link's one-way latency: fixed, or drawn uniformly from [min, max] for each segment. */
export type SimLatency = number | { readonly min: number; readonly max: number };

/** What happens to bytes that meet a partition or a black hole. */
export type SimFaultMode = 'hold' | 'drop';

/** Everything the simulated network does, in order, for tracing and determinism checks. */
export type SimEvent =
  | SimSegmentEvent
  | {
      readonly type: 'reset';
      readonly at: number;
      readonly client: string;
      readonly server: string;
    }
  | { readonly type: 'fault' | 'heal'; readonly at: number; readonly fault: string }
  | { readonly type: 'down' | 'up'; readonly at: number; readonly host: string };

/** A segment delivered, held by a fault, or dropped by one. */
export interface SimSegmentEvent extends SegmentRoute {
  readonly type: 'deliver' | 'hold' | 'drop';
  readonly at: number;
}

/** Which link a segment was on (`host:port` of each end) and what it was. */
export interface SegmentRoute {
  readonly from: string;
  readonly to: string;
  readonly segment: MemorySegment['kind'];
  readonly bytes: number;
}

export interface SimNetworkOptions {
  /** The clock that times delivery, restarts and everything the topology under test does. */
  readonly clock: TestClock;
  /** Seed of the random source (latency ranges, and `random()` for the test's own use). */
  readonly seed: number;
  /** Latency of every link not set with `setLatency`; default 0 (next event-loop turn). */
  readonly latency?: SimLatency;
  /** Bytes in flight per direction before writers wait (the memory transport's window). */
  readonly windowBytes?: number;
  /** Called for every event; see {@link SimEvent}. */
  readonly onEvent?: (event: SimEvent) => void;
}

/** A partition or black hole that is in force until `heal()`. */
export interface SimFault {
  readonly name: string;
  readonly mode: SimFaultMode;
  readonly active: boolean;
  /** Ends the fault; held bytes are sent on again, in order, with fresh latency. */
  heal(): void;
}

/** One host of the simulated network: a process of the topology. */
export interface SimNode {
  readonly host: string;
  /** The transport this process listens and dials with. */
  readonly transport: Transport;
  /** True between `stop()` and `start()`. */
  readonly down: boolean;
  /** The process dies: its connections are reset, its listeners close (they will re-open). */
  stop(): void;
  /** The process is back: the listeners that `stop()` closed open again on their ports. */
  start(): Promise<void>;
  /**
   * `stop()`, then `start()` once the clock has moved `downMs` (at once when 0). Resolves
   * when the listeners are open again.
   */
  restart(options?: { readonly downMs?: number }): Promise<void>;
}

interface Held {
  readonly link: SimLink;
  readonly segment: MemorySegment;
  readonly arrive: () => void;
}

interface FaultState extends SimFault {
  readonly blocks: (from: string, to: string) => boolean;
  readonly held: Held[];
}

interface SimLink {
  readonly from: TransportAddress;
  readonly to: TransportAddress;
  /** Latest delivery time scheduled, so a smaller random latency never overtakes. */
  last: number;
}

interface ListenRecord {
  readonly at: TransportAddress;
  readonly onConnection: (connection: TransportConnection) => void;
  readonly options: TransportListenOptions | undefined;
  current: TransportListener | undefined;
  closed: boolean;
}

/** mulberry32: a small, fast, well-distributed 32-bit generator; enough for a simulation. */
export function seededRandom(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Throws HERALD_ERR_BAD_OPTION unless `latency` is a whole number ≥ 0 or a range min ≤ max of them. */
function checkLatency(latency: SimLatency): void {
  const whole = (n: unknown): boolean => typeof n === 'number' && Number.isInteger(n) && n >= 0;
  const ok =
    typeof latency === 'number'
      ? whole(latency)
      : whole(latency.min) && whole(latency.max) && latency.min <= latency.max;
  if (!ok)
    throw new TestingError(
      'HERALD_ERR_BAD_OPTION',
      `simnet: latency must be whole milliseconds ≥ 0 or { min ≤ max }, got ${JSON.stringify(latency)}`,
    );
}

function label(address: TransportAddress): string {
  return `${address.host}:${address.port}`;
}

function pairKey(a: string, b: string): string {
  return a < b ? `${a}\n${b}` : `${b}\n${a}`;
}

export class SimNetwork {
  readonly clock: TestClock;
  readonly memory: MemoryNetwork;
  readonly #random: () => number;
  readonly #defaultLatency: SimLatency;
  readonly #latency = new Map<string, SimLatency>();
  readonly #faults: FaultState[] = [];
  readonly #nodes = new Map<string, SimNode>();
  readonly #onEvent: ((event: SimEvent) => void) | undefined;

  constructor(options: SimNetworkOptions) {
    this.clock = options.clock;
    this.#random = seededRandom(options.seed);
    this.#defaultLatency = options.latency ?? 0;
    checkLatency(this.#defaultLatency);
    this.#onEvent = options.onEvent;
    this.memory = createMemoryNetwork({
      link: (from, to) => this.#link(from, to),
      ...(options.windowBytes !== undefined && { windowBytes: options.windowBytes }),
    });
  }

  /** The next number of the seeded source, in [0, 1). */
  random(): number {
    return this.#random();
  }

  /** The host `name` (made on first use). */
  node(name: string): SimNode {
    let node = this.#nodes.get(name);
    if (node === undefined) {
      node = this.#makeNode(name);
      this.#nodes.set(name, node);
    }
    return node;
  }

  /** Sets the latency between hosts `a` and `b`, both directions, for segments sent from now on. */
  setLatency(a: string, b: string, latency: SimLatency): void {
    checkLatency(latency);
    this.#latency.set(pairKey(a, b), latency);
  }

  /** Nothing crosses between a host in `side` and a host in `other` ('rest': every other host). */
  partition(
    side: readonly string[],
    other: readonly string[] | 'rest',
    mode: SimFaultMode = 'hold',
  ): SimFault {
    const inSide = new Set(side);
    const inOther = (host: string): boolean =>
      other === 'rest' ? !inSide.has(host) : other.includes(host);
    const name = `partition [${side.join(',')}] | [${other === 'rest' ? '*' : other.join(',')}] (${mode})`;
    return this.#addFault(
      name,
      mode,
      (from, to) => (inSide.has(from) && inOther(to)) || (inSide.has(to) && inOther(from)),
    );
  }

  /** Everything to and from `host` vanishes (or, mode 'hold', waits for `heal()`). */
  blackHole(host: string, mode: SimFaultMode = 'drop'): SimFault {
    return this.#addFault(
      `black hole ${host} (${mode})`,
      mode,
      (from, to) => from !== to && (from === host || to === host),
    );
  }

  /** Heals every fault in force. */
  heal(): void {
    for (const fault of [...this.#faults]) fault.heal();
  }

  /**
   * Resets the connections between hosts `a` and `b` (every connection of `a` when `b` is
   * omitted): both ends are destroyed at once with `code`. Returns how many.
   */
  dropConnections(a: string, b?: string, code = 'ECONNRESET'): number {
    let count = 0;
    for (const connection of this.memory.connections()) {
      const client = connection.client.host;
      const server = connection.server.host;
      const between =
        b === undefined
          ? client === a || server === a
          : (client === a && server === b) || (client === b && server === a);
      if (!between) continue;
      this.#emit({
        type: 'reset',
        at: this.clock.now(),
        client: label(connection.client),
        server: label(connection.server),
      });
      connection.reset(code);
      count++;
    }
    return count;
  }

  #emit(event: SimEvent): void {
    this.#onEvent?.(event);
  }

  #addFault(name: string, mode: SimFaultMode, blocks: FaultState['blocks']): SimFault {
    const held: Held[] = [];
    let active = true;
    const fault: FaultState = {
      name,
      mode,
      blocks,
      held,
      get active() {
        return active;
      },
      heal: () => {
        if (!active) return;
        active = false;
        this.#faults.splice(this.#faults.indexOf(fault), 1);
        this.#emit({ type: 'heal', at: this.clock.now(), fault: name });
        for (const item of held.splice(0)) this.#carry(item.link, item.segment, item.arrive);
      },
    };
    this.#faults.push(fault);
    this.#emit({ type: 'fault', at: this.clock.now(), fault: name });
    return fault;
  }

  #faultBetween(from: string, to: string): FaultState | undefined {
    return this.#faults.find((fault) => fault.blocks(from, to));
  }

  #link(from: TransportAddress, to: TransportAddress): MemoryLink {
    const link: SimLink = { from, to, last: 0 };
    return { carry: (segment, arrive) => this.#carry(link, segment, arrive) };
  }

  #latencyOf(from: string, to: string): number {
    const latency = this.#latency.get(pairKey(from, to)) ?? this.#defaultLatency;
    if (typeof latency === 'number') return latency;
    return latency.min + Math.floor(this.#random() * (latency.max - latency.min + 1));
  }

  #carry(link: SimLink, segment: MemorySegment, arrive: () => void): void {
    if (this.#blocked(link, segment, arrive)) return;
    const now = this.clock.now();
    const delay = this.#latencyOf(link.from.host, link.to.host);
    const at = Math.max(now + delay, link.last);
    link.last = at;
    const land = (): void => {
      // A fault that started while the segment was on its way catches it too.
      if (this.#blocked(link, segment, arrive)) return;
      this.#emit({ type: 'deliver', at: this.clock.now(), ...this.#route(link, segment) });
      arrive();
    };
    if (at === now) setImmediate(land);
    else this.clock.setTimeout(land, at - now);
  }

  #route(link: SimLink, segment: MemorySegment): SegmentRoute {
    return {
      from: label(link.from),
      to: label(link.to),
      segment: segment.kind,
      bytes: segment.bytes,
    };
  }

  #blocked(link: SimLink, segment: MemorySegment, arrive: () => void): boolean {
    const fault = this.#faultBetween(link.from.host, link.to.host);
    if (fault === undefined) return false;
    this.#emit({ type: fault.mode, at: this.clock.now(), ...this.#route(link, segment) });
    if (fault.mode === 'hold') fault.held.push({ link, segment, arrive });
    return true;
  }

  #makeNode(host: string): SimNode {
    const memory = this.memory.transport(host);
    const records: ListenRecord[] = [];
    let down = false;
    const open = async (record: ListenRecord): Promise<TransportListener> => {
      const listener = await memory.listen(record.at, record.onConnection, record.options);
      record.current = listener;
      return listener;
    };
    const transport: Transport = {
      name: 'memory',
      dial: (to, options) => memory.dial(to, options),
      listen: async (at, onConnection, options) => {
        const record: ListenRecord = {
          at,
          onConnection,
          options,
          current: undefined,
          closed: false,
        };
        const listener = await open(record);
        // Re-opened on the port it got, even when 0 was asked.
        const fixed: ListenRecord = { ...record, at: listener.address, current: listener };
        records.push(fixed);
        return {
          address: listener.address,
          close: async () => {
            fixed.closed = true;
            records.splice(records.indexOf(fixed), 1);
            await fixed.current?.close();
            fixed.current = undefined;
          },
        };
      },
    };
    const node: SimNode = {
      host,
      transport,
      get down() {
        return down;
      },
      stop: () => {
        if (down) return;
        down = true;
        this.#emit({ type: 'down', at: this.clock.now(), host });
        for (const record of records) {
          void record.current?.close();
          record.current = undefined;
        }
        this.dropConnections(host);
      },
      start: async () => {
        if (!down) return;
        down = false;
        this.#emit({ type: 'up', at: this.clock.now(), host });
        for (const record of records) if (!record.closed) await open(record);
      },
      restart: (options = {}) => {
        node.stop();
        const downMs = options.downMs ?? 0;
        if (downMs <= 0) return node.start();
        return new Promise<void>((resolve, reject) => {
          this.clock.setTimeout(() => node.start().then(resolve, reject), downMs);
        });
      },
    };
    return node;
  }
}

/** A simulated network on `options.clock`, seeded with `options.seed`. */
export function createSimNetwork(options: SimNetworkOptions): SimNetwork {
  return new SimNetwork(options);
}
