/**
 * Splits a byte stream into aiomsg frames (u32 big-endian length + envelope).
 *
 * Unlike the reference, a zero-length frame is a frame (an empty envelope, which the socket
 * skips as an unknown type), not the end of the stream; and a length above `maxFrameBytes`
 * is reported before a single body byte is buffered, so a peer cannot make us hold more
 * than the limit plus one chunk.
 */
import { AIOMSG_LENGTH_BYTES } from './constants.js';

export type FrameDecodeResult =
  | { readonly ok: true; readonly frames: Uint8Array[] }
  | { readonly ok: false; readonly frames: Uint8Array[]; readonly tooLarge: number };

export class FrameDecoder {
  readonly #maxFrameBytes: number;
  #chunks: Buffer[] = [];
  #buffered = 0;
  #failed = false;

  constructor(maxFrameBytes: number) {
    this.#maxFrameBytes = maxFrameBytes;
  }

  /** Bytes held that do not yet make a whole frame. */
  get buffered(): number {
    return this.#buffered;
  }

  /**
   * Adds bytes; returns the whole frames now available, in order (every frame already
   * buffered is drained, so frames pipelined behind a HELLO are never left waiting). After a
   * frame over the limit the decoder refuses everything: the connection is to be closed.
   */
  push(chunk: Uint8Array): FrameDecodeResult {
    const frames: Uint8Array[] = [];
    if (this.#failed) return { ok: false, frames, tooLarge: -1 };
    if (chunk.length > 0) {
      this.#chunks.push(Buffer.from(chunk.buffer, chunk.byteOffset, chunk.length));
      this.#buffered += chunk.length;
    }
    for (;;) {
      if (this.#buffered < AIOMSG_LENGTH_BYTES) break;
      const head = this.#peek(AIOMSG_LENGTH_BYTES);
      const length = head.readUInt32BE(0);
      if (length > this.#maxFrameBytes) {
        this.#failed = true;
        this.#chunks = [];
        this.#buffered = 0;
        return { ok: false, frames, tooLarge: length };
      }
      if (this.#buffered < AIOMSG_LENGTH_BYTES + length) break;
      const whole = this.#take(AIOMSG_LENGTH_BYTES + length);
      frames.push(whole.subarray(AIOMSG_LENGTH_BYTES));
    }
    return { ok: true, frames };
  }

  #peek(n: number): Buffer {
    const first = this.#chunks[0];
    if (first !== undefined && first.length >= n) return first;
    this.#chunks = [Buffer.concat(this.#chunks)];
    return this.#chunks[0] as Buffer;
  }

  #take(n: number): Buffer {
    const head = this.#peek(n);
    const out = Buffer.from(head.subarray(0, n));
    if (head.length === n) this.#chunks.shift();
    else this.#chunks[0] = head.subarray(n);
    this.#buffered -= n;
    return out;
  }
}
