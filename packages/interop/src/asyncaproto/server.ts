/**
 * An AsyncAProto server actor: answers AsyncAPY clients in JSON and ZiProto, with handlers
 * chosen by a {@link Router} (filters in ordered groups).
 *
 * Each connection reads packets one at a time: a packet is dispatched, its replies are
 * written in the request's encoding, then the next packet is read. Errors are answered as
 * the reference does, `{"status":"failure","error":"ERR_…"}`, and the connection is then
 * closed. Unlike the reference, a packet has a size limit (ERR_REQUEST_TOO_LARGE), a request
 * no handler takes is answered (ERR_NO_HANDLER), and a handler that throws is answered
 * (ERR_HANDLER_FAILED) rather than killing the session silently.
 */
import type { Duplex } from 'node:stream';
import { defineMessage, t, type Address, type AnyMessage } from '@herald/codec';
import { tcpTransport, type Transport, type TransportListener } from '@herald/net';
import { Stop, type Handler, type Self } from '@herald/runtime';
import { InteropError } from '../errors.js';
import type { Router } from '../routing/router.js';
import {
  DEFAULT_ASYNCAPROTO_BYTE_ORDER,
  DEFAULT_ASYNCAPROTO_HEADER_SIZE,
  DEFAULT_ASYNCAPROTO_MAX_PACKET_BYTES,
  encodePacket,
  failure,
  parsePacket,
  readLength,
  type AsyncaprotoEncoding,
  type AsyncaprotoErrorCode,
  type PacketFormat,
} from './packet.js';

/** AsyncAPY's session timeout (its `timeout`, 60 s): here, the wait for a whole request. */
export const DEFAULT_ASYNCAPROTO_TIMEOUT_MS = 60_000;

/** Connections served at once; more are closed on accept (logged at warn). */
export const DEFAULT_ASYNCAPROTO_MAX_SESSIONS = 1024;

/** What a handler gets as its message: the decoded payload and how it came. */
export interface AsyncaprotoRequest {
  readonly payload: Record<string, unknown>;
  readonly encoding: AsyncaprotoEncoding;
}

export interface AsyncaprotoServerOptions {
  readonly bind: { readonly host: string; readonly port: number };
  /** Handlers; `ctx.message` is the request, `ctx.reply(object)` answers it. */
  readonly router: Router<AsyncaprotoRequest>;
  readonly transport?: Transport;
  readonly headerSize?: number;
  readonly byteOrder?: 'big' | 'little';
  readonly maxPacketBytes?: number;
  readonly timeoutMs?: number;
  /** Close each connection after its first request is answered, as the reference does. */
  readonly closeAfterRequest?: boolean;
  /** Connections served at once. */
  readonly maxSessions?: number;
  /** Who gets AsyncaprotoListening / AsyncaprotoFailed; the spawning actor by default. */
  readonly owner?: Address;
  readonly name?: string;
}

export const AsyncaprotoListening = defineMessage('herald.asyncaproto.Listening', {
  host: t.string(),
  port: t.int(),
});
export const AsyncaprotoFailed = defineMessage('herald.asyncaproto.Failed', { reason: t.string() });

const Listening = defineMessage('herald.asyncaproto.internal.Listening', {
  host: t.string(),
  port: t.int(),
});
const ListenFailed = defineMessage('herald.asyncaproto.internal.ListenFailed', {
  detail: t.string(),
});
const Timeout = defineMessage('herald.asyncaproto.internal.Timeout', { conn: t.int() });

interface Session {
  readonly id: number;
  readonly stream: Duplex;
  readonly peer: string;
  chunks: Buffer[];
  buffered: number;
  busy: boolean;
  done: boolean;
}

export function asyncaprotoServerBehavior(options: AsyncaprotoServerOptions): Handler {
  const format: PacketFormat = {
    headerSize: options.headerSize ?? DEFAULT_ASYNCAPROTO_HEADER_SIZE,
    byteOrder: options.byteOrder ?? DEFAULT_ASYNCAPROTO_BYTE_ORDER,
  };
  if (!Number.isInteger(format.headerSize) || format.headerSize < 1 || format.headerSize > 8) {
    throw new InteropError('HERALD_ERR_BAD_OPTION', 'headerSize must be an integer from 1 to 8');
  }
  if (format.byteOrder !== 'big' && format.byteOrder !== 'little') {
    throw new InteropError('HERALD_ERR_BAD_OPTION', "byteOrder must be 'big' or 'little'");
  }
  const maxPacketBytes = options.maxPacketBytes ?? DEFAULT_ASYNCAPROTO_MAX_PACKET_BYTES;
  const timeoutMs = options.timeoutMs ?? DEFAULT_ASYNCAPROTO_TIMEOUT_MS;
  const transport = options.transport ?? tcpTransport;
  const sessions = new Map<number, Session>();
  let self!: Self;
  let listener: TransportListener | undefined;
  let nextId = 1;
  let closed = false;

  const post = (message: AnyMessage): void => {
    if (!closed) self.runtime.send(self.address, message, self.address);
  };

  function end(
    session: Session,
    error: AsyncaprotoErrorCode | undefined,
    encoding: AsyncaprotoEncoding,
    detail: string,
  ): void {
    if (session.done) return;
    session.done = true;
    sessions.delete(session.id);
    self.cancelTimer(`timeout:${session.id}`);
    if (error !== undefined) {
      self.log.warn(
        { conn: session.id, peer: session.peer, error, detail },
        'asyncaproto request refused',
      );
      session.stream.end(encodePacket(failure(error), encoding, format));
    } else {
      session.stream.end();
    }
  }

  function pump(session: Session): void {
    if (session.busy || session.done) return;
    if (session.buffered < format.headerSize) return;
    const all = Buffer.concat(session.chunks);
    session.chunks = [all];
    const length = readLength(all.subarray(0, format.headerSize), format);
    if (length > maxPacketBytes) {
      end(session, 'ERR_REQUEST_TOO_LARGE', 'json', `LENGTH ${length} over ${maxPacketBytes}`);
      return;
    }
    if (session.buffered < format.headerSize + length) return;
    const body = all.subarray(format.headerSize, format.headerSize + length);
    session.chunks = [all.subarray(format.headerSize + length)];
    session.buffered -= format.headerSize + length;
    const parsed = parsePacket(body);
    if (!parsed.ok) {
      end(session, parsed.error, parsed.encoding, parsed.detail);
      return;
    }
    session.busy = true;
    session.stream.pause();
    self.cancelTimer(`timeout:${session.id}`);
    let answered = false;
    void options.router
      .dispatch(
        { payload: parsed.payload, encoding: parsed.encoding },
        { address: session.peer },
        self,
        (answer) => {
          if (session.done) return;
          answered = true;
          session.stream.write(encodePacket(answer, parsed.encoding, format));
        },
      )
      .then((outcome) => {
        session.busy = false;
        if (outcome.failure !== undefined) {
          end(
            session,
            'ERR_HANDLER_FAILED',
            parsed.encoding,
            `${outcome.failure.handler}: ${outcome.failure.error}`,
          );
        } else if (outcome.handled.length === 0) {
          end(session, 'ERR_NO_HANDLER', parsed.encoding, 'no handler matched');
        } else if (options.closeAfterRequest === true) {
          end(session, undefined, parsed.encoding, answered ? 'answered' : 'handled');
        } else if (!session.done) {
          post(Timeout({ conn: -session.id })); // re-arm the timer inside a turn
          session.stream.resume();
          pump(session);
        }
      });
  }

  function adopt(stream: Duplex, host: string, port: number): void {
    if (closed) {
      stream.destroy();
      return;
    }
    if (sessions.size >= (options.maxSessions ?? DEFAULT_ASYNCAPROTO_MAX_SESSIONS)) {
      self.log.warn(
        { peer: `${host}:${port}` },
        'asyncaproto connection refused: too many sessions',
      );
      stream.on('error', () => {});
      stream.destroy();
      return;
    }
    const session: Session = {
      id: nextId++,
      stream,
      peer: `${host}:${port}`,
      chunks: [],
      buffered: 0,
      busy: false,
      done: false,
    };
    sessions.set(session.id, session);
    stream.on('data', (chunk: Buffer) => {
      if (session.done) return;
      session.chunks.push(chunk);
      session.buffered += chunk.length;
      pump(session);
    });
    stream.on('error', () => {});
    stream.on('close', () => {
      session.done = true;
      sessions.delete(session.id);
    });
    post(Timeout({ conn: -session.id }));
  }

  return {
    name: options.name ?? 'asyncaproto-server',
    start(me) {
      self = me;
      transport
        .listen(options.bind, (c) => adopt(c.stream, c.remote.host, c.remote.port))
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
      const internal = Listening.is(message) || ListenFailed.is(message) || Timeout.is(message);
      if (internal && !envelope.from.equals(me.address)) return;
      const owner = options.owner ?? me.parent ?? me.address;
      if (Listening.is(message)) {
        me.send(owner, AsyncaprotoListening({ host: message.host, port: message.port }));
      } else if (ListenFailed.is(message)) {
        me.send(owner, AsyncaprotoFailed({ reason: message.detail }));
        me.complete();
      } else if (Timeout.is(message)) {
        if (message.conn < 0) {
          // Arm (or re-arm) the wait for the session's next whole request.
          if (sessions.has(-message.conn))
            me.startTimer(`timeout:${-message.conn}`, timeoutMs, {
              message: Timeout({ conn: -message.conn }),
            });
          return;
        }
        const session = sessions.get(message.conn);
        if (session !== undefined && !session.busy)
          end(session, 'ERR_TIMED_OUT', 'json', `no whole request within ${timeoutMs} ms`);
      } else if (Stop.is(message)) {
        closed = true;
        for (const session of [...sessions.values()])
          end(session, undefined, 'json', 'server stopped');
        const l = listener;
        listener = undefined;
        if (l === undefined) me.complete();
        else
          void l.close().then(
            () => me.complete(),
            () => me.complete(),
          );
      } else {
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
      for (const session of sessions.values()) session.stream.destroy();
      void listener?.close();
    },
  };
}

/** Spawns an AsyncAProto server as a child of `self` and returns its address. */
export function asyncaprotoServer(self: Self, options: AsyncaprotoServerOptions): Address {
  return self.spawn(asyncaprotoServerBehavior(options));
}
