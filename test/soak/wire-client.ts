/**
 * A hand-made Herald wire client for the soak harness (the approach of
 * packages/net/test/trust.test.ts): it completes a clear handshake with a `WireSession` and
 * then writes whatever headers or raw bytes it likes. Nothing here retains what it
 * receives beyond counters, so a long soak does not grow the harness's own heap.
 */
import net from 'node:net';
import { createCodec, type AnyMessage, type Catalogue } from '@herald/codec';
import { WireSession, type WireMessage } from '@herald/net/wire';

/** msgpack `{}`: a body any receiver can parse. */
export const EMPTY_MAP = Uint8Array.of(0x80);

export interface WireClient {
  readonly socket: net.Socket;
  /** Whether the socket has closed. */
  readonly ended: boolean;
  /** The server's CLOSE reason, once one came. */
  readonly closeReason: string | undefined;
  /** Messages received by type name (counts only). */
  readonly received: Map<string, number>;
  /** The space of the last message of `typeName` received. */
  lastSpace(typeName: string): readonly (readonly number[])[] | undefined;
  send(m: Partial<WireMessage> & { typeName: string }): string;
  sendMessage(message: AnyMessage, to?: readonly number[], ret?: readonly number[]): void;
  write(bytes: Uint8Array): void;
  /** Resolves when `check()` holds, re-checked on every event of this client; rejects after `ms`. */
  until(check: () => boolean, ms: number, what: string): Promise<void>;
  /** Resolves when the socket has closed (or after `ms`, destroying it). */
  closed(ms: number): Promise<void>;
  destroy(): void;
}

export interface WireClientOptions {
  readonly answerPings?: boolean;
  readonly timeoutMs?: number;
}

/** Connects to 127.0.0.1:`port` and completes a clear handshake. */
export async function wireClient(
  port: number,
  catalogue: Catalogue,
  options: WireClientOptions = {},
): Promise<WireClient> {
  const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
  socket.on('error', () => {});
  const wire = new WireSession({ role: 'connector', encrypt: false, keepaliveMs: 0 });
  const codec = createCodec({ catalogue });
  const received = new Map<string, number>();
  const spaces = new Map<string, readonly (readonly number[])[]>();
  const waiters = new Set<() => void>();
  let ended = false;
  let closeReason: string | undefined;
  let established = false;
  const wake = (): void => {
    for (const w of [...waiters]) w();
  };
  const flush = (): void => {
    const out = wire.flush();
    if (out !== null && !socket.destroyed) socket.write(out);
  };
  socket.on('data', (chunk: Buffer) => {
    let events;
    try {
      events = wire.receive(chunk);
    } catch {
      socket.destroy();
      return;
    }
    for (const event of events) {
      switch (event.type) {
        case 'established':
          established = true;
          break;
        case 'ping':
          if (options.answerPings !== false && wire.state === 'open') wire.pong(event.seq);
          break;
        case 'closed':
          closeReason = event.reason;
          break;
        case 'failed':
          closeReason = `client-side: ${event.error.code}`;
          break;
        case 'message': {
          const name = event.message.typeName;
          received.set(name, (received.get(name) ?? 0) + 1);
          if (event.message.space.length > 0) spaces.set(name, event.message.space);
          break;
        }
        default:
          break;
      }
    }
    flush();
    wake();
  });
  socket.once('close', () => {
    ended = true;
    wake();
  });
  const until = (check: () => boolean, ms: number, what: string): Promise<void> =>
    new Promise<void>((resolve, reject) => {
      if (check()) return resolve();
      const timer = setTimeout(() => {
        waiters.delete(waiter);
        reject(new Error(`soak: timed out after ${ms} ms waiting for ${what}`));
      }, ms);
      const waiter = (): void => {
        if (!check()) return;
        clearTimeout(timer);
        waiters.delete(waiter);
        resolve();
      };
      waiters.add(waiter);
    });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('error', reject);
  });
  socket.write(wire.start());
  await until(() => established || ended, options.timeoutMs ?? 5_000, 'the handshake');
  if (!established) throw new Error(`soak: handshake failed (${closeReason ?? 'closed'})`);
  return {
    socket,
    get ended() {
      return ended;
    },
    get closeReason() {
      return closeReason;
    },
    received,
    lastSpace: (typeName) => spaces.get(typeName),
    send(m) {
      // The server may have closed the session already (a CLOSE came): nothing to send then.
      if (wire.state !== 'open') return 'closed';
      const result = wire.send({
        bodyMode: 0,
        to: [],
        ret: [77],
        space: [],
        body: EMPTY_MAP,
        ...m,
      });
      flush();
      return result.type;
    },
    sendMessage(message, to = [], ret = [77]) {
      if (wire.state !== 'open') return;
      const encoded = codec.encodeBody(message);
      wire.send({
        bodyMode: encoded.flags,
        to,
        ret,
        typeName: message.type,
        space: encoded.addresses.map((a) => a.hops),
        body: encoded.body,
      });
      flush();
    },
    write(bytes) {
      if (!socket.destroyed) socket.write(bytes);
    },
    until,
    async closed(ms) {
      await until(() => ended, ms, 'the socket to close').catch(() => socket.destroy());
      if (!ended) await until(() => ended, 1_000, 'the destroyed socket to close').catch(() => {});
    },
    destroy() {
      socket.destroy();
    },
  };
}

/** Opens a plain TCP socket to 127.0.0.1:`port` (no handshake). */
export function rawSocket(port: number): Promise<net.Socket> {
  return new Promise((resolve, reject) => {
    const socket = net.connect({ host: '127.0.0.1', port, noDelay: true });
    socket.on('error', () => {});
    socket.resume();
    socket.once('connect', () => resolve(socket));
    socket.once('error', reject);
  });
}

/** Resolves when `socket` has closed, destroying it after `ms`. */
export function socketClosed(socket: net.Socket, ms: number): Promise<void> {
  if (socket.destroyed && socket.closed) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => socket.destroy(), ms);
    socket.once('close', () => {
      clearTimeout(timer);
      resolve();
    });
  });
}
