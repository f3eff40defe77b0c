/**
 * SocketProxy: the actor that stands for the peer of one connection.
 *
 * Sending to the proxy, or to any address reached through it (a hop stack ending in the
 * proxy's id), delivers on the far side. This file coordinates; each job lives in its own
 * module under connection/ (docs/architecture.md):
 *
 * - handshake-phase.ts: the handshake deadline, the session, Connected / Accepted;
 * - outbound.ts: admission, batching, one write per turn, Congested / Drained;
 * - inbound.ts: routing what the peer sent (capability checks, relays, decoding);
 * - exports.ts: what the peer may reach (the connection's export table);
 * - watches.ts: every watch carried by the connection, both directions;
 * - keepalive.ts: PING when quiet, the deadline for an answer;
 * - closing.ts: linger, and dead letters for what was never written.
 *
 * Everything here runs on the actor's turn or inside `#guard`: stream events are turned
 * into calls on this object, and a defect in handling one connection fails that
 * connection, never the process.
 */
import { Address, isCodecError, type AnyMessage, type CodecStream } from '@herald/codec';
import {
  Aborted,
  Completed,
  Stop,
  Terminated,
  Timer,
  Unwatch,
  Watch,
  type Handler,
  type Logger,
  type Runtime,
  type Self,
} from '@herald/runtime';
import { Envelope, LogThrottle } from '@herald/runtime/internal';
import type { Duplex } from 'node:stream';
import {
  DEFAULT_HIGH_WATER_BYTES,
  DEFAULT_INBOUND_MAILBOX_SHARE,
  INBOUND_RETRY_MAX_MS,
  DEFAULT_KEEPALIVE_IDLE_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_LOW_WATER_BYTES,
  DEFAULT_MAX_EXPORTS,
  DEFAULT_MAX_PENDING_BYTES,
  DEFAULT_MAX_REFUSALS,
  DEFAULT_MAX_WATCHES,
  DEFAULT_NOTICES_PER_SECOND,
} from './constants.js';
import { lingerThenDestroy, reportUnsent } from './connection/closing.js';
import {
  connectionClosedChannel,
  connectionCongestedChannel,
  connectionDrainedChannel,
  connectionOpenedChannel,
} from './connection/diagnostics.js';
import { ExportTable } from './connection/exports.js';
import { DeliveryFeedback } from './connection/feedback.js';
import { InboundGate } from './connection/inbound-gate.js';
import {
  armHandshakeDeadline,
  decideAdmission,
  establish,
  HANDSHAKE_TIMER,
} from './connection/handshake-phase.js';
import {
  InboundRouter,
  isReservedType,
  RELAY_TYPE,
  type InboundHost,
  type Relay,
} from './connection/inbound.js';
import { Keepalive } from './connection/keepalive.js';
import { RoundTripProbes } from './connection/probe.js';
import { OutboundFlow, type OutboundSignals } from './connection/outbound.js';
import { ConnectionWatches } from './connection/watches.js';
import {
  Abandoned,
  AwaitDrain,
  Close,
  Closed,
  Congested,
  Drained,
  MeasureRoundTrip,
  NoRoundTrip,
  NotConnected,
  RoundTrip,
  Undeliverable,
  type HostPort,
} from './messages.js';
import type { Network } from './network.js';
import type { ConnectionOptions } from './options.js';
import type { TransportConnection, TransportSecurity } from './transport/transport.js';
import {
  CloseReason,
  closeReasonName,
  outboundAddress,
  outboundTo,
  isWireError,
  WireSession,
  type SessionEvent,
  type WireMessage,
} from './wire/index.js';

export { RELAY_TYPE };

const KEEPALIVE_TIMER = 'herald.keepalive';
const FRAME_DEADLINE_TIMER = 'herald.frame-deadline';

type Phase = 'connecting' | 'handshaking' | 'open' | 'ended';

/** One connection, as `connections(runtime)` lists it (docs/observability.md). */
export interface ConnectionInfo {
  /** The proxy: send to it (or through it) to reach the peer; `disconnect` takes it. */
  readonly address: Address;
  readonly role: 'connector' | 'acceptor';
  /** The peer's socket address (as asked, for a connector that has not connected yet). */
  readonly peer: { readonly host: string; readonly port: number };
  /** The peer's proven public key (hex), when it proved one. */
  readonly identity: string | undefined;
  readonly encrypted: boolean;
  /** When the handshake completed (ms since the epoch); 0 while it has not. */
  readonly openedAt: number;
  /** Bytes read from and handed to the stream, handshake included. */
  readonly bytesIn: number;
  readonly bytesOut: number;
  /** Messages received from the peer (before any refusal) and queued for it. */
  readonly messagesIn: number;
  readonly messagesOut: number;
  /** Outbound bytes not yet written to the socket (wire queue and stream buffer). */
  readonly queuedBytes: number;
  /** Between Congested and Drained. */
  readonly congested: boolean;
  /** 'connecting', 'handshaking', 'open' or 'ended'. */
  readonly state: string;
}

export interface ProxySetup {
  readonly network: Network;
  readonly role: 'connector' | 'acceptor';
  readonly controller: Address;
  readonly options: ConnectionOptions;
  /** An accepted connection (acceptor). */
  readonly connection?: TransportConnection;
  /** A dial in progress (connector); `abort` cancels it if the proxy ends first. */
  readonly dial?: Promise<TransportConnection>;
  readonly abort?: AbortController;
  /** connect(): what was asked. */
  readonly requested?: HostPort;
  /** listen(): where we listen. */
  readonly listening?: HostPort;
}

export class SocketProxy implements Handler, InboundHost, OutboundSignals {
  readonly name = 'SocketProxy';
  readonly #setup: ProxySetup;
  readonly #wire: WireSession;
  #codecStream: CodecStream | undefined;
  readonly #outbound: OutboundFlow;
  readonly #exports: ExportTable;
  readonly #watches: ConnectionWatches;
  #inbound!: InboundRouter;
  #keepalive!: Keepalive;
  #throttleMade: LogThrottle | undefined;
  #self!: Self;
  #stream: Duplex | undefined;
  #logBindings: Record<string, unknown> = {};
  #logCache: Logger | undefined;
  #phase: Phase;
  #peer: HostPort = { host: '', port: 0 };
  #security: TransportSecurity | undefined;
  #local: HostPort = { host: '', port: 0 };
  #opened = new Date(0);
  #session: Address | undefined;
  #defaultTarget!: Address;
  /** AwaitDrain requests not yet answered (answered with replyTo: correlated). */
  #drainWaiters: Envelope[] = [];
  /** MeasureRoundTrip askers (connection/probe.ts), made on the first. */
  #probes: RoundTripProbes | undefined;
  readonly #highWaterBytes: number;
  /** Inbound fairness: holds events whose target's mailbox is past this connection's share. */
  readonly #gate: InboundGate;
  /** Refusals, notices to the peer, notices from it. */
  #feedback!: DeliveryFeedback;
  /** Whether debug lines are on, read once per socket read rather than per message. */
  #debug = false;
  /** The types the connection declared (its `messages` option), or undefined: the catalogue's. */
  readonly #declared: Set<string> | undefined;
  /** Counters and facts for `connections()` (plain fields: nothing per message beyond ++). */
  #bytesIn = 0;
  #messagesIn = 0;
  #peerKey: string | undefined;
  #encrypted = false;

  constructor(setup: ProxySetup) {
    this.#setup = setup;
    const o = setup.options;
    this.#phase = setup.role === 'connector' ? 'connecting' : 'handshaking';
    this.#wire = new WireSession({
      role: setup.role,
      ...(o.encrypted === undefined ? {} : { encrypt: o.encrypted }),
      ...(o.identity === undefined ? {} : { identity: o.identity }),
      ...(o.peerKey === undefined || setup.role !== 'connector' ? {} : { peerKey: o.peerKey }),
      ...(o.allowedPeerKeys === undefined || setup.role !== 'acceptor'
        ? {}
        : { allowedPeerKeys: o.allowedPeerKeys }),
      ...(o.requirePeerKey === undefined || setup.role !== 'acceptor'
        ? {}
        : { requirePeerKey: o.requirePeerKey }),
      ...(o.authorize === undefined || setup.role !== 'acceptor' ? {} : { authorize: true }),
      keepaliveMs: o.keepaliveIdleMs ?? DEFAULT_KEEPALIVE_IDLE_MS,
      cipherSuite: o.cipherSuite ?? setup.network.cipherSuite,
      ...(o.maxFrameBytes === undefined ? {} : { maxFrameBytes: o.maxFrameBytes }),
      ...(o.maxMessageBytes === undefined ? {} : { maxMessageBytes: o.maxMessageBytes }),
      reassemblyBudget: setup.network.reassembly,
    });
    const highWaterBytes = o.highWaterBytes ?? DEFAULT_HIGH_WATER_BYTES;
    this.#highWaterBytes = highWaterBytes;
    this.#outbound = new OutboundFlow(
      this.#wire,
      {
        highWaterBytes,
        lowWaterBytes: Math.min(o.lowWaterBytes ?? DEFAULT_LOW_WATER_BYTES, highWaterBytes),
        maxPendingBytes: o.maxPendingBytes ?? DEFAULT_MAX_PENDING_BYTES,
      },
      // The proxy itself takes the signals (methods, not closures: memory per connection).
      this,
    );
    this.#exports = new ExportTable(DEFAULT_MAX_EXPORTS);
    this.#gate = new InboundGate(this, DEFAULT_INBOUND_MAILBOX_SHARE, INBOUND_RETRY_MAX_MS);
    this.#watches = new ConnectionWatches(DEFAULT_MAX_WATCHES);
    this.#declared = o.messages === undefined ? undefined : new Set(o.messages.map((m) => m.type));
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

  /** Rate limits this connection's repeated warnings; made on the first one. */
  get #throttle(): LogThrottle {
    const clock = this.#self.runtime.clock;
    return (this.#throttleMade ??= new LogThrottle(() => clock.now()));
  }

  /** The connection's codec stream, made when the first message is encoded or decoded. */
  get #codec(): CodecStream {
    return (this.#codecStream ??= this.#setup.network.codec.createStream());
  }

  /**
   * An info line on this connection's logger. At the default level (warn) nothing is built:
   * an idle connection never makes its two child loggers (memory per connection).
   */
  #info(fields: Record<string, unknown>, msg: string): void {
    if (this.#self.runtime.logger.isLevelEnabled('info')) this.#log.info(fields, msg);
  }

  /** The address of this proxy. */
  get address(): Address {
    return this.#self.address;
  }

  /** A snapshot of this connection for `connections(runtime)`. */
  info(): ConnectionInfo {
    const peer =
      this.#peer.host === '' && this.#setup.requested !== undefined
        ? this.#setup.requested
        : this.#peer;
    return {
      address: this.#self.address,
      role: this.#setup.role,
      peer: { host: peer.host, port: peer.port },
      identity: this.#peerKey,
      encrypted: this.#encrypted,
      openedAt: this.#opened.getTime(),
      bytesIn: this.#bytesIn,
      bytesOut: this.#outbound.bytesOut,
      messagesIn: this.#messagesIn,
      messagesOut: this.#outbound.messagesOut,
      queuedBytes: this.#outbound.pendingBytes(),
      congested: this.#outbound.congested,
      state: this.#phase,
    };
  }

  /**
   * Closes this connection from outside its controller (`disconnect(runtime, proxy)`, a
   * management tool): queued messages go first, then CLOSE with `reason` as its text; the
   * controller receives Closed with that reason.
   */
  disconnect(reason: string): void {
    this.#guard(() => this.#close(undefined, reason));
  }

  // ---- what the inbound router and the outbound flow call (InboundHost, OutboundSignals)

  get self(): Self {
    return this.#self;
  }

  get network(): Network {
    return this.#setup.network;
  }

  get exports(): ExportTable {
    return this.#exports;
  }

  get watches(): ConnectionWatches {
    return this.#watches;
  }

  decoder(): CodecStream['decoder'] {
    return this.#codec.decoder;
  }

  defaultTarget(): Address {
    return this.#defaultTarget;
  }

  accepts(typeName: string): boolean {
    if (isReservedType(typeName)) return false;
    return this.#declared === undefined
      ? this.#setup.network.runtime.catalogue.has(typeName)
      : this.#declared.has(typeName);
  }

  debug(): boolean {
    return this.#debug;
  }

  logDebug(fields: Record<string, unknown>, msg: string): void {
    this.#log.debug(fields, msg);
  }

  refuse(why: string, to: Address, from: Address, typeName: string): void {
    this.#refuse(why, to, from, typeName);
  }

  undeliverable(
    reason: 'no-such-actor' | 'not-delivered',
    to: Address,
    from: Address,
    typeName: string,
    detail: string,
  ): void {
    this.#self.runtime.reportDeadLetter({ to, from, message: { type: typeName }, reason, detail });
    this.#notify(from, typeName, reason, detail);
  }

  farUndeliverable(notice: Undeliverable, sender: Address): void {
    this.#feedback.fromPeer(notice, sender);
  }

  fail(code: number, text: string): void {
    this.#fail(code, text);
  }

  congested(pendingBytes: number): void {
    this.#congested(pendingBytes, this.#highWaterBytes);
  }

  drained(pendingBytes: number): void {
    this.#drained(pendingBytes);
  }

  flushFailed(error: unknown): void {
    this.#defect(error);
  }

  // GateOwner (connection/inbound-gate.ts)

  get runtime(): Runtime {
    return this.#self.runtime;
  }

  stream(): Duplex | undefined {
    return this.#stream;
  }

  handle(events: SessionEvent[]): void {
    this.#handle(events);
  }

  ended(): boolean {
    return this.#phase === 'ended';
  }

  guard(fn: () => void): void {
    this.#guard(fn);
  }

  // ---- actor life ----------------------------------------------------------------------

  start(self: Self): void {
    this.#self = self;
    const network = this.#setup.network;
    const clock = self.runtime.clock;
    network.proxies.set(self.address.local, this);
    this.#defaultTarget = this.#setup.controller;
    this.#logBindings = { conn: network.nextConnectionId(), role: this.#setup.role };
    const o = this.#setup.options;
    this.#keepalive = new Keepalive(
      o.keepaliveIdleMs ?? DEFAULT_KEEPALIVE_IDLE_MS,
      o.keepaliveTimeoutMs ?? DEFAULT_KEEPALIVE_TIMEOUT_MS,
      clock.now(),
    );
    for (const address of o.exports ?? []) this.#exports.pin(address.hops);
    this.#inbound = new InboundRouter(this);
    this.#feedback = new DeliveryFeedback(self, {
      maxRefusals: DEFAULT_MAX_REFUSALS,
      noticesPerSecond: DEFAULT_NOTICES_PER_SECOND,
    });
    self.watch(this.#setup.controller);
    const setup = this.#setup;
    if (setup.connection !== undefined) {
      this.#attach(setup.connection);
    } else if (setup.dial !== undefined) {
      setup.dial.then(
        (connection) =>
          this.#guard(() => {
            if (this.#phase === 'ended') connection.stream.destroy();
            else this.#attach(connection);
          }),
        (error: NodeJS.ErrnoException) =>
          this.#guard(() => {
            if (this.#phase === 'ended') return;
            const reason = error.code ?? 'dial-failed';
            this.#info({ errno: reason }, 'cannot connect');
            this.#finish('abandoned', reason, undefined, error.code);
          }),
      );
    }
  }

  /** The transport gave a stream: wire its events to this actor and start the handshake. */
  #attach(connection: TransportConnection): void {
    const stream = connection.stream;
    const network = this.#setup.network;
    this.#stream = stream;
    this.#outbound.attach(stream);
    network.streams.add(stream);
    this.#peer = { host: connection.remote.host, port: connection.remote.port };
    this.#local = { host: connection.local.host, port: connection.local.port };
    this.#security = connection.security;
    this.#logBindings = { ...this.#logBindings, peer: `${this.#peer.host}:${this.#peer.port}` };
    this.#logCache = undefined;
    stream.on('data', (chunk: Buffer) => this.#guard(() => this.#onData(chunk)));
    stream.on('end', () => this.#guard(() => this.#onEnd()));
    stream.on('error', (error: NodeJS.ErrnoException) =>
      this.#guard(() => this.#onStreamError(error)),
    );
    stream.on('close', () =>
      this.#guard(() => {
        network.streams.delete(stream);
        if (this.#phase !== 'ended') this.#finish('abandoned', 'connection-lost', undefined);
      }),
    );
    stream.on('drain', () =>
      this.#guard(() => {
        this.#outbound.flush();
        this.#outbound.checkDrained();
      }),
    );
    this.#phase = 'handshaking';
    this.#keepalive.alive(this.#self.runtime.clock.now());
    armHandshakeDeadline(this.#self, this.#setup.options);
    const opening = this.#wire.start();
    this.#outbound.bytesOut += opening.length;
    stream.write(opening);
  }

  /**
   * Runs a stream callback. Anything it throws is a defect in this connection's handling:
   * it fails this one connection (logged with the error), never the process.
   */
  #guard(fn: () => void): void {
    try {
      fn();
    } catch (error) {
      this.#defect(error);
    }
  }

  #defect(error: unknown): void {
    try {
      this.#log.error({ err: error }, 'connection handling failed');
      this.#fail(CloseReason.INTERNAL_ERROR, 'internal error');
    } catch {
      this.#stream?.destroy();
      this.#finish('abandoned', 'internal-error', undefined);
    }
  }

  /**
   * A defect while handling one message (a bug, or input no check foresaw) fails this
   * connection with internal-error: the socket is released and the controller told, rather
   * than the actor ending with its socket left open.
   */
  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    try {
      this.#receive(self, message, envelope);
    } catch (error) {
      this.#defect(error);
    }
  }

  #receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    if (envelope.to.isLocal) {
      // Addressed to the proxy itself: control from this process, or a message for the
      // peer's default target. Nothing from the wire arrives here as control: inbound
      // routing refuses every reserved type (connection/inbound.ts).
      switch (message.type) {
        case Close.type:
          this.#close((message as Close).value, 'closed-by-request');
          return;
        case AwaitDrain.type:
          if (this.#outbound.congested) this.#drainWaiters.push(envelope);
          else
            self.reply(
              Drained({ remote: self.address, pendingBytes: this.#outbound.pendingBytes() }),
            );
          return;
        case MeasureRoundTrip.type:
          this.#measure(envelope);
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

  /**
   * The actor ends, however it ends. If it ends without having finished the connection (a
   * fault in a callback the guards did not cover), the stream is destroyed here and the
   * controller still gets Abandoned: an ended proxy never leaves a socket open.
   */
  end(): void {
    if (this.#phase !== 'ended') {
      this.#phase = 'ended';
      if (connectionClosedChannel.hasSubscribers)
        connectionClosedChannel.publish({
          runtime: this.#self.runtime,
          proxy: this.#self.address,
          reason: 'internal-error',
        });
      this.#failProbes('abandoned', 'internal-error');
      this.#setup.abort?.abort();
      this.#stream?.destroy();
      const controller = this.#setup.controller;
      if (this.#self.runtime.isAlive(controller))
        this.#self.runtime.send(
          controller,
          Abandoned({
            reason: 'internal-error',
            peer: this.#peer,
            opened: this.#opened,
            explanation: `connection to ${this.#peer.host}:${this.#peer.port} abandoned (internal-error)`,
          }),
          this.#self.address,
        );
      this.#settleWatches(undefined);
    }
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
      encoded = this.#codec.encoder.encodeBody(message, to.length > 1 ? 'stateless' : 'stream');
    } catch (error) {
      this.#undeliverable(
        envelope,
        isCodecError(error) ? `${error.code}: ${error.message}` : String(error),
      );
      return;
    }
    if (!this.#watchOut(message.type, envelope)) return;
    if (encoded.structureUpdate !== undefined) this.#wire.sendStructures(encoded.structureUpdate);
    let space: number[][] = [];
    if (encoded.addresses.length > 0) {
      space = encoded.addresses.map((a) => outboundAddress(a.hops, id));
      for (const hops of space) this.#exportAddress(hops);
    }
    const ret = this.#returnStack(envelope.from, id);
    this.#frame(
      {
        bodyMode: encoded.flags,
        to,
        ret,
        typeName: message.type,
        correlation: envelope.correlation,
        trace: envelope.trace,
        space,
        body: encoded.body,
      },
      envelope,
    );
  }

  /**
   * Frames an encoded message now, or (on a connection that carries priorities) holds a
   * normal or low one in its lane until the write (connection/lanes.ts).
   */
  #frame(m: WireMessage, envelope: Envelope): void {
    if (this.#outbound.holds(envelope.priority)) {
      this.#outbound.hold(m, envelope);
      this.#outbound.queued();
      return;
    }
    const result = this.#wireSend(m);
    if (result.type === 'refused') {
      this.#undeliverable(envelope, `${result.reason}: ${result.detail}`);
      return;
    }
    this.#outbound.queued();
  }

  unsendable(envelope: Envelope, detail: string): void {
    this.#undeliverable(envelope, detail);
  }

  #sendRelay(relay: Relay, envelope: Envelope): void {
    if (!this.#admit(envelope)) return;
    if (!this.#watchOut(relay.wire.typeName, envelope)) return;
    const id = this.#self.address.local;
    const space = relay.space.map((a) => outboundAddress(a.hops, id));
    for (const hops of space) this.#exportAddress(hops);
    this.#frame(
      {
        bodyMode: relay.wire.bodyMode,
        to: outboundTo(envelope.to.hops, id),
        ret: this.#returnStack(envelope.from, id),
        typeName: relay.wire.typeName,
        // The asker's correlation passes through unchanged: it is only ever read at the ends.
        correlation: relay.wire.correlation ?? 0,
        trace: relay.wire.trace,
        space,
        body: relay.wire.body,
      },
      envelope,
    );
  }

  /**
   * `wire.send`, with a header the wire cannot carry (a relayed return stack grown past
   * MAX_HOPS, say) refused like a full type table: a dead letter, never a throw that would
   * end this actor and leave its socket open.
   */
  #wireSend(
    m: WireMessage,
  ): { type: 'queued' } | { type: 'refused'; reason: string; detail: string } {
    try {
      return this.#wire.send(m);
    } catch (error) {
      if (!isWireError(error)) throw error;
      return { type: 'refused', reason: error.code, detail: error.message };
    }
  }

  /**
   * The return stack for an outbound message, exported to the peer. A return address on
   * the peer's side (it ends with this proxy) is sent as it is rather than as "returning
   * home": replies then come back through this side, which relays them, so a return
   * address from the wire always names something on the sender's side.
   */
  #returnStack(from: Address, id: number): number[] {
    const hops = from.hops;
    // Sent from outside any actor (nobody, [0]): no return address; the peer sees this
    // connection's default target as the sender.
    if (hops.length === 1 && hops[0] === 0) return [];
    void id;
    const ret = hops.slice();
    this.#exports.add(ret);
    return ret;
  }

  /** An address in a body: exported unless it points back into the peer's own process. */
  #exportAddress(hops: readonly number[]): void {
    if (hops.length > 0 && hops[hops.length - 1] !== 0) this.#exports.add(hops);
  }

  /** Watch bookkeeping for an outbound Watch / Unwatch / Terminated. False when refused. */
  #watchOut(type: string, envelope: Envelope): boolean {
    switch (type) {
      case Watch.type:
        if (this.#watches.watchOut(envelope.to, envelope.from)) return true;
        // Refused here: the watcher is told at once rather than left waiting.
        this.#self.forward(
          envelope.from,
          Terminated({
            address: envelope.to,
            value: NotConnected({
              requested: this.#peer,
              reason: 'too-many-watches',
              explanation: 'too many watches on this connection',
            }),
          }),
          envelope.to,
        );
        return false;
      case Unwatch.type:
        this.#watches.unwatchOut(envelope.to, envelope.from);
        return true;
      case Terminated.type:
        // Terminated always comes from the target's address (cell end, or a lost connection).
        this.#watches.terminatedOut(envelope.from, envelope.to);
        return true;
      default:
        return true;
    }
  }

  /** Whether a message may be queued now; if not it becomes a dead letter. */
  #admit(envelope: Envelope): boolean {
    const refusal =
      this.#phase === 'ended' ? 'connection closing' : this.#outbound.refusal(envelope.priority);
    if (refusal === undefined) return true;
    this.#undeliverable(envelope, refusal);
    return false;
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

  #congested(pendingBytes: number, highWaterBytes: number): void {
    this.#log.warn({ pendingBytes, highWaterBytes }, 'congested');
    const self = this.#self;
    if (connectionCongestedChannel.hasSubscribers)
      connectionCongestedChannel.publish({ runtime: self.runtime, proxy: self.address });
    self.send(
      this.#setup.controller,
      Congested({ remote: self.address, pendingBytes, highWaterBytes }),
    );
  }

  #drained(pendingBytes: number): void {
    const self = this.#self;
    const drained = Drained({ remote: self.address, pendingBytes });
    if (connectionDrainedChannel.hasSubscribers)
      connectionDrainedChannel.publish({ runtime: self.runtime, proxy: self.address });
    this.#info({ pendingBytes }, 'drained');
    this.#tellControllerAndWaiters(drained);
  }

  /**
   * Tells the controller and answers every AwaitDrain, each exactly once: a controller that
   * asked itself gets only the answer to its ask (else the spare copy would answer its next
   * AwaitDrain at once).
   */
  #tellControllerAndWaiters(notice: AnyMessage): void {
    const self = this.#self;
    const controller = this.#setup.controller;
    let controllerAsked = false;
    for (const waiter of this.#drainWaiters.splice(0)) {
      if (waiter.from.equals(controller)) controllerAsked = true;
      self.replyTo(waiter, notice);
    }
    if (!controllerAsked) self.send(controller, notice);
  }

  // ---- inbound -------------------------------------------------------------------------

  #onData(chunk: Buffer): void {
    if (this.#phase === 'ended') return;
    this.#bytesIn += chunk.length;
    this.#debug = this.#self.runtime.logger.isLevelEnabled('debug');
    const now = this.#self.runtime.clock.now();
    const events = this.#wire.receive(chunk, now);
    // Only whole frames show the peer is alive: a byte now and then does not.
    if (events.length > 0) this.#keepalive.alive(now);
    // The handshake may have answered.
    if (this.#wire.hasPending) this.#outbound.schedule();
    if (this.#gate.holding) this.#gate.append(events);
    else this.#handle(events);
    this.#armFrameDeadline();
  }

  /** When the frame-deadline timer is due, or -1 when it is not armed. */
  #deadlineAt = -1;

  /**
   * A frame that started must complete in time, and a partial message must keep making
   * progress (slow peers, slowloris): the decoder says when it next has something to check.
   */
  #armFrameDeadline(): void {
    const deadline = this.#wire.nextDeadline;
    if (deadline === null || this.#ended()) return;
    // expire() acts strictly after a deadline: at the deadline itself it finds nothing and
    // the timer would re-arm for the same instant (forever, on a TestClock).
    const next = deadline + 1;
    if (this.#deadlineAt >= 0 && this.#deadlineAt <= next) return;
    this.#deadlineAt = next;
    const now = this.#self.runtime.clock.now();
    this.#self.startTimer(FRAME_DEADLINE_TIMER, Math.max(0, next - now));
  }

  #onFrameDeadline(): void {
    this.#deadlineAt = -1;
    const events = this.#wire.expire(this.#self.runtime.clock.now());
    if (this.#gate.holding) this.#gate.append(events);
    else this.#handle(events);
    this.#armFrameDeadline();
  }

  #onEnd(): void {
    if (this.#phase === 'ended') return;
    this.#handle(this.#wire.end());
    if (!this.#ended()) this.#finish('abandoned', 'connection-lost', undefined);
  }

  #onStreamError(error: NodeJS.ErrnoException): void {
    const reason = error.code ?? 'socket-error';
    if (this.#phase === 'ended') return;
    this.#info({ errno: reason }, 'socket error');
    this.#finish('abandoned', reason, undefined, error.code);
  }

  /** Read through a method so narrowing does not outlive calls that may end the connection. */
  #ended(): boolean {
    return this.#phase === 'ended';
  }

  #handle(events: SessionEvent[]): void {
    for (let i = 0; i < events.length; i++) {
      const event = events[i] as SessionEvent;
      if (this.#ended()) return;
      if (event.type === 'message' && !this.#gate.hasRoom(event.message)) {
        this.#gate.hold(events.slice(i));
        return;
      }
      switch (event.type) {
        case 'established':
          this.#established(event.encrypted, event.peer.key ?? undefined);
          break;
        case 'authorize':
          this.#authorize(event.peer.key);
          break;
        case 'refused':
          this.#unsent(event.message, `${event.reason}: ${event.detail}`);
          break;
        case 'message':
          this.#messagesIn++;
          this.#inbound.route(event.message);
          break;
        case 'structures':
          try {
            this.#codec.decoder.applyStructures(event.data);
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
            this.#outbound.schedule();
          }
          break;
        case 'pong':
          if (this.#probes !== undefined) this.#answerProbe(event.seq);
          break;
        case 'closed':
          this.#info({ reason: event.reason, text: event.text }, 'peer closed');
          this.#outbound.flush();
          this.#stream?.end();
          this.#finish('abandoned', event.reason, undefined);
          break;
        case 'failed':
          this.#log.warn(
            { code: event.error.code, reason: closeReasonName(event.error.closeReason) },
            `rejected connection: ${event.error.message}`,
          );
          this.#outbound.flush();
          this.#stream?.end();
          this.#finish('abandoned', closeReasonName(event.error.closeReason), undefined);
          break;
      }
    }
  }

  /**
   * The peer proved its key (or is anonymous and allowed so far): the listener's
   * `authorize` decides, asynchronously if it likes; nothing opens until it admits.
   */
  #authorize(key: string | null): void {
    const peer = {
      key,
      address: this.#peer,
      ...(this.#security === undefined ? {} : { security: this.#security }),
    };
    decideAdmission(
      this.#setup.options.authorize,
      peer,
      (error, msg) => this.#log.warn({ err: error }, msg),
      (admit, reason) =>
        this.#guard(() => {
          if (this.#ended()) return;
          if (!admit) this.#info({ peerKey: key, reason }, 'peer refused by authorize');
          const events = admit ? this.#wire.accept() : this.#wire.refuse(reason);
          this.#outbound.schedule();
          this.#handle(events);
        }),
    );
  }

  #established(encrypted: boolean, peerKey: string | undefined): void {
    this.#phase = 'open';
    this.#opened = new Date();
    this.#peerKey = peerKey;
    this.#encrypted = encrypted;
    if (connectionOpenedChannel.hasSubscribers)
      connectionOpenedChannel.publish({
        runtime: this.#self.runtime,
        proxy: this.#self.address,
        role: this.#setup.role,
        peer: { host: this.#peer.host, port: this.#peer.port },
        identity: peerKey,
      });
    this.#armKeepalive();
    this.#session = establish({
      self: this.#self,
      log: this.#self.runtime.logger.isLevelEnabled('info') ? this.#log : undefined,
      role: this.#setup.role,
      controller: this.#setup.controller,
      options: this.#setup.options,
      peer: this.#peer,
      local: this.#local,
      requested: this.#setup.requested,
      listening: this.#setup.listening,
      opened: this.#opened,
      encrypted,
      peerKey,
      security: this.#security,
    });
    if (this.#session !== undefined) this.#defaultTarget = this.#session;
    this.#outbound.schedule();
  }

  /**
   * A message from the peer that must not be delivered (connection/feedback.ts): a dead
   * letter `refused`, a line at a bounded rate, a notice to the peer, and after
   * DEFAULT_MAX_REFUSALS the peer is disconnected (`policy-violation`).
   */
  #refuse(why: string, to: Address, from: Address, typeName: string): void {
    const tooMany = this.#feedback.refused(
      why,
      to,
      from,
      typeName,
      () => this.#log,
      this.#throttle,
    );
    this.#notify(from, typeName, 'refused', why);
    if (tooMany)
      this.#fail(CloseReason.POLICY_VIOLATION, `${this.#feedback.refusals} refused messages`);
  }

  /** Tells the peer a message it sent was not delivered (at a bounded rate). */
  #notify(sender: Address, typeName: string, reason: string, detail: string): void {
    if (this.#phase !== 'open') return;
    const sent = this.#feedback.notify(sender, typeName, reason, detail, this.#inbound.correlation);
    if (!sent)
      this.#throttle.log(
        this.#log,
        'info',
        'notices',
        { notSent: this.#feedback.noticesNotSent },
        'delivery notices over their rate: counted, not sent',
      );
  }

  // ---- round-trip probes (connection/probe.ts) -----------------------------------------

  #measure(asker: Envelope): void {
    const refusal =
      this.#phase !== 'open' || this.#wire.state !== 'open'
        ? 'not-open'
        : (this.#probes ??= new RoundTripProbes()).add(asker)
          ? undefined
          : 'too-many-probes';
    if (refusal !== undefined) this.#noRoundTrip(asker, refusal, this.#phase);
    else this.#pingProbe();
  }

  /** Sends the PING for the next waiting probe (one in flight at a time). */
  #pingProbe(): void {
    if (this.#probes?.due !== true) return;
    const seq = this.#keepalive.nextSeq();
    this.#wire.ping(seq);
    this.#probes.sent(seq, this.#self.runtime.clock.now());
    this.#outbound.schedule();
  }

  #answerProbe(seq: number): void {
    const answered = this.#probes?.answered(seq, this.#self.runtime.clock.now());
    if (answered === undefined) return;
    const { asker, micros } = answered;
    this.#self.replyTo(asker, RoundTrip({ remote: this.#self.address, micros, seq: answered.seq }));
    this.#pingProbe();
  }

  #failProbes(kind: 'closed' | 'abandoned', reason: string): void {
    for (const asker of this.#probes?.drain() ?? []) this.#noRoundTrip(asker, kind, reason);
  }

  #noRoundTrip(asker: Envelope, reason: string, detail: string): void {
    const explanation = `no round trip to ${this.#peer.host}:${this.#peer.port}: ${reason}`;
    const remote = this.#self.address;
    this.#self.replyTo(asker, NoRoundTrip({ remote, reason, detail, explanation }));
  }

  // ---- keep-alive and timers -----------------------------------------------------------

  #armKeepalive(): void {
    if (this.#keepalive.enabled) this.#self.startTimer(KEEPALIVE_TIMER, this.#keepalive.idleMs);
  }

  #onTimer(key: string): void {
    if (this.#phase === 'ended') return;
    if (key === HANDSHAKE_TIMER) {
      this.#fail(CloseReason.HANDSHAKE_TIMEOUT, 'handshake did not complete in time');
      return;
    }
    if (key === FRAME_DEADLINE_TIMER) {
      this.#onFrameDeadline();
      return;
    }
    if (key !== KEEPALIVE_TIMER || this.#phase !== 'open' || this.#wire.state !== 'open') return;
    const action = this.#keepalive.check(this.#self.runtime.clock.now());
    switch (action.kind) {
      case 'dead':
        this.#fail(
          CloseReason.KEEPALIVE_TIMEOUT,
          `no answer to keep-alive within ${action.timeoutMs} ms`,
        );
        return;
      case 'ping':
        this.#wire.ping(this.#keepalive.nextSeq());
        this.#outbound.schedule();
        break;
      case 'wait':
        break;
    }
    // Quiet enough for a keep-alive check: let buffers grown for a burst shrink back.
    this.#wire.trim();
    this.#self.startTimer(KEEPALIVE_TIMER, action.ms);
  }

  // ---- ending --------------------------------------------------------------------------

  /** This side fails the connection with a close reason (bad input, timeouts). */
  #fail(code: number, text: string): void {
    if (this.#phase === 'ended') return;
    this.#log.warn({ reason: closeReasonName(code) }, `closing connection: ${text}`);
    this.#dropHeld('connection closed before the message was sent');
    for (const m of this.#wire.close(code, text))
      this.#unsent(m, 'connection closed before the message was sent');
    this.#outbound.flush();
    if (this.#stream !== undefined) lingerThenDestroy(this.#stream);
    this.#finish('abandoned', closeReasonName(code), undefined);
  }

  /** A local close with a value: queued messages go first, then CLOSE, then FIN. */
  #close(value: unknown, reason: string): void {
    if (this.#phase === 'ended') return;
    if (this.#phase === 'connecting') {
      this.#setup.abort?.abort();
      this.#finish('closed', reason, value);
      return;
    }
    const code = reason === 'stopped' ? CloseReason.GOING_AWAY : CloseReason.NORMAL;
    // Held messages go before CLOSE, as everything else queued does.
    this.#outbound.releaseHeld();
    for (const m of this.#wire.close(code, reason))
      this.#unsent(m, 'connection closed before the message was sent');
    this.#outbound.flushAll();
    if (this.#stream !== undefined) lingerThenDestroy(this.#stream);
    this.#finish('closed', reason, value);
  }

  /** Held messages that will never be framed now: a dead letter each. */
  #dropHeld(detail: string): void {
    for (const envelope of this.#outbound.dropHeld()) this.#undeliverable(envelope, detail);
  }

  #unsent(m: Parameters<typeof reportUnsent>[2], detail: string): void {
    reportUnsent(this.#self.runtime, this.#self.address.local, m, detail);
  }

  /**
   * Reports the end to the controller (NotConnected before the handshake completed on the
   * connecting side; Closed for a local close; Abandoned when the peer went away), stops the
   * session, settles every watch the connection carried, and ends this actor.
   */
  #finish(kind: 'closed' | 'abandoned', reason: string, value: unknown, errno?: string): void {
    if (this.#phase === 'ended') return;
    const wasOpen = this.#phase === 'open';
    this.#phase = 'ended';
    const self = this.#self;
    this.#failProbes(kind, reason);
    if (connectionClosedChannel.hasSubscribers)
      connectionClosedChannel.publish({ runtime: self.runtime, proxy: self.address, reason });
    // Messages from the peer held for a full mailbox were never delivered: report each.
    for (const event of this.#gate.drain()) {
      if (event.type !== 'message') continue;
      const m = event.message;
      self.runtime.reportDeadLetter({
        to: m.to.length === 0 ? this.#defaultTarget : new Address(m.to),
        from: self.address,
        message: { type: m.typeName },
        reason: 'not-delivered',
        detail: `connection ${reason} while the message waited for room in a mailbox`,
      });
    }
    // Messages still queued here never reached the stream: report each one.
    this.#dropHeld(`connection ${reason} before the message was sent`);
    if (this.#wire.state !== 'closed') {
      for (const m of this.#wire.abandon())
        this.#unsent(m, `connection ${reason} before the message was sent`);
    }
    const controller = this.#setup.controller;
    const stream = this.#stream;
    if (!wasOpen) {
      if (this.#setup.role === 'connector') {
        const requested = this.#setup.requested ?? this.#peer;
        const fault = NotConnected({
          requested,
          reason,
          explanation: `cannot connect to ${requested.host}:${requested.port}: ${reason}`,
          ...(errno === undefined ? {} : { errno }),
        });
        this.#info({ reason }, 'not connected');
        if (self.runtime.isAlive(controller)) self.send(controller, fault);
      } else {
        this.#info({ reason }, 'connection rejected before accept');
      }
      // Let a queued CLOSE reach the peer before the stream goes.
      if (stream !== undefined) lingerThenDestroy(stream);
      this.#settleWatches(undefined);
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
    this.#info({ reason, kind }, kind === 'closed' ? 'closed' : 'abandoned');
    if (this.#session !== undefined) self.send(this.#session, Stop());
    if (self.runtime.isAlive(controller)) this.#tellControllerAndWaiters(notice);
    else for (const waiter of this.#drainWaiters.splice(0)) self.replyTo(waiter, notice);
    this.#settleWatches(notice);
    self.complete(kind === 'closed' ? value : notice);
  }

  /**
   * Every watch made through this connection ends with Terminated (from the target's
   * address, as if it had ended); every watch the peer made of this side is withdrawn.
   */
  #settleWatches(notice: AnyMessage | undefined): void {
    const self = this.#self;
    const { lost, released } = this.#watches.end();
    const value =
      notice ??
      Abandoned({
        reason: 'connection-lost',
        peer: this.#peer,
        opened: this.#opened,
        explanation: 'the connection ended before it opened',
      });
    for (const { target, watcher } of lost)
      self.forward(watcher, Terminated({ address: target, value }), target);
    for (const { target, watcher } of released) self.runtime.send(target, Unwatch(), watcher);
  }
}
