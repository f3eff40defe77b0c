/**
 * The aiomsg socket actor: binds or connects with the aiomsg v1 wire protocol
 * (PROTOCOL.md of cjrh/aiomsg) over any Herald transport, and turns what happens into typed
 * messages to its owner.
 *
 * A new connection is set up in the transport's callback (our HELLO goes out at once, the
 * receive timer starts); everything after that runs in the actor's turns. Stream callbacks
 * only post internal messages to the actor (from its own address, so no other actor can
 * forge them) and pause the stream until the actor has taken the chunk: a fast peer cannot
 * fill the mailbox.
 *
 * Where Herald differs from the reference on purpose (docs/interop.md):
 * - at-least-once keeps one message id across resends, retries a bounded number of times
 *   with backoff and then reports NotDelivered; the receiver de-duplicates by sender
 *   identity and id, and only acknowledges a DATA_REQ once its owner's mailbox took it;
 * - publish with at-least-once is done per peer (one DATA_REQ, ack and retry state per
 *   connected peer), never silently degraded;
 * - a bad version, a duplicate identity, a missing HELLO and a frame over the limit close
 *   the connection with a typed PeerLeft and a warn log line; a zero-length frame is
 *   skipped, not taken for EOF;
 * - buffers are bounded (a typed NotDelivered beyond them); a buffered at-least-once
 *   message starts its resend timer only when it is written, so it is not sent twice.
 */
import { randomUUID } from 'node:crypto';
import type { Duplex } from 'node:stream';
import { defineMessage, t, type Address, type AnyMessage } from '@herald/codec';
import { tcpTransport, type Transport, type TransportListener } from '@herald/net';
import { Stop, type Handler, type Self } from '@herald/runtime';
import { Packr } from 'msgpackr';
import {
  AIOMSG_IDENTITY_BYTES,
  AIOMSG_PROTOCOL_VERSION,
  DEFAULT_AIOMSG_BUFFER_LIMIT,
  DEFAULT_AIOMSG_CONGESTED_BYTES,
  DEFAULT_AIOMSG_DEDUP_WINDOW,
  DEFAULT_AIOMSG_HEARTBEAT_INTERVAL_MS,
  DEFAULT_AIOMSG_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_AIOMSG_MAX_CONNECTIONS,
  DEFAULT_AIOMSG_MAX_FRAME_BYTES,
  DEFAULT_AIOMSG_MAX_RECONNECT_MS,
  DEFAULT_AIOMSG_MAX_RESEND_MS,
  DEFAULT_AIOMSG_MAX_RETRIES,
  DEFAULT_AIOMSG_RECONNECT_MS,
  DEFAULT_AIOMSG_RESEND_AFTER_MS,
  DEFAULT_AIOMSG_RESEND_BACKOFF,
} from './constants.js';
import {
  decodeEnvelope,
  encodeAck,
  encodeData,
  encodeDataReq,
  encodeHeartbeat,
  encodeHello,
  frame,
} from './envelope.js';
import { FrameDecoder } from './frame-decoder.js';
import {
  AiomsgBound,
  AiomsgClose,
  AiomsgDelivered,
  AiomsgFailed,
  AiomsgMessage,
  AiomsgNotDelivered,
  AiomsgPeerJoined,
  AiomsgPeerLeft,
  AiomsgReceived,
  AiomsgSend,
  AiomsgSendMessage,
  AiomsgUndecodable,
} from './messages.js';
import { InteropError, type AiomsgReasonCode } from '../errors.js';

export type AiomsgSendMode = 'publish' | 'round-robin' | 'identity';
export type AiomsgDeliveryGuarantee = 'at-most-once' | 'at-least-once';

export interface AiomsgEndpoint {
  readonly host: string;
  readonly port: number;
}

export interface AiomsgSocketOptions {
  /** Listen here (port 0: any free port, reported in AiomsgBound). One of bind / connect. */
  readonly bind?: AiomsgEndpoint;
  /** Dial here, and redial for the life of the socket after a connection ends. */
  readonly connect?: AiomsgEndpoint;
  /** What carries the bytes; `tcpTransport` by default (the memory transport in tests). */
  readonly transport?: Transport;
  /** This socket's 16-byte identity (bytes or 32 hex characters); a random UUIDv4 by default. */
  readonly identity?: Uint8Array | string;
  /** Where sends go without an identity: every peer, one in turn, or none (identity only). */
  readonly sendMode?: AiomsgSendMode;
  /** DATA frames, or DATA_REQ frames acknowledged by the peer and resent until they are. */
  readonly deliveryGuarantee?: AiomsgDeliveryGuarantee;
  /** Who gets the events; the spawning actor by default. */
  readonly owner?: Address;
  /**
   * 'bytes' (default): payloads arrive as AiomsgReceived. 'msgpack': they are decoded as
   * msgpack and arrive as AiomsgMessage (AiomsgUndecodable when they are not msgpack).
   */
  readonly payloadFormat?: 'bytes' | 'msgpack';
  /** Largest envelope accepted; a longer frame closes its connection. */
  readonly maxFrameBytes?: number;
  readonly heartbeatIntervalMs?: number;
  readonly heartbeatTimeoutMs?: number;
  readonly resendAfterMs?: number;
  readonly resendBackoff?: number;
  readonly maxResendMs?: number;
  /** Resends of one at-least-once message (per peer) before NotDelivered. */
  readonly maxRetries?: number;
  /** How many (sender, message id) pairs the receiver remembers to drop duplicates. */
  readonly dedupWindow?: number;
  /** Messages held while no peer can take them. */
  readonly bufferLimit?: number;
  /** Unsent bytes above which a peer is congested and round-robin skips it. */
  readonly congestedBytes?: number;
  readonly reconnectMs?: number;
  readonly maxReconnectMs?: number;
  /** Connections held at once; a bind socket closes what comes beyond (logged at warn). */
  readonly maxConnections?: number;
  /** The actor's name in logs; 'aiomsg-socket' by default. */
  readonly name?: string;
}

// ---- internal messages (accepted only from the socket's own address) ---------------------

const IoOpened = defineMessage('herald.aiomsg.internal.IoOpened', { conn: t.int() });
const IoData = defineMessage('herald.aiomsg.internal.IoData', { conn: t.int(), chunk: t.bytes() });
const IoEnded = defineMessage('herald.aiomsg.internal.IoEnded', {
  conn: t.int(),
  detail: t.string(),
});
const IoDrained = defineMessage('herald.aiomsg.internal.IoDrained', { conn: t.int() });
const Listening = defineMessage('herald.aiomsg.internal.Listening', {
  host: t.string(),
  port: t.int(),
});
const ListenFailed = defineMessage('herald.aiomsg.internal.ListenFailed', { detail: t.string() });
const DialFailed = defineMessage('herald.aiomsg.internal.DialFailed', { detail: t.string() });
const Redial = defineMessage('herald.aiomsg.internal.Redial', {});
const HeartbeatDue = defineMessage('herald.aiomsg.internal.HeartbeatDue', { conn: t.int() });
const ReceiveCheck = defineMessage('herald.aiomsg.internal.ReceiveCheck', { conn: t.int() });
const ResendDue = defineMessage('herald.aiomsg.internal.ResendDue', { key: t.string() });

const INTERNAL: ReadonlySet<string> = new Set(
  [
    IoOpened,
    IoData,
    IoEnded,
    IoDrained,
    Listening,
    ListenFailed,
    DialFailed,
    Redial,
    HeartbeatDue,
    ReceiveCheck,
    ResendDue,
  ].map((d) => d.type),
);

/** 'G' of `GET / HTTP/1.1`: how the reference's bind side recognises a WebSocket client. */
const WEBSOCKET_FIRST_BYTE = 0x47;

/** Plain msgpack (no records, no Herald extensions) so any msgpack peer can read it. */
const packr = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  moreTypes: false,
});

interface Connection {
  readonly id: number;
  readonly stream: Duplex;
  readonly host: string;
  readonly port: number;
  readonly dialed: boolean;
  readonly decoder: FrameDecoder;
  identity: string | undefined;
  lastSent: number;
  lastFrame: number;
  /** No byte read yet (a bind side checks the first one for a WebSocket upgrade). */
  fresh: boolean;
}

interface Outgoing {
  readonly payload: Uint8Array;
  readonly identity: string | undefined;
  readonly ref: string | undefined;
}

interface Pending {
  readonly key: string;
  readonly messageId: Uint8Array;
  readonly messageIdHex: string;
  readonly payload: Uint8Array;
  readonly ref: string | undefined;
  /** The one peer it must reach (identity and publish sends); undefined: any (round-robin). */
  readonly target: string | undefined;
  /** Resends so far. */
  retries: number;
  delay: number;
}

function toHex(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.length).toString('hex');
}

function identityBytes(identity: Uint8Array | string | undefined): Uint8Array {
  if (identity === undefined) return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
  const bytes = typeof identity === 'string' ? Buffer.from(identity, 'hex') : identity;
  if (
    bytes.length !== AIOMSG_IDENTITY_BYTES ||
    (typeof identity === 'string' && identity.length !== 2 * AIOMSG_IDENTITY_BYTES)
  ) {
    throw new InteropError('HERALD_ERR_BAD_OPTION', 'identity must be 16 bytes (32 hex digits)');
  }
  return Uint8Array.from(bytes);
}

function positive(name: string, value: number | undefined, fallback: number, min = 1): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < min) {
    throw new InteropError('HERALD_ERR_BAD_OPTION', `${name} must be a number >= ${min}`);
  }
  return value;
}

interface Settings {
  readonly transport: Transport;
  readonly identity: Uint8Array;
  readonly identityHex: string;
  readonly sendMode: AiomsgSendMode;
  readonly guarantee: AiomsgDeliveryGuarantee;
  readonly payloadFormat: 'bytes' | 'msgpack';
  readonly maxFrameBytes: number;
  readonly heartbeatIntervalMs: number;
  readonly heartbeatTimeoutMs: number;
  readonly resendAfterMs: number;
  readonly resendBackoff: number;
  readonly maxResendMs: number;
  readonly maxRetries: number;
  readonly dedupWindow: number;
  readonly bufferLimit: number;
  readonly congestedBytes: number;
  readonly reconnectMs: number;
  readonly maxReconnectMs: number;
  readonly maxConnections: number;
}

function settingsOf(options: AiomsgSocketOptions): Settings {
  if ((options.bind === undefined) === (options.connect === undefined)) {
    throw new InteropError('HERALD_ERR_BAD_OPTION', 'give exactly one of bind and connect');
  }
  const sendMode = options.sendMode ?? 'round-robin';
  if (!['publish', 'round-robin', 'identity'].includes(sendMode)) {
    throw new InteropError('HERALD_ERR_BAD_OPTION', `unknown sendMode ${String(sendMode)}`);
  }
  const guarantee = options.deliveryGuarantee ?? 'at-most-once';
  if (!['at-most-once', 'at-least-once'].includes(guarantee)) {
    throw new InteropError('HERALD_ERR_BAD_OPTION', `unknown deliveryGuarantee ${guarantee}`);
  }
  const identity = identityBytes(options.identity);
  return {
    transport: options.transport ?? tcpTransport,
    identity,
    identityHex: toHex(identity),
    sendMode,
    guarantee,
    payloadFormat: options.payloadFormat ?? 'bytes',
    maxFrameBytes: positive(
      'maxFrameBytes',
      options.maxFrameBytes,
      DEFAULT_AIOMSG_MAX_FRAME_BYTES,
      18,
    ),
    heartbeatIntervalMs: positive(
      'heartbeatIntervalMs',
      options.heartbeatIntervalMs,
      DEFAULT_AIOMSG_HEARTBEAT_INTERVAL_MS,
    ),
    heartbeatTimeoutMs: positive(
      'heartbeatTimeoutMs',
      options.heartbeatTimeoutMs,
      DEFAULT_AIOMSG_HEARTBEAT_TIMEOUT_MS,
    ),
    resendAfterMs: positive('resendAfterMs', options.resendAfterMs, DEFAULT_AIOMSG_RESEND_AFTER_MS),
    resendBackoff: positive('resendBackoff', options.resendBackoff, DEFAULT_AIOMSG_RESEND_BACKOFF),
    maxResendMs: positive('maxResendMs', options.maxResendMs, DEFAULT_AIOMSG_MAX_RESEND_MS),
    maxRetries: positive('maxRetries', options.maxRetries, DEFAULT_AIOMSG_MAX_RETRIES, 0),
    dedupWindow: positive('dedupWindow', options.dedupWindow, DEFAULT_AIOMSG_DEDUP_WINDOW),
    bufferLimit: positive('bufferLimit', options.bufferLimit, DEFAULT_AIOMSG_BUFFER_LIMIT),
    congestedBytes: positive(
      'congestedBytes',
      options.congestedBytes,
      DEFAULT_AIOMSG_CONGESTED_BYTES,
    ),
    reconnectMs: positive('reconnectMs', options.reconnectMs, DEFAULT_AIOMSG_RECONNECT_MS),
    maxConnections: positive(
      'maxConnections',
      options.maxConnections,
      DEFAULT_AIOMSG_MAX_CONNECTIONS,
    ),
    maxReconnectMs: positive(
      'maxReconnectMs',
      options.maxReconnectMs,
      DEFAULT_AIOMSG_MAX_RECONNECT_MS,
    ),
  };
}

/**
 * The socket as a handler behavior, for `runtime.spawn` / `self.spawn`. Events go to
 * `options.owner`, else to the spawning actor (the parent).
 */
export function aiomsgSocketBehavior(options: AiomsgSocketOptions): Handler {
  const s = settingsOf(options);
  const connections = new Map<number, Connection>();
  /** Active (HELLO exchanged) connections by peer identity, in join order. */
  const peers = new Map<string, Connection>();
  const buffer: Outgoing[] = [];
  const pending = new Map<string, Pending>();
  const seen = new Map<string, true>();
  let self!: Self;
  let owner!: Address;
  let nextConn = 1;
  let robin = 0;
  let listener: TransportListener | undefined;
  let dialAbort: AbortController | undefined;
  let reconnectDelay = s.reconnectMs;
  let closed = false;

  const post = (message: AnyMessage): void => {
    if (!closed) self.runtime.send(self.address, message, self.address);
  };

  const emit = (message: AnyMessage): boolean => self.send(owner, message);

  function adopt(stream: Duplex, host: string, port: number, dialed: boolean): void {
    if (closed) {
      stream.destroy();
      return;
    }
    if (connections.size >= s.maxConnections) {
      self.log.warn(
        { remote: `${host}:${port}`, limit: s.maxConnections },
        'aiomsg connection refused: too many connections',
      );
      stream.on('error', () => {});
      stream.destroy();
      return;
    }
    const id = nextConn++;
    const now = self.runtime.clock.now();
    const conn: Connection = {
      id,
      stream,
      host,
      port,
      dialed,
      decoder: new FrameDecoder(s.maxFrameBytes),
      identity: undefined,
      lastSent: now,
      lastFrame: now,
      fresh: true,
    };
    connections.set(id, conn);
    stream.on('data', (chunk: Buffer) => {
      // One chunk in the mailbox per connection: resumed once the actor took it.
      stream.pause();
      post(IoData({ conn: id, chunk }));
    });
    stream.on('drain', () => post(IoDrained({ conn: id })));
    stream.on('error', (error: Error) => post(IoEnded({ conn: id, detail: error.message })));
    stream.on('close', () => post(IoEnded({ conn: id, detail: 'closed by peer' })));
    // The HELLO goes out at once, before reading: the reference's bind side reads a byte
    // to tell raw frames from WebSocket before it sends its own HELLO.
    write(conn, encodeHello(s.identity));
    self.startTimer(`rx:${id}`, s.heartbeatTimeoutMs, { message: ReceiveCheck({ conn: id }) });
    post(IoOpened({ conn: id }));
  }

  function write(conn: Connection, envelope: Uint8Array): void {
    conn.lastSent = self.runtime.clock.now();
    conn.stream.write(frame(envelope));
  }

  function drop(
    conn: Connection,
    code: AiomsgReasonCode,
    reason: string,
    level: 'warn' | 'info',
  ): void {
    if (!connections.delete(conn.id)) return;
    if (conn.identity !== undefined && peers.get(conn.identity) === conn)
      peers.delete(conn.identity);
    self.cancelTimer(`rx:${conn.id}`);
    self.cancelTimer(`hb:${conn.id}`);
    conn.stream.removeAllListeners('data');
    conn.stream.on('error', () => {});
    if (code === 'HERALD_ERR_AIOMSG_SOCKET_CLOSED') conn.stream.end();
    else conn.stream.destroy();
    self.log[level](
      { conn: conn.id, peer: conn.identity, remote: `${conn.host}:${conn.port}`, code },
      `aiomsg connection closed: ${reason}`,
    );
    emit(
      AiomsgPeerLeft({
        ...(conn.identity === undefined ? {} : { identity: conn.identity }),
        host: conn.host,
        port: conn.port,
        code,
        reason,
      }),
    );
    if (conn.dialed && !closed) scheduleRedial();
  }

  function scheduleRedial(): void {
    self.startTimer('redial', reconnectDelay, { message: Redial() });
    reconnectDelay = Math.min(reconnectDelay * 2, s.maxReconnectMs);
  }

  function dial(): void {
    const at = options.connect as AiomsgEndpoint;
    dialAbort = new AbortController();
    s.transport.dial(at, { signal: dialAbort.signal }).then(
      (c) => adopt(c.stream, c.remote.host, c.remote.port, true),
      (error: unknown) => post(DialFailed({ detail: (error as Error).message })),
    );
  }

  // ---- receiving -------------------------------------------------------------------------

  function onFrame(conn: Connection, envelopeBytes: Uint8Array): void {
    conn.lastFrame = self.runtime.clock.now();
    const env = decodeEnvelope(envelopeBytes);
    if (conn.identity === undefined) {
      if (env.kind !== 'hello') {
        drop(
          conn,
          'HERALD_ERR_AIOMSG_EXPECTED_HELLO',
          `first frame was ${env.kind}, not HELLO`,
          'warn',
        );
        return;
      }
      if (env.version !== AIOMSG_PROTOCOL_VERSION) {
        drop(
          conn,
          'HERALD_ERR_AIOMSG_BAD_VERSION',
          `unsupported protocol version ${env.version}`,
          'warn',
        );
        return;
      }
      const identity = toHex(env.identity);
      if (peers.has(identity) || identity === s.identityHex) {
        drop(
          conn,
          'HERALD_ERR_AIOMSG_DUPLICATE_IDENTITY',
          `identity ${identity} is already connected`,
          'warn',
        );
        return;
      }
      conn.identity = identity;
      peers.set(identity, conn);
      if (conn.dialed) reconnectDelay = s.reconnectMs;
      self.log.info({ conn: conn.id, peer: identity }, 'aiomsg peer joined');
      emit(AiomsgPeerJoined({ identity, host: conn.host, port: conn.port }));
      scheduleHeartbeat(conn);
      flush();
      for (const p of pending.values()) if (p.target === identity) transmit(p, conn);
      return;
    }
    switch (env.kind) {
      case 'heartbeat':
      case 'unknown':
      case 'hello':
        return; // a second HELLO is ignored like any frame with no meaning here
      case 'malformed':
        drop(conn, 'HERALD_ERR_AIOMSG_BAD_ENVELOPE', env.detail, 'warn');
        return;
      case 'data':
        deliver(conn.identity, Uint8Array.from(env.payload), undefined);
        return;
      case 'data-req': {
        const messageId = toHex(env.messageId);
        const key = `${conn.identity}:${messageId}`;
        if (!seen.has(key)) {
          if (!deliver(conn.identity, Uint8Array.from(env.payload), messageId)) return; // not taken: no ack, the sender resends
          remember(key);
        }
        write(conn, encodeAck(env.messageId));
        return;
      }
      case 'ack': {
        const messageId = toHex(env.messageId);
        const p = pending.get(messageId) ?? pending.get(`${messageId}:${conn.identity}`);
        if (p === undefined || (p.target !== undefined && p.target !== conn.identity)) return;
        pending.delete(p.key);
        self.cancelTimer(`resend:${p.key}`);
        emit(
          AiomsgDelivered({
            messageId,
            identity: conn.identity,
            ...(p.ref === undefined ? {} : { ref: p.ref }),
          }),
        );
        return;
      }
    }
  }

  function remember(key: string): void {
    seen.set(key, true);
    if (seen.size > s.dedupWindow) {
      const oldest = seen.keys().next();
      if (oldest.done !== true) seen.delete(oldest.value);
    }
  }

  /** Hands a payload to the owner; false when its mailbox refused it (a dead letter). */
  function deliver(identity: string, payload: Uint8Array, messageId: string | undefined): boolean {
    const id = messageId === undefined ? {} : { messageId };
    if (s.payloadFormat === 'msgpack') {
      let message: unknown;
      try {
        // A fresh view: msgpackr hangs a `dataView` on the array it reads.
        message = packr.unpack(new Uint8Array(payload.buffer, payload.byteOffset, payload.length));
      } catch (error) {
        return emit(AiomsgUndecodable({ identity, payload, reason: (error as Error).message }));
      }
      return emit(AiomsgMessage({ identity, message, ...id }));
    }
    return emit(AiomsgReceived({ identity, payload, ...id }));
  }

  // ---- sending ---------------------------------------------------------------------------

  function congested(conn: Connection): boolean {
    return conn.stream.writableLength > s.congestedBytes;
  }

  function notDelivered(
    o: { ref: string | undefined },
    code: AiomsgReasonCode,
    reason: string,
    extra: { messageId?: string; identity?: string } = {},
  ): void {
    emit(
      AiomsgNotDelivered({
        ...extra,
        ...(o.ref === undefined ? {} : { ref: o.ref }),
        code,
        reason,
      }),
    );
  }

  function send(o: Outgoing): void {
    if (o.identity !== undefined) {
      if (!/^[0-9a-f]{32}$/.test(o.identity)) {
        notDelivered(o, 'HERALD_ERR_AIOMSG_BAD_SEND', 'identity must be 32 lowercase hex digits');
        return;
      }
      const conn = peers.get(o.identity);
      if (s.guarantee === 'at-least-once') {
        const p = newPending(o, o.identity);
        if (conn !== undefined) transmit(p, conn);
        else armResend(p); // written when the peer joins, or on the resend timer
        return;
      }
      if (conn === undefined) {
        notDelivered(o, 'HERALD_ERR_AIOMSG_NO_SUCH_PEER', `no peer ${o.identity} is connected`, {
          identity: o.identity,
        });
        return;
      }
      write(conn, encodeData(o.payload));
      return;
    }
    if (s.sendMode === 'identity') {
      notDelivered(
        o,
        'HERALD_ERR_AIOMSG_BAD_SEND',
        "sendMode 'identity' needs an identity on every send",
      );
      return;
    }
    if (buffer.length > 0 || !dispatch(o)) enqueue(o);
  }

  /** Writes a send without identity now; false when no peer can take it (buffer it). */
  function dispatch(o: Outgoing): boolean {
    if (peers.size === 0) return false;
    if (s.sendMode === 'publish') {
      if (s.guarantee === 'at-least-once') {
        const messageId = newMessageId();
        for (const [identity, conn] of peers) transmit(newPending(o, identity, messageId), conn);
      } else {
        for (const conn of peers.values()) write(conn, encodeData(o.payload));
      }
      return true;
    }
    const conn = nextPeer();
    if (conn === undefined) return false;
    if (s.guarantee === 'at-least-once') transmit(newPending(o, undefined), conn);
    else write(conn, encodeData(o.payload));
    return true;
  }

  /** The next uncongested peer in turn, or undefined when all are congested. */
  function nextPeer(): Connection | undefined {
    const all = [...peers.values()];
    for (let i = 0; i < all.length; i++) {
      const conn = all[(robin + i) % all.length] as Connection;
      if (!congested(conn)) {
        robin = (robin + i + 1) % all.length;
        return conn;
      }
    }
    return undefined;
  }

  function enqueue(o: Outgoing): void {
    if (buffer.length >= s.bufferLimit) {
      notDelivered(
        o,
        'HERALD_ERR_AIOMSG_BUFFER_FULL',
        `send buffer full (${s.bufferLimit} messages)`,
      );
      return;
    }
    buffer.push(o);
  }

  function flush(): void {
    while (buffer.length > 0 && dispatch(buffer[0] as Outgoing)) buffer.shift();
  }

  function newMessageId(): Uint8Array {
    return Buffer.from(randomUUID().replaceAll('-', ''), 'hex');
  }

  function newPending(
    o: Outgoing,
    target: string | undefined,
    messageId = newMessageId(),
  ): Pending {
    const messageIdHex = toHex(messageId);
    const key =
      s.sendMode === 'publish' && o.identity === undefined
        ? `${messageIdHex}:${target}`
        : messageIdHex;
    const p: Pending = {
      key,
      messageId,
      messageIdHex,
      payload: o.payload,
      ref: o.ref,
      target,
      retries: 0,
      delay: s.resendAfterMs,
    };
    pending.set(key, p);
    return p;
  }

  function transmit(p: Pending, conn: Connection): void {
    write(conn, encodeDataReq(p.messageId, p.payload));
    armResend(p);
  }

  function armResend(p: Pending): void {
    self.startTimer(`resend:${p.key}`, p.delay, { message: ResendDue({ key: p.key }) });
  }

  function resend(p: Pending): void {
    if (p.retries >= s.maxRetries) {
      pending.delete(p.key);
      notDelivered(p, 'HERALD_ERR_AIOMSG_RETRIES_EXHAUSTED', `no ACK after ${p.retries} resends`, {
        messageId: p.messageIdHex,
        ...(p.target === undefined ? {} : { identity: p.target }),
      });
      return;
    }
    p.retries++;
    p.delay = Math.min(p.delay * s.resendBackoff, s.maxResendMs);
    const conn = p.target === undefined ? nextPeer() : peers.get(p.target);
    self.log.debug(
      { messageId: p.messageIdHex, retries: p.retries, peer: conn?.identity },
      'aiomsg resend',
    );
    if (conn !== undefined) transmit(p, conn);
    else armResend(p);
  }

  // ---- heartbeats ------------------------------------------------------------------------

  function scheduleHeartbeat(conn: Connection): void {
    const wait = conn.lastSent + s.heartbeatIntervalMs - self.runtime.clock.now();
    self.startTimer(`hb:${conn.id}`, Math.max(0, wait), {
      message: HeartbeatDue({ conn: conn.id }),
    });
  }

  function onHeartbeatDue(conn: Connection): void {
    if (self.runtime.clock.now() - conn.lastSent >= s.heartbeatIntervalMs)
      write(conn, encodeHeartbeat());
    scheduleHeartbeat(conn);
  }

  function onReceiveCheck(conn: Connection): void {
    const idle = self.runtime.clock.now() - conn.lastFrame;
    if (idle >= s.heartbeatTimeoutMs) {
      drop(
        conn,
        'HERALD_ERR_AIOMSG_HEARTBEAT_TIMEOUT',
        conn.identity === undefined
          ? `no HELLO within ${s.heartbeatTimeoutMs} ms`
          : `no frame within ${s.heartbeatTimeoutMs} ms`,
        'warn',
      );
      return;
    }
    self.startTimer(`rx:${conn.id}`, s.heartbeatTimeoutMs - idle, {
      message: ReceiveCheck({ conn: conn.id }),
    });
  }

  // ---- closing ---------------------------------------------------------------------------

  function close(): void {
    if (closed) return;
    for (const conn of [...connections.values()])
      drop(conn, 'HERALD_ERR_AIOMSG_SOCKET_CLOSED', 'socket closed', 'info');
    closed = true;
    dialAbort?.abort();
    self.cancelTimer('redial');
    for (const p of pending.values()) {
      self.cancelTimer(`resend:${p.key}`);
      notDelivered(p, 'HERALD_ERR_AIOMSG_SOCKET_CLOSED', 'socket closed before an ACK', {
        messageId: p.messageIdHex,
        ...(p.target === undefined ? {} : { identity: p.target }),
      });
    }
    pending.clear();
    for (const o of buffer)
      notDelivered(o, 'HERALD_ERR_AIOMSG_SOCKET_CLOSED', 'socket closed before a peer took it');
    buffer.length = 0;
    const l = listener;
    listener = undefined;
    const done = (): void => self.complete();
    if (l === undefined) done();
    else void l.close().then(done, done);
  }

  return {
    name: options.name ?? 'aiomsg-socket',
    start(me) {
      self = me;
      owner = options.owner ?? me.parent ?? me.address;
      if (options.connect !== undefined) {
        dial();
        return;
      }
      const at = options.bind as AiomsgEndpoint;
      s.transport
        .listen(at, (c) => {
          // The reference's bind side tells WebSocket ('G') from raw aiomsg (0x00) by the
          // first byte; Herald speaks raw aiomsg only and says so rather than hanging.
          adopt(c.stream, c.remote.host, c.remote.port, false);
        })
        .then(
          (l) => {
            if (closed) void l.close();
            else {
              listener = l;
              post(Listening({ host: l.address.host, port: l.address.port }));
            }
          },
          (error: unknown) => post(ListenFailed({ detail: (error as Error).message })),
        );
    },
    receive(me, message, envelope) {
      self = me;
      if (INTERNAL.has(message.type) && !envelope.from.equals(me.address)) {
        me.log.warn(
          { from: envelope.from.toString(), type: message.type },
          'forged internal message ignored',
        );
        return;
      }
      if (AiomsgSend.is(message)) {
        const o: Outgoing = {
          payload: message.payload,
          identity: message.identity,
          ref: message.ref,
        };
        if (closed) notDelivered(o, 'HERALD_ERR_AIOMSG_SOCKET_CLOSED', 'socket closed');
        else send(o);
      } else if (AiomsgSendMessage.is(message)) {
        const o: Outgoing = {
          payload: packr.pack(message.message),
          identity: message.identity,
          ref: message.ref,
        };
        if (closed) notDelivered(o, 'HERALD_ERR_AIOMSG_SOCKET_CLOSED', 'socket closed');
        else send(o);
      } else if (AiomsgClose.is(message) || Stop.is(message)) {
        close();
      } else if (IoData.is(message)) {
        const conn = connections.get(message.conn);
        if (conn === undefined) return;
        const first = conn.fresh;
        conn.fresh = false;
        if (first && !conn.dialed && message.chunk[0] === WEBSOCKET_FIRST_BYTE) {
          drop(
            conn,
            'HERALD_ERR_AIOMSG_WEBSOCKET_UNSUPPORTED',
            'WebSocket upgrade on a raw aiomsg socket',
            'warn',
          );
          return;
        }
        const result = conn.decoder.push(message.chunk);
        for (const f of result.frames) {
          if (!connections.has(conn.id)) return;
          onFrame(conn, f);
        }
        if (!result.ok) {
          drop(
            conn,
            'HERALD_ERR_AIOMSG_FRAME_TOO_LARGE',
            `frame of ${result.tooLarge} bytes over the limit of ${s.maxFrameBytes}`,
            'warn',
          );
          return;
        }
        if (connections.has(conn.id)) conn.stream.resume();
      } else if (IoEnded.is(message)) {
        const conn = connections.get(message.conn);
        if (conn !== undefined)
          drop(conn, 'HERALD_ERR_AIOMSG_CONNECTION_LOST', message.detail, 'info');
      } else if (IoDrained.is(message)) {
        flush();
      } else if (IoOpened.is(message)) {
        const conn = connections.get(message.conn);
        if (conn !== undefined)
          me.log.debug(
            { conn: conn.id, remote: `${conn.host}:${conn.port}` },
            'aiomsg connection opened',
          );
      } else if (HeartbeatDue.is(message)) {
        const conn = connections.get(message.conn);
        if (conn !== undefined) onHeartbeatDue(conn);
      } else if (ReceiveCheck.is(message)) {
        const conn = connections.get(message.conn);
        if (conn !== undefined) onReceiveCheck(conn);
      } else if (ResendDue.is(message)) {
        const p = pending.get(message.key);
        if (p !== undefined) resend(p);
      } else if (Redial.is(message)) {
        if (!closed) dial();
      } else if (DialFailed.is(message)) {
        me.log.info({ detail: message.detail }, 'aiomsg dial failed, redialing');
        if (!closed) scheduleRedial();
      } else if (Listening.is(message)) {
        me.log.info({ host: message.host, port: message.port }, 'aiomsg socket bound');
        emit(AiomsgBound({ host: message.host, port: message.port }));
      } else if (ListenFailed.is(message)) {
        emit(AiomsgFailed({ code: 'HERALD_ERR_AIOMSG_LISTEN_FAILED', reason: message.detail }));
        close();
      } else {
        me.log.debug({ type: message.type }, 'aiomsg socket ignored a message');
        me.runtime.reportDeadLetter({
          to: me.address,
          from: envelope.from,
          message,
          reason: 'unmatched',
        });
      }
    },
    end() {
      closed = true;
      dialAbort?.abort();
      for (const conn of connections.values()) conn.stream.destroy();
      connections.clear();
      void listener?.close();
    },
  };
}

/** Spawns an aiomsg socket as a child of `self` and returns its address. */
export function aiomsgSocket(self: Self, options: AiomsgSocketOptions): Address {
  return self.spawn(aiomsgSocketBehavior(options));
}
