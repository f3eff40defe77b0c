/**
 * Frame kinds and the small fixed-layout frames: preamble, HELLO, CLOSE, PING/PONG.
 * Layouts are normative: docs/wire-protocol.md.
 */
import { ByteReader, ByteWriter, decodeUtf8, utf8Encoder, writeU32 } from './bytes.js';
import {
  FRAME_HEADER_BYTES,
  HELLO_FLAG_ENCRYPT,
  MAX_CLOSE_TEXT_BYTES,
  MAX_MAX_FRAME_BYTES,
  MIN_MAX_FRAME_BYTES,
  PREAMBLE_BYTES,
  PREAMBLE_MAGIC,
  PROTOCOL_VERSION,
  PUBLIC_KEY_BYTES,
  TLV_EPHEMERAL_KEY,
} from './constants.js';
import { WireError } from './errors.js';

/** Frame kind byte. Normative. */
export const FrameKind = {
  HELLO: 1,
  MESSAGE: 2,
  CHUNK: 3,
  STRUCTURES: 4,
  PING: 5,
  PONG: 6,
  CLOSE: 7,
  SEALED: 8,
} as const;
export type FrameKindCode = (typeof FrameKind)[keyof typeof FrameKind];

/** The 8-byte preamble each side sends first. */
export function encodePreamble(version: number = PROTOCOL_VERSION): Uint8Array {
  const out = new Uint8Array(PREAMBLE_BYTES);
  out.set(PREAMBLE_MAGIC, 0);
  out[4] = version;
  return out;
}

/** The contents of a HELLO frame. */
export interface Hello {
  /** The sender wants the connection encrypted. */
  readonly encrypt: boolean;
  /** The largest frame body the sender accepts. */
  readonly maxFrameBytes: number;
  /** The idle time after which the sender pings (informational). */
  readonly keepaliveMs: number;
  /** The sender's X25519 ephemeral public key; present iff `encrypt`. */
  readonly ephemeralKey: Uint8Array | null;
}

/** Write a whole frame (`length`, `kind`, body) into `w`. */
export function writeFrame(w: ByteWriter, kind: number, body: Uint8Array): void {
  w.ensure(FRAME_HEADER_BYTES + body.length);
  writeU32(w.buf, w.pos, body.length + 1);
  w.buf[w.pos + 4] = kind;
  w.pos += FRAME_HEADER_BYTES;
  w.bytes(body);
}

/** Encode one standalone frame. */
export function encodeFrame(kind: number, body: Uint8Array): Uint8Array {
  const w = new ByteWriter(FRAME_HEADER_BYTES + body.length);
  writeFrame(w, kind, body);
  return w.take();
}

export function encodeHelloBody(hello: Hello): Uint8Array {
  const w = new ByteWriter(64);
  w.u8(hello.encrypt ? HELLO_FLAG_ENCRYPT : 0);
  w.u32(hello.maxFrameBytes);
  w.u32(hello.keepaliveMs);
  if (hello.ephemeralKey !== null) {
    w.u8(TLV_EPHEMERAL_KEY);
    w.u16(hello.ephemeralKey.length);
    w.bytes(hello.ephemeralKey);
  }
  return w.take();
}

/**
 * Parse a HELLO body. Unknown flag bits and unknown TLV types are ignored (room for later
 * extensions); duplicate TLVs, truncated TLVs, a key of the wrong length, a key without the
 * encrypt flag (or the flag without a key), and an out-of-range `maxFrameBytes` are
 * `HERALD_ERR_WIRE_BAD_HELLO`.
 */
export function decodeHelloBody(body: Uint8Array): Hello {
  try {
    const r = new ByteReader(body);
    const flags = r.u8('HELLO flags');
    const maxFrameBytes = r.u32('HELLO maxFrameBytes');
    const keepaliveMs = r.u32('HELLO keepaliveMs');
    const seen = new Set<number>();
    let ephemeralKey: Uint8Array | null = null;
    while (r.remaining > 0) {
      const type = r.u8('TLV type');
      const length = r.u16('TLV length');
      const value = r.view(length, 'TLV value');
      if (seen.has(type)) throw new WireError('HERALD_ERR_WIRE_BAD_HELLO', `duplicate TLV ${type}`);
      seen.add(type);
      if (type === TLV_EPHEMERAL_KEY) {
        if (length !== PUBLIC_KEY_BYTES) {
          throw new WireError('HERALD_ERR_WIRE_BAD_HELLO', `ephemeral key of ${length} bytes`);
        }
        ephemeralKey = value.slice();
      }
    }
    const encrypt = (flags & HELLO_FLAG_ENCRYPT) !== 0;
    if (encrypt !== (ephemeralKey !== null)) {
      throw new WireError(
        'HERALD_ERR_WIRE_BAD_HELLO',
        encrypt ? 'encrypt flag without ephemeral key' : 'ephemeral key without encrypt flag',
      );
    }
    if (maxFrameBytes < MIN_MAX_FRAME_BYTES || maxFrameBytes > MAX_MAX_FRAME_BYTES) {
      throw new WireError(
        'HERALD_ERR_WIRE_BAD_HELLO',
        `maxFrameBytes ${maxFrameBytes} out of range`,
      );
    }
    return { encrypt, maxFrameBytes, keepaliveMs, ephemeralKey };
  } catch (err) {
    if (err instanceof WireError && err.code === 'HERALD_ERR_WIRE_MALFORMED') {
      throw new WireError('HERALD_ERR_WIRE_BAD_HELLO', err.message, { cause: err });
    }
    throw err;
  }
}

/** A CLOSE frame's contents. */
export interface CloseInfo {
  readonly code: number;
  readonly text: string;
}

/** Encode a CLOSE body; `text` is truncated to 256 UTF-8 bytes on a character boundary. */
export function encodeCloseBody(code: number, text: string): Uint8Array {
  let t = utf8Encoder.encode(text);
  if (t.length > MAX_CLOSE_TEXT_BYTES) {
    let cut = MAX_CLOSE_TEXT_BYTES;
    while (cut > 0 && ((t[cut] as number) & 0xc0) === 0x80) cut--;
    t = t.subarray(0, cut);
  }
  const out = new Uint8Array(2 + t.length);
  out[0] = code >>> 8;
  out[1] = code;
  out.set(t, 2);
  return out;
}

export function decodeCloseBody(body: Uint8Array): CloseInfo {
  const r = new ByteReader(body);
  const code = r.u16('CLOSE code');
  if (r.remaining > MAX_CLOSE_TEXT_BYTES) {
    throw new WireError('HERALD_ERR_WIRE_MALFORMED', 'CLOSE text longer than 256 bytes');
  }
  return { code, text: decodeUtf8(r.rest(), 'CLOSE text') };
}

/** A whole CLOSE frame, in clear (for use before encryption is established). */
export function encodeCloseFrame(code: number, text: string): Uint8Array {
  return encodeFrame(FrameKind.CLOSE, encodeCloseBody(code, text));
}
