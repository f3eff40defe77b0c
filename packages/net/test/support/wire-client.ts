/**
 * A hand-made wire client for attack tests: it completes a clear handshake with its own
 * `WireSession`, then sends MESSAGE frames with whatever header it likes (any `to`, any
 * return stack, any type name) or raw bytes. Everything the server sends is kept in
 * `events`. The caller closes it (`destroy()`, or through its cleanup list).
 *
 * (test/soak/wire-client.ts is the soak harness's variant: it keeps counters only, so a
 * run of a million frames does not grow its own heap.)
 */
import { createCodec, type AnyMessage, type Catalogue } from '@herald/codec';
import { DEFAULT_WAIT_MS, withTimeout } from '@herald/testing';
import { WireSession, type SessionEvent, type WireMessage } from '../../src/wire/index.js';
import { rawConnect, type RawClient } from './harness.js';

/** msgpack `{}`: a body any receiver can at least parse. */
export const EMPTY_MAP = Uint8Array.of(0x80);

export interface WireClient {
  readonly raw: RawClient;
  /** Everything the server's side of the session produced, in order. */
  readonly events: SessionEvent[];
  /** Sends one MESSAGE through the client's own wire session; returns the writer's result. */
  send(m: Partial<WireMessage> & { typeName: string }): ReturnType<WireSession['send']>;
  /** Sends `message` encoded self-contained to `to` with return stack `ret` (default [77]). */
  sendMessage(message: AnyMessage, to: readonly number[], ret?: readonly number[]): void;
  /** Writes raw bytes (whole frames, or any bytes) on the socket. */
  write(bytes: Uint8Array): void;
  /** The first application message of `typeName` from the server. */
  next(typeName: string): Promise<WireMessage>;
  /** Decodes a message `next` returned (structure updates from the server applied). */
  decode(message: WireMessage): AnyMessage;
  /** Resolves when the server closed: its CLOSE reason, or undefined without one. */
  closed(timeoutMs?: number): Promise<string | undefined>;
  destroy(): Promise<void>;
}

export interface WireClientOptions {
  /** Answer the server's PINGs (default true). */
  readonly answerPings?: boolean;
}

/** Connects to 127.0.0.1:`port` and completes a clear handshake. */
export async function wireClient(
  port: number,
  catalogue: Catalogue,
  options: WireClientOptions = {},
): Promise<WireClient> {
  const raw = await rawConnect(port);
  const wire = new WireSession({ role: 'connector', encrypt: false, keepaliveMs: 0 });
  const stream = createCodec({ catalogue }).createStream();
  const plain = createCodec({ catalogue });
  const events: SessionEvent[] = [];
  const waiters: (() => void)[] = [];
  let established!: () => void;
  const open = new Promise<void>((resolve) => (established = resolve));
  const flush = (): void => {
    const out = wire.flush();
    if (out !== null && !raw.socket.destroyed) raw.socket.write(out);
  };
  raw.socket.on('data', (chunk: Buffer) => {
    for (const event of wire.receive(chunk)) {
      events.push(event);
      if (event.type === 'established') established();
      if (event.type === 'structures') stream.decoder.applyStructures(event.data);
      if (event.type === 'ping' && options.answerPings !== false) wire.pong(event.seq);
    }
    flush();
    for (const w of waiters.splice(0)) w();
  });
  raw.socket.once('close', () => {
    for (const w of waiters.splice(0)) w();
  });
  raw.socket.write(wire.start());
  await withTimeout(open, DEFAULT_WAIT_MS, 'the wire client handshake');
  const changed = (): Promise<void> => new Promise((resolve) => waiters.push(resolve));
  return {
    raw,
    events,
    send(m) {
      const result = wire.send({
        bodyMode: 0,
        to: [],
        ret: [77],
        space: [],
        body: EMPTY_MAP,
        ...m,
      });
      flush();
      return result;
    },
    sendMessage(message, to, ret = [77]) {
      const encoded = plain.encodeBody(message);
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
      raw.socket.write(bytes);
    },
    async next(typeName) {
      return withTimeout(
        (async () => {
          for (;;) {
            for (const e of events)
              if (e.type === 'message' && e.message.typeName === typeName) return e.message;
            if (raw.socket.destroyed) throw new Error(`closed before ${typeName} arrived`);
            await changed();
          }
        })(),
        DEFAULT_WAIT_MS,
        `${typeName} from the server`,
      );
    },
    decode(m) {
      return stream.decoder.decodeBody(m.typeName, m.body, [], m.bodyMode);
    },
    async closed(timeoutMs = DEFAULT_WAIT_MS) {
      await withTimeout(raw.closed, timeoutMs, 'the server to close the wire client');
      for (const e of events) if (e.type === 'closed') return e.reason;
      return undefined;
    },
    async destroy() {
      raw.socket.destroy();
      await raw.closed;
    },
  };
}
