/**
 * A minimal aiomsg v1 peer written from PROTOCOL.md alone (not from src/): it reads
 * `u32 big-endian length + envelope` frames and writes whatever bytes a test gives it, so
 * conformance tests can check Herald against the document, byte by byte.
 */
import type { Duplex } from 'node:stream';
import { Recorder } from '@herald/testing';

export const HELLO = 0x01;
export const HEARTBEAT = 0x02;
export const DATA = 0x03;
export const DATA_REQ = 0x04;
export const ACK = 0x05;

export interface RawFrame {
  readonly type: number | undefined;
  readonly body: Buffer;
}

export const u32 = (n: number): Buffer => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
/** `LENGTH || TYPE || BODY`. */
export const rawFrame = (type: number, ...body: Uint8Array[]): Buffer => {
  const envelope = Buffer.concat([Uint8Array.of(type), ...body]);
  return Buffer.concat([u32(envelope.length), envelope]);
};
export const helloFrame = (identity: Buffer, version = 1): Buffer =>
  rawFrame(HELLO, Uint8Array.of(version), identity);
export const randomId = (): Buffer => Buffer.from(crypto.getRandomValues(new Uint8Array(16)));

export class RawPeer {
  readonly frames = new Recorder<RawFrame>('raw peer frames', (f) => `type ${f.type}`);
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);

  constructor(readonly stream: Duplex) {
    stream.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= 4) {
        const length = this.#buffer.readUInt32BE(0);
        if (this.#buffer.length < 4 + length) break;
        const envelope = this.#buffer.subarray(4, 4 + length);
        this.#buffer = this.#buffer.subarray(4 + length);
        this.frames.record({ type: envelope[0], body: Buffer.from(envelope.subarray(1)) });
      }
    });
    stream.on('error', () => {});
    this.closed = new Promise((resolve) => stream.once('close', () => resolve()));
  }

  write(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }

  /** The next frame of `type` (after the previous `next`). */
  next(type: number, timeoutMs = 5_000): Promise<RawFrame> {
    return this.frames.next((f) => f.type === type, { timeoutMs, what: `frame type ${type}` });
  }

  count(type: number): number {
    return this.frames.entries.filter((f) => f.type === type).length;
  }

  end(): void {
    this.stream.destroy();
  }
}
