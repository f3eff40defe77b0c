/**
 * The relay transport: a net Transport whose connections are byte streams carried over NATS
 * subjects, for two processes that both reach a NATS server but cannot reach each other
 * (NAT, firewalls, no routable address). Everything above the transport (Herald's
 * handshake, encryption, framing, proxies, addresses and replies) is the same as over TCP:
 * messages flow through NATS instead, with the same addresses and semantics.
 *
 * Addresses: a relay transport owns a subject prefix (unique per transport: a process
 * name plus a random part is a good one). `listen({ host: prefix, port })` listens on the
 * subject `<prefix>.l.<port>` (port 0: a free port is chosen); `dial({ host: prefix, port })`
 * reaches it. That subject is what a discovery listing's `relay` field carries
 * (`relaySubjectOf`, `parseRelaySubject`).
 *
 * Set-up: the dialer publishes CONNECT to the listen subject with its own stream subject
 * (`<its prefix>.s.<random id>`) as the NATS reply subject; the listener answers on it with
 * ACCEPT naming its own stream subject. Nobody listening: the NATS server's no-responders
 * status (or a REFUSE from a listener at its stream limit) fails the dial with
 * ECONNREFUSED; no answer within `dialTimeoutMs`: ETIMEDOUT. Each transport holds one
 * subscription (`<prefix>.s.*`) for all its streams and one per listener.
 *
 * NATS subject permissions are the access control of the relay: whoever may publish to a
 * listen subject may connect to it (and Herald's own handshake then authenticates them).
 */
import { randomBytes } from 'node:crypto';
import { systemClock, type Clock } from '@herald/runtime';
import {
  transportError,
  type Transport,
  type TransportAddress,
  type TransportConnection,
  type TransportDialOptions,
  type TransportListener,
  type TransportListenOptions,
} from '@herald/net';
import type { Msg, NatsConnection, Subscription } from 'nats';
import { DiscoveryError } from '../errors.js';
import {
  DEFAULT_RELAY_DIAL_TIMEOUT_MS,
  DEFAULT_RELAY_KEEPALIVE_MS,
  DEFAULT_RELAY_MAX_CHUNK_BYTES,
  DEFAULT_RELAY_MAX_STREAMS,
  DEFAULT_RELAY_TIMEOUT_MS,
  DEFAULT_RELAY_WINDOW_BYTES,
  RELAY_EPHEMERAL_PORT_FIRST,
  RELAY_EPHEMERAL_PORT_LAST,
} from './constants.js';
import {
  decodeRelayFrame,
  encodeConnect,
  encodeRefuse,
  encodeReset,
  isRelaySubject,
} from './relay-frames.js';
import { RelayStream } from './relay-stream.js';

/** Bytes of a DATA frame before its payload (type and sequence number). */
const FRAME_HEADER_BYTES = 5;

/** High-water mark of each relay stream's readable and writable buffers (Node's default). */
const STREAM_HIGH_WATER_BYTES = 16 * 1024;

/** Largest window a peer may advertise that we honour (more is clamped). */
const MAX_PEER_WINDOW_BYTES = 64 * 1024 * 1024;

/** Host names that mean "this transport's prefix" when listening. */
const WILDCARD_HOSTS: ReadonlySet<string> = new Set(['', '0.0.0.0', '::']);

export interface NatsRelayOptions {
  /** Bytes the peer may send before this side's reader acknowledges them; default {@link DEFAULT_RELAY_WINDOW_BYTES}. */
  readonly windowBytes?: number;
  /** Largest DATA frame (and NATS message) payload; default {@link DEFAULT_RELAY_MAX_CHUNK_BYTES}. */
  readonly maxChunkBytes?: number;
  /** Quiet time before a PING; default {@link DEFAULT_RELAY_KEEPALIVE_MS}. */
  readonly keepaliveMs?: number;
  /** Peer silence before the stream closes with `peer-timeout`; default {@link DEFAULT_RELAY_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Time a dial waits for ACCEPT; default {@link DEFAULT_RELAY_DIAL_TIMEOUT_MS}. */
  readonly dialTimeoutMs?: number;
  /** Streams held at once (dialed and accepted); more connects are refused. Default {@link DEFAULT_RELAY_MAX_STREAMS}. */
  readonly maxStreams?: number;
  /** Timers (keep-alive, timeouts); default the system clock. */
  readonly clock?: Clock;
}

interface PendingDial {
  readonly kind: 'dial';
  readonly local: TransportAddress;
  readonly to: TransportAddress;
  /** Undefined once the dial was given up (aborted, timed out): a late ACCEPT is reset. */
  settle: ((outcome: RelayStream | Error) => void) | undefined;
}

type Entry = PendingDial | { readonly kind: 'stream'; readonly stream: RelayStream };

/** The listen subject of a relay address: what a listing's `relay` field carries. */
export function relaySubjectOf(address: TransportAddress): string {
  return `${address.host}.l.${address.port}`;
}

/** The relay address to dial for a listing's `relay` subject; undefined if it is not one. */
export function parseRelaySubject(subject: string): TransportAddress | undefined {
  const match = /^(.+)\.l\.(\d{1,10})$/.exec(subject);
  if (match === null) return undefined;
  const host = match[1] as string;
  const port = Number(match[2]);
  if (!isRelaySubject(host) || port < 1 || port > 0xffffffff) return undefined;
  return { host, port };
}

function checkWhole(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min)
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      `natsRelayTransport: ${name} must be a whole number of at least ${min}, got ${value}`,
    );
}

function abortError(): Error {
  return Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function aborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}

function randomId(): string {
  return randomBytes(9).toString('base64url');
}

/** A relay transport over `nc`, listening and dialing as `subjectPrefix`. */
export class NatsRelayTransport implements Transport {
  readonly name: string = 'nats-relay';
  /** This transport's subject prefix: the `host` of its addresses. */
  readonly prefix: string;
  readonly #nc: NatsConnection;
  readonly #window: number;
  readonly #maxChunk: number;
  readonly #keepaliveMs: number;
  readonly #timeoutMs: number;
  readonly #dialTimeoutMs: number;
  readonly #maxStreams: number;
  readonly #clock: Clock;
  readonly #entries = new Map<string, Entry>();
  readonly #listening = new Map<number, Subscription>();
  #streamSub: Promise<Subscription> | undefined;
  #nextPort = RELAY_EPHEMERAL_PORT_FIRST;
  #streams = 0;

  /** Throws HERALD_ERR_BAD_OPTION for a prefix that is not a plain NATS subject or a bad option. */
  constructor(nc: NatsConnection, subjectPrefix: string, options: NatsRelayOptions = {}) {
    if (!isRelaySubject(subjectPrefix))
      throw new DiscoveryError(
        'HERALD_ERR_BAD_OPTION',
        `natsRelayTransport: ${JSON.stringify(subjectPrefix)} is not a plain NATS subject`,
      );
    checkWhole('windowBytes', options.windowBytes, 1);
    checkWhole('maxChunkBytes', options.maxChunkBytes, 1);
    checkWhole('keepaliveMs', options.keepaliveMs, 1);
    checkWhole('timeoutMs', options.timeoutMs, 1);
    checkWhole('dialTimeoutMs', options.dialTimeoutMs, 1);
    checkWhole('maxStreams', options.maxStreams, 1);
    this.#nc = nc;
    this.prefix = subjectPrefix;
    this.#window = Math.min(options.windowBytes ?? DEFAULT_RELAY_WINDOW_BYTES, 0xffffffff);
    this.#maxChunk = options.maxChunkBytes ?? DEFAULT_RELAY_MAX_CHUNK_BYTES;
    this.#keepaliveMs = options.keepaliveMs ?? DEFAULT_RELAY_KEEPALIVE_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_RELAY_TIMEOUT_MS;
    this.#dialTimeoutMs = options.dialTimeoutMs ?? DEFAULT_RELAY_DIAL_TIMEOUT_MS;
    this.#maxStreams = options.maxStreams ?? DEFAULT_RELAY_MAX_STREAMS;
    this.#clock = options.clock ?? systemClock;
    void nc.closed().then(() => {
      for (const entry of [...this.#entries.values()]) {
        if (entry.kind === 'stream') entry.stream.natsClosed();
        else entry.settle?.(transportError('ECONNRESET', 'the NATS connection closed'));
      }
    });
  }

  /** Open relay streams (dialed and accepted). */
  get streams(): number {
    return this.#streams;
  }

  async dial(
    to: TransportAddress,
    options: TransportDialOptions = {},
  ): Promise<TransportConnection> {
    const signal = options.signal;
    if (signal?.aborted === true) throw abortError();
    if (
      !isRelaySubject(to.host) ||
      !Number.isInteger(to.port) ||
      to.port < 0 ||
      to.port > 0xffffffff
    )
      throw transportError('EINVAL', `dial ${to.host}:${to.port}: not a relay address`);
    if (this.#streams >= this.#maxStreams)
      throw transportError('EMFILE', `dial: ${this.#maxStreams} relay streams open`);
    await this.#subscribeStreams();
    // (A function call, so the check is not narrowed away by the one before the await.)
    if (aborted(signal)) throw abortError();
    const id = randomId();
    const subject = `${this.prefix}.s.${id}`;
    const local: TransportAddress = { host: this.prefix, port: this.#ephemeralPort() };
    const pending: PendingDial = { kind: 'dial', local, to, settle: undefined };
    const answer = new Promise<RelayStream | Error>((resolve) => {
      pending.settle = resolve;
    });
    this.#entries.set(id, pending);
    const timer = this.#clock.setTimeout(
      () => pending.settle?.(transportError('ETIMEDOUT', `dial ${relaySubjectOf(to)}: no answer`)),
      this.#dialTimeoutMs,
    );
    const onAbort = (): void => pending.settle?.(abortError());
    signal?.addEventListener('abort', onAbort, { once: true });
    try {
      this.#nc.publish(relaySubjectOf(to), encodeConnect(this.#window, local.port, this.prefix), {
        reply: subject,
      });
    } catch (error) {
      pending.settle?.(transportError('ECONNRESET', `dial: ${(error as Error).message}`));
    }
    const outcome = await answer;
    pending.settle = undefined;
    this.#clock.clearTimeout(timer);
    signal?.removeEventListener('abort', onAbort);
    if (outcome instanceof Error) {
      // A late ACCEPT still finds the entry and is reset; forget it after the dial timeout.
      if (this.#entries.get(id) === pending)
        this.#clock.setTimeout(() => {
          if (this.#entries.get(id) === pending) this.#entries.delete(id);
        }, this.#dialTimeoutMs);
      throw outcome;
    }
    return { stream: outcome, local, remote: to };
  }

  async listen(
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
    options: TransportListenOptions = {},
  ): Promise<TransportListener> {
    if (!WILDCARD_HOSTS.has(at.host) && at.host !== this.prefix)
      throw transportError('EADDRNOTAVAIL', `listen ${at.host}:${at.port}: not ${this.prefix}`);
    if (!Number.isInteger(at.port) || at.port < 0 || at.port > 0xffffffff)
      throw transportError(
        'ERR_SOCKET_BAD_PORT',
        `listen ${at.host}:${at.port}: port out of range`,
      );
    const port = at.port === 0 ? this.#ephemeralPort() : at.port;
    if (this.#listening.has(port))
      throw transportError('EADDRINUSE', `listen EADDRINUSE: ${this.prefix}:${port} in use`);
    await this.#subscribeStreams();
    const address: TransportAddress = { host: this.prefix, port };
    const sub = this.#nc.subscribe(relaySubjectOf(address), {
      callback: (error, msg) => {
        if (error !== null) options.onError?.(error);
        else this.#accept(msg, address, onConnection);
      },
    });
    this.#listening.set(port, sub);
    // The server knows of the subscription before a dialer is told where we listen.
    await this.#nc.flush();
    return {
      address,
      close: async () => {
        if (this.#listening.get(port) !== sub) return;
        this.#listening.delete(port);
        sub.unsubscribe();
        if (!this.#nc.isClosed()) await this.#nc.flush().catch(() => undefined);
      },
    };
  }

  #accept(
    msg: Msg,
    address: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
  ): void {
    const reply = msg.reply;
    // Garbage on a listen subject is not answered: there is nobody to answer reliably.
    if (reply === undefined || !isRelaySubject(reply)) return;
    const frame = decodeRelayFrame(msg.data, this.#maxChunk);
    if (frame.type !== 'connect') return;
    if (this.#streams >= this.#maxStreams) {
      this.#publish(reply, encodeRefuse());
      return;
    }
    const id = randomId();
    const remote: TransportAddress = { host: frame.host, port: frame.port };
    const stream = this.#open(id, {
      peerSubject: reply,
      peerWindow: frame.window,
      local: address,
      remote,
      acceptWith: `${this.prefix}.s.${id}`,
    });
    onConnection({ stream, local: address, remote });
  }

  #open(
    id: string,
    params: {
      peerSubject: string;
      peerWindow: number;
      local: TransportAddress;
      remote: TransportAddress;
      acceptWith?: string;
    },
  ): RelayStream {
    this.#streams++;
    const stream = new RelayStream({
      ...params,
      peerWindow: Math.min(params.peerWindow, MAX_PEER_WINDOW_BYTES),
      publish: (subject, frame) => this.#nc.publish(subject, frame),
      window: this.#window,
      // Never more than the server takes in one message (its max_payload, less the header).
      maxChunkBytes: Math.max(
        1,
        Math.min(this.#maxChunk, (this.#nc.info?.max_payload ?? Infinity) - FRAME_HEADER_BYTES),
      ),
      keepaliveMs: this.#keepaliveMs,
      timeoutMs: this.#timeoutMs,
      clock: this.#clock,
      highWaterMark: STREAM_HIGH_WATER_BYTES,
      onGone: () => {
        this.#streams--;
        this.#entries.delete(id);
      },
    });
    this.#entries.set(id, { kind: 'stream', stream });
    return stream;
  }

  /** Frames for the streams of this transport, by the last token of their subject. */
  #onStreamMessage(msg: Msg): void {
    const id = msg.subject.slice(msg.subject.lastIndexOf('.') + 1);
    const entry = this.#entries.get(id);
    if (entry === undefined) return;
    if (entry.kind === 'stream') {
      entry.stream.receive(msg.data);
      return;
    }
    const status = msg.headers?.code ?? 0;
    if (status === 503) {
      entry.settle?.(
        transportError('ECONNREFUSED', `connect ECONNREFUSED ${relaySubjectOf(entry.to)}`),
      );
      this.#entries.delete(id);
      return;
    }
    const frame = decodeRelayFrame(msg.data, this.#maxChunk);
    if (frame.type === 'refuse') {
      entry.settle?.(
        transportError('ECONNREFUSED', `connect ECONNREFUSED ${relaySubjectOf(entry.to)}`),
      );
      this.#entries.delete(id);
      return;
    }
    if (entry.settle !== undefined) {
      // The stream opens here, synchronously, so frames right behind the ACCEPT find it.
      if (frame.type === 'accept' && frame.seq === 0) {
        entry.settle(
          this.#open(id, {
            peerSubject: frame.subject,
            peerWindow: frame.window,
            local: entry.local,
            remote: entry.to,
          }),
        );
      } else {
        this.#entries.delete(id);
        entry.settle(transportError('ECONNRESET', `dial ${relaySubjectOf(entry.to)}: bad answer`));
      }
      return;
    }
    // The dial was given up before its ACCEPT came: reset the listener's new stream.
    this.#entries.delete(id);
    if (frame.type === 'accept') this.#publish(frame.subject, encodeReset(0, 'closed'));
  }

  #subscribeStreams(): Promise<Subscription> {
    this.#streamSub ??= (async () => {
      const sub = this.#nc.subscribe(`${this.prefix}.s.*`, {
        callback: (error, msg) => {
          if (error === null) this.#onStreamMessage(msg);
        },
      });
      await this.#nc.flush();
      return sub;
    })();
    return this.#streamSub;
  }

  #publish(subject: string, frame: Uint8Array): void {
    try {
      this.#nc.publish(subject, frame);
    } catch {
      // The connection is closed: the peer learns by its timeout.
    }
  }

  #ephemeralPort(): number {
    const span = RELAY_EPHEMERAL_PORT_LAST - RELAY_EPHEMERAL_PORT_FIRST + 1;
    for (let tries = 0; tries < span; tries++) {
      const port = this.#nextPort;
      this.#nextPort = port === RELAY_EPHEMERAL_PORT_LAST ? RELAY_EPHEMERAL_PORT_FIRST : port + 1;
      if (!this.#listening.has(port)) return port;
    }
    return RELAY_EPHEMERAL_PORT_FIRST;
  }

  /** Destroys every stream and stops every listener (the NATS connection stays open). */
  async close(): Promise<void> {
    for (const sub of this.#listening.values()) sub.unsubscribe();
    this.#listening.clear();
    for (const entry of [...this.#entries.values()]) {
      if (entry.kind === 'stream') entry.stream.destroy();
      else entry.settle?.(transportError('ECONNRESET', 'the relay transport closed'));
    }
    const sub = await this.#streamSub?.catch(() => undefined);
    sub?.unsubscribe();
    this.#streamSub = undefined;
  }
}

/**
 * A net Transport over NATS subjects (contracts §5): `nc` is a connected NATS client,
 * `subjectPrefix` this transport's own prefix (unique per transport). See the file comment.
 */
export function natsRelayTransport(
  nc: NatsConnection,
  subjectPrefix: string,
  options: NatsRelayOptions = {},
): NatsRelayTransport {
  return new NatsRelayTransport(nc, subjectPrefix, options);
}
