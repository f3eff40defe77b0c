/**
 * A TCP transport that records the frames the dialing side writes, to measure what a
 * message waits behind on its way out (docs/priorities.md): which frames were still in
 * this process (in the stream's buffer, or not yet framed) when it was sent, and were
 * written ahead of it. Clear connections only (it reads frame headers). Used by
 * packages/net/test/priority.test.ts and bench/priority.ts.
 */
import { connect as tcpConnect, createServer, type AddressInfo, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';
import { tcpTransport, type Transport } from '../../src/index.js';
import { FrameKind } from '../../src/wire/index.js';

/** One frame as written: its kind, its size in bytes and where it ends in the byte stream. */
export interface TappedFrame {
  readonly kind: number;
  readonly bytes: number;
  readonly end: number;
}

/** The moment of a send: bytes written so far, and how many of them the stream still held. */
export interface Mark {
  readonly written: number;
  readonly buffered: number;
}

export interface OutboundTap {
  readonly transport: Transport;
  /** Frames written by the dialing side after its opening (preamble and HELLO). */
  readonly frames: readonly TappedFrame[];
  /** Call right before the send being measured. */
  mark(): Mark;
  /**
   * Bulk frames (`isBulk`) still in this process at `mark` or framed after it, written
   * before the first frame after `mark` that `isTarget` picks; undefined while the target
   * has not been written.
   */
  ahead(
    mark: Mark,
    isTarget: (f: TappedFrame) => boolean,
    isBulk: (f: TappedFrame) => boolean,
  ): number | undefined;
}

/** A small MESSAGE frame: the urgent message in a measurement. */
export const isSmallMessage = (f: TappedFrame): boolean =>
  f.kind === FrameKind.MESSAGE && f.bytes < 1024;
/** A CHUNK frame, or a MESSAGE frame of at least 1 KiB: bulk. */
export const isBulkFrame = (f: TappedFrame): boolean =>
  f.kind === FrameKind.CHUNK || (f.kind === FrameKind.MESSAGE && f.bytes >= 1024);

export function outboundTap(): OutboundTap {
  const frames: TappedFrame[] = [];
  let stream: Duplex | undefined;
  let written = 0;
  let opened = false;
  /** Bytes of a frame cut across writes still to come (frames can span writes). */
  let pending = new Uint8Array(0);

  const record = (chunk: Uint8Array): void => {
    written += chunk.length;
    if (!opened) {
      opened = true; // preamble + HELLO: not all frames
      return;
    }
    let bytes = chunk;
    if (pending.length > 0) {
      bytes = new Uint8Array(pending.length + chunk.length);
      bytes.set(pending);
      bytes.set(chunk, pending.length);
    }
    let at = 0;
    const start = written - bytes.length;
    while (at + 5 <= bytes.length) {
      const len = new DataView(bytes.buffer, bytes.byteOffset + at, 4).getUint32(0);
      const size = 4 + len;
      if (at + size > bytes.length) break;
      frames.push({ kind: bytes[at + 4] as number, bytes: size, end: start + at + size });
      at += size;
    }
    pending = bytes.slice(at);
  };

  const transport: Transport = {
    name: 'tcp-tap',
    async dial(to, options) {
      const connection = await tcpTransport.dial(to, options);
      const s = connection.stream;
      stream = s;
      const write = s.write.bind(s) as (...args: unknown[]) => boolean;
      (s as { write: (...args: unknown[]) => boolean }).write = (...args: unknown[]) => {
        record(args[0] as Uint8Array);
        return write(...args);
      };
      return connection;
    },
    listen: (at, onConnection, options) => tcpTransport.listen(at, onConnection, options),
  };

  return {
    transport,
    frames,
    mark: () => ({ written, buffered: stream?.writableLength ?? 0 }),
    ahead(mark, isTarget, isBulk) {
      const inProcessFrom = mark.written - mark.buffered;
      let count = 0;
      for (const f of frames) {
        if (f.end <= inProcessFrom) continue;
        if (f.end > mark.written && isTarget(f)) return count;
        if (isBulk(f)) count++;
      }
      return undefined;
    },
  };
}

/** A TCP relay to `targetPort` that can stop reading from the client (a slow peer). */
export interface PausableRelay {
  readonly port: number;
  pause(): void;
  resume(): void;
  close(): Promise<void>;
}

export async function pausableRelay(targetPort: number): Promise<PausableRelay> {
  const sockets: Socket[] = [];
  let clientSide: Socket | undefined;
  let paused = false;
  const server = createServer((client) => {
    clientSide = client;
    if (paused) client.pause();
    const upstream = tcpConnect({ host: '127.0.0.1', port: targetPort });
    sockets.push(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    pause: () => {
      paused = true;
      clientSide?.pause();
    },
    resume: () => {
      paused = false;
      clientSide?.resume();
    },
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
