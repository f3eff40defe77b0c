/**
 * SocketProxy: the actor that stands for the peer of one TCP connection.
 *
 * Sending to the proxy, or to any address reached through it (a hop stack ending in the
 * proxy's id), delivers on the far side. The proxy translates addresses hop by hop
 * (wire/address-translation.ts), encodes bodies with the connection's stream codec,
 * batches frames into one socket write per event-loop turn, relays messages for others
 * without decoding their bodies, keeps the connection alive, and reports the connection's
 * life to its controller as messages (Connected/Accepted, Closed/Abandoned, Congested/
 * Drained). Everything here runs on the actor's turn: socket events are turned into calls
 * on this object, never into work done behind the runtime's back.
 */
import {
  Address,
  BODY_FLAG_STREAM,
  isCodecError,
  type AnyMessage,
  type CodecStream,
} from '@herald/codec';
import {
  Aborted,
  Completed,
  Stop,
  Terminated,
  Timer,
  Unwatch,
  Watch,
  unwrapBehavior,
  type Envelope,
  type Handler,
  type Logger,
  type Self,
} from '@herald/runtime';
import type { Socket } from 'node:net';
import {
  DEFAULT_CLOSE_LINGER_MS,
  DEFAULT_EAGER_FLUSH_BYTES,
  DEFAULT_FLUSH_BUDGET_BYTES,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_BYTES,
  DEFAULT_KEEPALIVE_IDLE_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_LOW_WATER_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
} from './constants.js';
import {
  Abandoned,
  Accepted,
  AwaitDrain,
  Close,
  Closed,
  Congested,
  Connected,
  Drained,
  NotConnected,
  type HostPort,
} from './messages.js';
import type { Network } from './network.js';
import type { ConnectionOptions, SessionContext } from './options.js';
import {
  CloseReason,
  closeReasonName,
  inboundAddress,
  inboundTo,
  outboundAddress,
  outboundTo,
  WireSession,
  type SessionEvent,
  type WireMessage,
} from './wire/index.js';

/** Internal message: a frame passing through this process, body still encoded. */
export const RELAY_TYPE = 'herald.Relay';
interface Relay extends AnyMessage {
  readonly type: typeof RELAY_TYPE;
  readonly wire: WireMessage;
  /** Body addresses, already relative to this process. */
  readonly space: readonly Address[];
}

const KEEPALIVE_TIMER = 'herald.keepalive';
const HANDSHAKE_TIMER = 'herald.handshake';
/** Rough per-message framing overhead, for the outbound-bytes estimate. */
const FRAME_OVERHEAD = 24;

type Phase = 'connecting' | 'handshaking' | 'open' | 'ended';

export interface ProxySetup {
  readonly network: Network;
  readonly role: 'connector' | 'acceptor';
  readonly socket: Socket;
  readonly controller: Address;
  readonly options: ConnectionOptions;
  /** connect(): what was asked. */
  readonly requested?: HostPort;
  /** listen(): where we listen. */
  readonly listening?: HostPort;
}

interface RemoteWatch {
  readonly target: Address;
  readonly watchers: Map<string, Address>;
}

export class SocketProxy implements Handler {
  readonly name = 'SocketProxy';
  readonly #setup: ProxySetup;
  readonly #socket: Socket;
  readonly #wire: WireSession;
  readonly #stream: CodecStream;
  #self!: Self;
  #logBindings: Record<string, unknown> = {};
  #logCache: Logger | undefined;
  #phase: Phase;
  #peer: HostPort = { host: '', port: 0 };
  #opened = new Date(0);
  #session: Address | undefined;
  #defaultTarget!: Address;
  #flushScheduled = false;
  #queuedBytes = 0;
  #congested = false;
  #drainWaiters: Address[] = [];
  #lastReceived = 0;
  #pingSentAt = -1;
  #pingSeq = 0;
  #watches = new Map<string, RemoteWatch>();
  readonly #highWater: number;
  readonly #lowWater: number;
  readonly #maxPending: number;

  constructor(setup: ProxySetup) {
    this.#setup = setup;
    this.#socket = setup.socket;
    const o = setup.options;
    this.#phase = setup.role === 'connector' ? 'connecting' : 'handshaking';
    this.#wire = new WireSession({
      role: setup.role,
      encrypt: o.encrypted === true,
      keepaliveMs: o.keepaliveIdleMs ?? DEFAULT_KEEPALIVE_IDLE_MS,
      cipherSuite: o.cipherSuite ?? setup.network.cipherSuite,
      ...(o.maxFrameBytes === undefined ? {} : { maxFrameBytes: o.maxFrameBytes }),
      ...(o.maxMessageBytes === undefined ? {} : { maxMessageBytes: o.maxMessageBytes }),
    });
    this.#stream = setup.network.codec.createStream();
    this.#highWater = o.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.#lowWater = Math.min(o.lowWaterBytes ?? DEFAULT_LOW_WATER_BYTES, this.#highWater);
    this.#maxPending = o.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES;
  }

  /**
   * This connection's logger: the actor's child logger bound to `conn`, `role` and `peer`.
   * Rebuilt when the actor's level changed (pino children do not follow their parent).
   */
  get #log(): Logger {
    const base = this.#self.log;
    if (this.#logCache === undefined || this.#logCache.level !== base.level) {
      this.#logCache = base.child(this.#logBindings);
    }
    return this.#logCache;
  }

  /** The address of this proxy. */
  get address(): Address {
    return this.#self.address;
  }

  // ---- actor life ----------------------------------------------------------------------

  start(self: Self): void {
    this.#self = self;
    const network = this.#setup.network;
    network.proxies.set(self.address.local, this);
    network.sockets.add(this.#socket);
    this.#defaultTarget = this.#setup.controller;
    this.#logBindings = { conn: network.nextConnectionId(), role: this.#setup.role };
    self.watch(this.#setup.controller);
    const socket = this.#socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => this.#guard(() => this.#onData(chunk)));
    socket.on('end', () => this.#guard(() => this.#onEnd()));
    socket.on('error', (error: NodeJS.ErrnoException) =>
      this.#guard(() => this.#onSocketError(error)),
    );
    socket.on('close', () =>
      this.#guard(() => {
        network.sockets.delete(socket);
        if (this.#phase !== 'ended') this.#finish('abandoned', 'connection-lost', undefined);
      }),
    );
    socket.on('drain', () =>
      this.#guard(() => {
        this.#flush();
        this.#checkDrained();
      }),
    );
    if (this.#setup.role === 'connector' && socket.connecting) {
      socket.once('connect', () => this.#guard(() => this.#beginHandshake()));
    } else {
      this.#beginHandshake();
    }
  }

  /**
   * Runs a socket callback. Anything it throws is a defect in this connection's handling:
   * it fails this one connection (logged with the error), never the process.
   */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#log.error({ err: error }, 'connection handling failed');
      try {
        this.#fail(CloseReason.INTERNAL_ERROR, 'internal error');
      } catch {
        this.#socket.destroy();
        this.#finish('abandoned', 'internal-error', undefined);
      }
    }
  }

  #beginHandshake(): void {
    if (this.#phase === 'ended') return;
    this.#phase = 'handshaking';
    this.#peer = { host: this.#socket.remoteAddress ?? '', port: this.#socket.remotePort ?? 0 };
    this.#logBindings = { ...this.#logBindings, peer: `${this.#peer.host}:${this.#peer.port}` };
    this.#logCache = undefined;
    this.#lastReceived = this.#self.runtime.clock.now();
    this.#self.startTimer(
      HANDSHAKE_TIMER,
      this.#setup.options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS,
    );
    this.#socket.write(this.#wire.start());
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    if (envelope.to.isLocal) {
      // Addressed to the proxy itself: control, or a message for the peer's default target.
      switch (message.type) {
        case Close.type:
          this.#close((message as Close).value, 'closed-by-request');
          return;
        case AwaitDrain.type:
          if (this.#congested) this.#drainWaiters.push(envelope.from);
          else self.reply(Drained({ remote: self.address, pendingBytes: this.#pendingBytes() }));
          return;
        case Timer.type:
          if (envelope.from.equals(self.address)) {
            this.#onTimer((message as Timer).key);
            return;
          }
          break;
        case Completed.type:
          if (this.#session !== undefined && envelope.from.equals(this.#session)) {
            this.#session = undefined;
            this.#close((message as Completed).value, 'session-completed');
            return;
          }
          break;
        case Terminated.type:
          if (envelope.from.equals(this.#setup.controller)) {
            this.#close(undefined, 'controller-ended');
            return;
          }
          break;
      }
    }
    if (message.type === RELAY_TYPE) {
      this.#sendRelay(message as Relay, envelope);
      return;
    }
    this.#sendMessage(message, envelope);
  }

  onStop(): void {
    this.#close(Aborted(), 'stopped');
  }

  end(): void {
    this.#setup.network.proxies.delete(this.#self.address.local);
    if (this.#self.runtime.isAlive(this.#setup.controller))
      this.#self.unwatch(this.#setup.controller);
  }

  // ---- outbound ------------------------------------------------------------------------

  #sendMessage(message: AnyMessage, envelope: Envelope): void {
    if (!this.#admit(envelope)) return;
    const id = this.#self.address.local;
    const to = outboundTo(envelope.to.hops, id);
    let encoded;
    try {
      encoded = this.#stream.encoder.encodeBody(message, to.length > 1 ? 'stateless' : 'stream');
    } catch (error) {
      this.#undeliverable(
        envelope,
        isCodecError(error) ? `${error.code}: ${error.message}` : String(error),
      );
      return;
    }
    if (message.type === Watch.type || message.type === Unwatch.type)
      this.#trackWatch(message.type, envelope);
    if (encoded.structureUpdate !== undefined) this.#wire.sendStructures(encoded.structureUpdate);
    const space =
      encoded.addresses.length === 0
        ? []
        : encoded.addresses.map((a) => outboundAddress(a.hops, id));
    this.#wire.send({
      bodyMode: encoded.flags,
      to,
      ret: outboundAddress(envelope.from.hops, id),
      typeName: message.type,
      space,
      body: encoded.body,
    });
    this.#queued(encoded.body.length + FRAME_OVERHEAD);
  }

  #sendRelay(relay: Relay, envelope: Envelope): void {
    if (!this.#admit(envelope)) return;
    const id = this.#self.address.local;
    this.#wire.send({
      bodyMode: relay.wire.bodyMode,
      to: outboundTo(envelope.to.hops, id),
      ret: outboundAddress(envelope.from.hops, id),
      typeName: relay.wire.typeName,
      space: relay.space.map((a) => outboundAddress(a.hops, id)),
      body: relay.wire.body,
    });
    this.#queued(relay.wire.body.length + FRAME_OVERHEAD);
  }

  /** Whether a message may be queued now; if not it becomes a dead letter. */
  #admit(envelope: Envelope): boolean {
    if (
      this.#phase === 'ended' ||
      this.#wire.state === 'closing' ||
      this.#wire.state === 'closed'
    ) {
      this.#undeliverable(envelope, 'connection closing');
      return false;
    }
    if (this.#pendingBytes() > this.#maxPending) {
      this.#undeliverable(envelope, `outbound buffer over ${this.#maxPending} bytes`);
      return false;
    }
    return true;
  }

  #undeliverable(envelope: Envelope, detail: string): void {
    this.#self.runtime.reportDeadLetter({
      to: envelope.to,
      from: envelope.from,
      message: envelope.message,
      reason: 'not-delivered',
      detail,
    });
  }

  #queued(bytes: number): void {
    this.#queuedBytes += bytes;
    if (!this.#congested && this.#pendingBytes() > this.#highWater) {
      this.#congested = true;
      this.#log.warn(
        { pendingBytes: this.#pendingBytes(), highWaterBytes: this.#highWater },
        'congested',
      );
      this.#self.send(
        this.#setup.controller,
        Congested({
          remote: this.#self.address,
          pendingBytes: this.#pendingBytes(),
          highWaterBytes: this.#highWater,
        }),
      );
    }
    if (this.#wire.batchBytes >= DEFAULT_EAGER_FLUSH_BYTES) this.#flush();
    else this.#scheduleFlush();
  }

  #pendingBytes(): number {
    return this.#queuedBytes + this.#socket.writableLength;
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    setImmediate(this.#flushTurn);
  }

  readonly #flushTurn = (): void => {
    this.#flushScheduled = false;
    this.#flush();
  };

  /** One socket write per turn; large messages go out a budget at a time, small ones between. */
  #flush(): void {
    if (this.#socket.destroyed || this.#phase === 'connecting') return;
    if (this.#socket.writableNeedDrain) return; // 'drain' calls back
    const bytes = this.#wire.flush(DEFAULT_FLUSH_BUDGET_BYTES);
    if (bytes !== null) {
      this.#queuedBytes = this.#wire.hasPending ? Math.max(0, this.#queuedBytes - bytes.length) : 0;
      this.#socket.write(bytes);
    }
    if (this.#wire.hasPending) this.#scheduleFlush();
    else this.#checkDrained();
  }

  #checkDrained(): void {
    if (!this.#congested || this.#pendingBytes() > this.#lowWater) return;
    this.#congested = false;
    const self = this.#self;
    const drained = Drained({ remote: self.address, pendingBytes: this.#pendingBytes() });
    this.#log.info({ pendingBytes: drained.pendingBytes }, 'drained');
    self.send(this.#setup.controller, drained);
    for (const waiter of this.#drainWaiters.splice(0)) self.send(waiter, drained);
  }

  // ---- inbound -------------------------------------------------------------------------

  /** Whether debug lines are on, read once per socket read rather than per message. */
  #debug = false;

  #onData(chunk: Buffer): void {
    this.#lastReceived = this.#self.runtime.clock.now();
    this.#debug = this.#log.isLevelEnabled('debug');
    if (this.#phase === 'ended') return;
    this.#handle(this.#wire.receive(chunk));
  }

  #onEnd(): void {
    if (this.#phase === 'ended') return;
    this.#handle(this.#wire.end());
    if (!this.#ended()) this.#finish('abandoned', 'connection-lost', undefined);
  }

  #onSocketError(error: NodeJS.ErrnoException): void {
    const reason = error.code ?? 'socket-error';
    if (this.#phase === 'ended') return;
    this.#log.info({ errno: reason }, 'socket error');
    this.#finish('abandoned', reason, undefined, error.code);
  }

  #handle(events: SessionEvent[]): void {
    for (const event of events) {
      if (this.#ended()) return;
      switch (event.type) {
        case 'established':
          this.#established(event.encrypted);
          break;
        case 'message':
          this.#inbound(event.message);
          break;
        case 'structures':
          try {
            this.#stream.decoder.applyStructures(event.data);
          } catch (error) {
            this.#fail(
              CloseReason.PROTOCOL_ERROR,
              `bad structure update: ${(error as Error).message}`,
            );
          }
          break;
        case 'ping':
          if (this.#wire.state === 'open') {
            this.#wire.pong(event.seq);
            this.#scheduleFlush();
          }
          break;
        case 'pong':
          break;
        case 'closed':
          this.#log.info({ reason: event.reason, text: event.text }, 'peer closed');
          this.#flush();
          this.#socket.end();
          this.#finish('abandoned', event.reason, undefined);
          break;
        case 'failed':
          this.#log.warn(
            { code: event.error.code, reason: closeReasonName(event.error.closeReason) },
            `rejected connection: ${event.error.message}`,
          );
          this.#flush();
          this.#socket.end();
          this.#finish('abandoned', closeReasonName(event.error.closeReason), undefined);
          break;
      }
    }
  }

  #ended(): boolean {
    return this.#phase === 'ended';
  }

  #established(encrypted: boolean): void {
    const self = this.#self;
    this.#phase = 'open';
    this.#opened = new Date();
    self.cancelTimer(HANDSHAKE_TIMER);
    this.#armKeepalive();
    const o = this.#setup.options;
    let from = self.address;
    if (o.session !== undefined) {
      const context: SessionContext = {
        controller: this.#setup.controller,
        remote: self.address,
        peer: this.#peer,
        opened: this.#opened,
        encrypted,
      };
      const spawn = self.spawn.bind(self) as (behavior: unknown, ...args: unknown[]) => Address;
      const isFunction = typeof unwrapBehavior(o.session.behavior).behavior === 'function';
      this.#session = isFunction
        ? spawn(o.session.behavior, context, ...o.session.args)
        : spawn(o.session.behavior, { ...context, args: o.session.args });
      this.#defaultTarget = this.#session;
      from = this.#session;
    }
    const common = {
      peer: this.#peer,
      opened: this.#opened,
      encrypted,
      remote: self.address,
      ...(this.#session === undefined ? {} : { session: this.#session }),
    };
    if (this.#setup.role === 'connector') {
      this.#log.info({ encrypted }, 'connected');
      const local = { host: this.#socket.localAddress ?? '', port: this.#socket.localPort ?? 0 };
      self.forward(
        this.#setup.controller,
        Connected({ requested: this.#setup.requested ?? this.#peer, local, ...common }),
        from,
      );
    } else {
      this.#log.info({ encrypted }, 'accepted');
      self.forward(
        this.#setup.controller,
        Accepted({ listening: this.#setup.listening ?? this.#peer, ...common }),
        from,
      );
    }
    this.#scheduleFlush();
  }

  /** The last inbound return stack and its Address: a stream of messages from one sender reuses it. */
  #lastRet: readonly number[] = [];
  #lastFrom: Address | undefined;
  #lastTo: Address | undefined;

  #returnAddress(ret: readonly number[], id: number): Address {
    const last = this.#lastRet;
    if (this.#lastFrom !== undefined && ret.length === last.length) {
      let same = true;
      for (let i = 0; i < ret.length; i++) {
        if (ret[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#lastFrom;
    }
    const hops = inboundAddress(ret, id);
    const from = hops.length === 0 ? this.#defaultTarget : new Address(hops);
    this.#lastRet = ret;
    this.#lastFrom = from;
    return from;
  }

  #inbound(wire: WireMessage): void {
    const self = this.#self;
    const id = self.address.local;
    const from = this.#returnAddress(wire.ret, id);
    const space =
      wire.space.length === 0
        ? []
        : wire.space.map((hops) => {
            const h = inboundAddress(hops, id);
            return h.length === 0 ? this.#defaultTarget : new Address(h);
          });
    const runtime = self.runtime;
    const toHops = wire.to;
    if (toHops.length > 1) {
      const route = inboundTo(toHops) as { type: 'relay'; to: readonly number[]; via: number };
      if ((wire.bodyMode & BODY_FLAG_STREAM) !== 0) {
        this.#fail(
          CloseReason.PROTOCOL_ERROR,
          `relayed ${wire.typeName} has a stream-encoded body`,
        );
        return;
      }
      const to = new Address(route.to);
      const relay: Relay = { type: RELAY_TYPE, wire, space };
      if (!this.#setup.network.proxies.has(route.via)) {
        this.#inboundDeadLetter(
          to,
          from,
          wire.typeName,
          'no-such-actor',
          'no connection for relay hop',
        );
        return;
      }
      if (this.#debug)
        this.#log.debug(
          { to: to.toString(), from: from.toString(), type: wire.typeName },
          'relayed',
        );
      runtime.send(to, relay, from);
      return;
    }
    let to = this.#defaultTarget;
    if (toHops.length === 1) {
      const actor = toHops[0] as number;
      if (this.#lastTo === undefined || this.#lastTo.local !== actor)
        this.#lastTo = new Address([actor]);
      to = this.#lastTo;
    }
    if (!runtime.catalogue.has(wire.typeName)) {
      // A well-formed frame of a type this process does not know: the connection is fine,
      // the message cannot be delivered.
      this.#inboundDeadLetter(to, from, wire.typeName, 'not-delivered', 'unknown message type');
      return;
    }
    let message: AnyMessage;
    try {
      message = this.#stream.decoder.decodeBody(wire.typeName, wire.body, space, wire.bodyMode);
    } catch (error) {
      const code = isCodecError(error) ? error.code : 'HERALD_ERR_MALFORMED';
      this.#fail(CloseReason.PROTOCOL_ERROR, `undecodable ${wire.typeName}: ${code}`);
      return;
    }
    if (Terminated.is(message)) this.#untrackWatch(message.address, to);
    if (this.#debug)
      this.#log.debug(
        { to: to.toString(), from: from.toString(), type: message.type },
        'forwarded',
      );
    runtime.send(to, message, from);
  }

  /** A frame from the peer that cannot be delivered here (its body is not decoded). */
  #inboundDeadLetter(
    to: Address,
    from: Address,
    typeName: string,
    reason: 'no-such-actor' | 'not-delivered',
    detail: string,
  ): void {
    this.#self.runtime.reportDeadLetter({ to, from, message: { type: typeName }, reason, detail });
  }

  // ---- remote watches ------------------------------------------------------------------

  #trackWatch(type: string, envelope: Envelope): void {
    const key = envelope.to.key;
    if (type === Watch.type) {
      let entry = this.#watches.get(key);
      if (entry === undefined)
        this.#watches.set(key, (entry = { target: envelope.to, watchers: new Map() }));
      entry.watchers.set(envelope.from.key, envelope.from);
    } else {
      const entry = this.#watches.get(key);
      entry?.watchers.delete(envelope.from.key);
      if (entry !== undefined && entry.watchers.size === 0) this.#watches.delete(key);
    }
  }

  #untrackWatch(target: Address, watcher: Address): void {
    const entry = this.#watches.get(target.key);
    if (entry === undefined) return;
    entry.watchers.delete(watcher.key);
    if (entry.watchers.size === 0) this.#watches.delete(target.key);
  }

  // ---- keep-alive and timers -----------------------------------------------------------

  #armKeepalive(): void {
    const idle = this.#setup.options.keepaliveIdleMs ?? DEFAULT_KEEPALIVE_IDLE_MS;
    if (idle > 0) this.#self.startTimer(KEEPALIVE_TIMER, idle);
  }

  #onTimer(key: string): void {
    if (this.#phase === 'ended') return;
    const now = this.#self.runtime.clock.now();
    if (key === HANDSHAKE_TIMER) {
      this.#fail(CloseReason.HANDSHAKE_TIMEOUT, 'handshake did not complete in time');
      return;
    }
    if (key !== KEEPALIVE_TIMER || this.#phase !== 'open' || this.#wire.state !== 'open') return;
    const idle = this.#setup.options.keepaliveIdleMs ?? DEFAULT_KEEPALIVE_IDLE_MS;
    const timeout = this.#setup.options.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS;
    if (this.#pingSentAt >= 0) {
      if (this.#lastReceived >= this.#pingSentAt) {
        this.#pingSentAt = -1; // answered (any bytes count)
      } else {
        this.#fail(CloseReason.KEEPALIVE_TIMEOUT, `no answer to keep-alive within ${timeout} ms`);
        return;
      }
    }
    const quiet = now - this.#lastReceived;
    if (quiet >= idle) {
      this.#pingSentAt = now;
      this.#wire.ping(this.#pingSeq++ >>> 0);
      this.#scheduleFlush();
      this.#self.startTimer(KEEPALIVE_TIMER, timeout);
    } else {
      this.#self.startTimer(KEEPALIVE_TIMER, idle - quiet);
    }
  }

  // ---- ending --------------------------------------------------------------------------

  /** This side fails the connection with a close reason (bad input, timeouts). */
  #fail(code: number, text: string): void {
    if (this.#phase === 'ended') return;
    this.#log.warn({ reason: closeReasonName(code) }, `closing connection: ${text}`);
    for (const m of this.#wire.close(code, text)) this.#dropUnsent(m);
    this.#flush();
    this.#socket.end();
    this.#lingerThenDestroy();
    this.#finish('abandoned', closeReasonName(code), undefined);
  }

  /** A local close with a value: queued messages go first, then CLOSE, then FIN. */
  #close(value: unknown, reason: string): void {
    if (this.#phase === 'ended') return;
    if (this.#phase === 'connecting') {
      this.#socket.destroy();
      this.#finish('closed', reason, value);
      return;
    }
    for (const m of this.#wire.close(
      reason === 'stopped' ? CloseReason.GOING_AWAY : CloseReason.NORMAL,
      reason,
    ))
      this.#dropUnsent(m);
    this.#flushAll();
    this.#socket.end();
    this.#lingerThenDestroy();
    this.#finish('closed', reason, value);
  }

  /** Writes everything still queued (used on close, when there are no later turns). */
  #flushAll(): void {
    for (;;) {
      const bytes = this.#wire.flush(Number.MAX_SAFE_INTEGER);
      if (bytes === null) break;
      this.#socket.write(bytes);
    }
    this.#queuedBytes = 0;
  }

  #lingerThenDestroy(): void {
    const socket = this.#socket;
    const timer = setTimeout(() => socket.destroy(), DEFAULT_CLOSE_LINGER_MS);
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }

  #dropUnsent(m: WireMessage, detail = 'connection closed before the message was sent'): void {
    const self = this.#self;
    const id = self.address.local;
    // The header holds the outbound (peer-relative) stacks: put our proxy back on the
    // destination so the dead letter names the address the sender used.
    self.runtime.reportDeadLetter({
      to: new Address([...m.to, id]),
      from:
        m.ret.length > 0 && m.ret[m.ret.length - 1] === 0
          ? new Address(m.ret.slice(0, -1).concat(id))
          : new Address(m.ret.length === 0 ? [id] : m.ret),
      message: { type: m.typeName },
      reason: 'not-delivered',
      detail,
    });
  }

  /**
   * Reports the end to the controller (NotConnected before the handshake completed on the
   * connecting side; Closed for a local close; Abandoned when the peer went away), stops the
   * session, tells remote watchers, and ends this actor.
   */
  #finish(kind: 'closed' | 'abandoned', reason: string, value: unknown, errno?: string): void {
    if (this.#phase === 'ended') return;
    const wasOpen = this.#phase === 'open';
    this.#phase = 'ended';
    const self = this.#self;
    // Messages still queued here never reached the socket: report each one.
    if (this.#wire.state !== 'closed') {
      for (const m of this.#wire.abandon())
        this.#dropUnsent(m, `connection ${reason} before the message was sent`);
    }
    const controller = this.#setup.controller;
    if (!wasOpen) {
      if (this.#setup.role === 'connector') {
        const requested = this.#setup.requested ?? this.#peer;
        const fault = NotConnected({
          requested,
          reason,
          explanation: `cannot connect to ${requested.host}:${requested.port}: ${reason}`,
          ...(errno === undefined ? {} : { errno }),
        });
        this.#log.info({ reason }, 'not connected');
        if (self.runtime.isAlive(controller)) self.send(controller, fault);
      } else {
        this.#log.info({ reason }, 'connection rejected before accept');
      }
      // Let a queued CLOSE reach the peer before the socket goes.
      if (!this.#socket.destroyed) {
        this.#socket.end();
        this.#lingerThenDestroy();
      }
      self.complete(undefined);
      return;
    }
    const base = { reason, peer: this.#peer, opened: this.#opened };
    const notice =
      kind === 'closed'
        ? Closed({
            ...base,
            value,
            explanation: `connection to ${this.#peer.host}:${this.#peer.port} closed (${reason})`,
          })
        : Abandoned({
            ...base,
            explanation: `connection to ${this.#peer.host}:${this.#peer.port} abandoned (${reason})`,
          });
    this.#log.info({ reason, kind }, kind === 'closed' ? 'closed' : 'abandoned');
    if (this.#session !== undefined) self.send(this.#session, Stop());
    if (self.runtime.isAlive(controller)) self.send(controller, notice);
    for (const waiter of this.#drainWaiters.splice(0)) self.send(waiter, notice);
    for (const entry of this.#watches.values()) {
      for (const watcher of entry.watchers.values()) {
        self.send(watcher, Terminated({ address: entry.target, value: notice }));
      }
    }
    this.#watches.clear();
    self.complete(kind === 'closed' ? value : notice);
  }
}
