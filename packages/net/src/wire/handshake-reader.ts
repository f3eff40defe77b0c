/**
 * Reads the handshake part of one direction of a connection: the preamble, then whole
 * frames of at most `MAX_HANDSHAKE_FRAME_BYTES` (HELLO, AUTH, READY, CLOSE), one at a time,
 * so the caller can stop exactly where the handshake ends and hand the rest of the bytes
 * to the FrameDecoder. It does not interpret frame bodies (handshake.ts does).
 */
import { readU32 } from './bytes.js';
import {
  FRAME_HEADER_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  PREAMBLE_BYTES,
  PREAMBLE_MAGIC,
  PROTOCOL_VERSION,
} from './constants.js';
import { WireError } from './errors.js';

export interface HandshakeFrame {
  readonly kind: number;
  /** The frame body (a copy: the reader owns no caller memory). */
  readonly body: Uint8Array;
}

export class HandshakeReader {
  private buf = new Uint8Array(0);
  private preambleRead = false;

  /** Bytes received and not yet taken as a frame. */
  get bufferedBytes(): number {
    return this.buf.length;
  }

  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    const next = new Uint8Array(this.buf.length + chunk.length);
    next.set(this.buf, 0);
    next.set(chunk, this.buf.length);
    this.buf = next;
  }

  /**
   * The next whole frame, or null when more bytes are needed. Throws `WireError` for a
   * wrong magic (as soon as its first wrong byte is here), a version other than ours, an
   * empty frame or one over the handshake limit (as soon as its length is here).
   */
  next(): HandshakeFrame | null {
    if (!this.preambleRead) {
      const n = Math.min(this.buf.length, PREAMBLE_MAGIC.length);
      for (let i = 0; i < n; i++) {
        if (this.buf[i] !== PREAMBLE_MAGIC[i]) {
          throw new WireError(
            'HERALD_ERR_WIRE_BAD_MAGIC',
            'the peer does not speak the Herald protocol',
          );
        }
      }
      if (this.buf.length < PREAMBLE_BYTES) return null;
      const version = this.buf[4] as number;
      if (version !== PROTOCOL_VERSION) {
        throw new WireError(
          'HERALD_ERR_WIRE_VERSION_UNSUPPORTED',
          `peer speaks protocol version ${version}; this side speaks ${PROTOCOL_VERSION}`,
        );
      }
      this.buf = this.buf.subarray(PREAMBLE_BYTES);
      this.preambleRead = true;
    }
    if (this.buf.length < 4) return null;
    const length = readU32(this.buf, 0);
    if (length === 0) throw new WireError('HERALD_ERR_WIRE_EMPTY_FRAME', 'frame of length 0');
    if (length - 1 > MAX_HANDSHAKE_FRAME_BYTES) {
      throw new WireError(
        'HERALD_ERR_WIRE_FRAME_TOO_LARGE',
        `handshake frame body of ${length - 1} bytes (limit ${MAX_HANDSHAKE_FRAME_BYTES})`,
      );
    }
    if (this.buf.length < 4 + length) return null;
    const kind = this.buf[4] as number;
    const body = this.buf.slice(FRAME_HEADER_BYTES, 4 + length);
    this.buf = this.buf.subarray(4 + length);
    return { kind, body };
  }

  /** Everything after the last frame taken (the caller continues with it). */
  rest(): Uint8Array {
    const r = this.buf;
    this.buf = new Uint8Array(0);
    return r;
  }
}
