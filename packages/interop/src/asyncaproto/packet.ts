/**
 * AsyncAProto packets (intellivoid/AsyncAPY, protocol version 22):
 *
 *     LENGTH (headerSize bytes, big- or little-endian) | VERSION (u8 = 22) | ENCODING (u8) | PAYLOAD
 *
 * LENGTH counts VERSION, ENCODING and PAYLOAD (the payload's length + 2). ENCODING 0 is
 * JSON (UTF-8), 1 is ZiProto, which is msgpack as ZiProto-Python writes it (the smallest
 * header for each value: fixmap, fixstr, fixarray...), so msgpackr reads and writes it with
 * records off and variable map sizes. PAYLOAD is a non-empty plain object.
 */
import { Packr } from 'msgpackr';

export const ASYNCAPROTO_VERSION = 22;
export const ASYNCAPROTO_JSON = 0;
export const ASYNCAPROTO_ZIPROTO = 1;
export type AsyncaprotoEncoding = 'json' | 'ziproto';

/** AsyncAPY's default header size and byte order. */
export const DEFAULT_ASYNCAPROTO_HEADER_SIZE = 4;
export const DEFAULT_ASYNCAPROTO_BYTE_ORDER = 'big';
/** Largest packet (LENGTH's value) accepted; the reference has none. */
export const DEFAULT_ASYNCAPROTO_MAX_PACKET_BYTES = 1024 * 1024;

/** The error strings of the reference, plus Herald's own (marked). */
export type AsyncaprotoErrorCode =
  | 'ERR_REQUEST_MALFORMED'
  | 'ERR_HEADER_INVALID'
  | 'ERR_TIMED_OUT'
  /** Herald: LENGTH above maxPacketBytes. */
  | 'ERR_REQUEST_TOO_LARGE'
  /** Herald: no handler took the request (the reference answers nothing). */
  | 'ERR_NO_HANDLER'
  /** Herald: a handler threw. */
  | 'ERR_HANDLER_FAILED';

export interface PacketFormat {
  readonly headerSize: number;
  readonly byteOrder: 'big' | 'little';
}

const ziproto = new Packr({
  useRecords: false,
  mapsAsObjects: true,
  variableMapSize: true,
  moreTypes: false,
});

/** Encodes a value as ZiProto (msgpack; map keys in the object's own order). */
export function encodeZiproto(value: unknown): Uint8Array {
  return ziproto.pack(value);
}

export function decodeZiproto(bytes: Uint8Array): unknown {
  return ziproto.unpack(bytes);
}

function writeLength(length: number, format: PacketFormat): Buffer {
  const header = Buffer.alloc(format.headerSize);
  let n = BigInt(length);
  for (let i = 0; i < format.headerSize; i++) {
    const at = format.byteOrder === 'big' ? format.headerSize - 1 - i : i;
    header[at] = Number(n & 0xffn);
    n >>= 8n;
  }
  return header;
}

export function readLength(header: Uint8Array, format: PacketFormat): number {
  let n = 0;
  for (let i = 0; i < format.headerSize; i++) {
    const byte = header[format.byteOrder === 'big' ? i : format.headerSize - 1 - i] ?? 0;
    n = n * 256 + byte;
  }
  return n;
}

/** Builds a whole packet for `payload` in `encoding`. */
export function encodePacket(
  payload: unknown,
  encoding: AsyncaprotoEncoding,
  format: PacketFormat,
): Buffer {
  const body =
    encoding === 'json' ? Buffer.from(JSON.stringify(payload), 'utf8') : encodeZiproto(payload);
  return Buffer.concat([
    writeLength(body.length + 2, format),
    Uint8Array.of(
      ASYNCAPROTO_VERSION,
      encoding === 'json' ? ASYNCAPROTO_JSON : ASYNCAPROTO_ZIPROTO,
    ),
    body,
  ]);
}

/** The reference's error reply. */
export function failure(error: AsyncaprotoErrorCode): {
  status: 'failure';
  error: AsyncaprotoErrorCode;
} {
  return { status: 'failure', error };
}

export type ParsedPacket =
  | {
      readonly ok: true;
      readonly encoding: AsyncaprotoEncoding;
      readonly payload: Record<string, unknown>;
    }
  | {
      readonly ok: false;
      readonly encoding: AsyncaprotoEncoding;
      readonly error: AsyncaprotoErrorCode;
      readonly detail: string;
    };

/** Parses the bytes LENGTH counted (VERSION, ENCODING, PAYLOAD). */
export function parsePacket(body: Uint8Array): ParsedPacket {
  // The reference answers a short packet and a bad header in JSON, a bad payload in the
  // packet's own encoding; so does Herald.
  if (body.length < 3)
    return {
      ok: false,
      encoding: 'json',
      error: 'ERR_REQUEST_MALFORMED',
      detail: 'packet too short',
    };
  const version = body[0];
  const code = body[1];
  if (version !== ASYNCAPROTO_VERSION) {
    return {
      ok: false,
      encoding: 'json',
      error: 'ERR_HEADER_INVALID',
      detail: `version ${version}`,
    };
  }
  if (code !== ASYNCAPROTO_JSON && code !== ASYNCAPROTO_ZIPROTO) {
    return { ok: false, encoding: 'json', error: 'ERR_HEADER_INVALID', detail: `encoding ${code}` };
  }
  const encoding: AsyncaprotoEncoding = code === ASYNCAPROTO_JSON ? 'json' : 'ziproto';
  let payload: unknown;
  try {
    payload =
      encoding === 'json'
        ? JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(body.subarray(2)))
        : decodeZiproto(body.subarray(2));
  } catch (error) {
    return {
      ok: false,
      encoding,
      error: 'ERR_REQUEST_MALFORMED',
      detail: (error as Error).message,
    };
  }
  if (
    typeof payload !== 'object' ||
    payload === null ||
    // A plain object only: msgpackr turns some bytes (0xC1, extensions) into class instances.
    Object.getPrototypeOf(payload) !== Object.prototype ||
    Object.keys(payload).length === 0
  ) {
    return {
      ok: false,
      encoding,
      error: 'ERR_REQUEST_MALFORMED',
      detail: 'payload is not a non-empty object',
    };
  }
  return { ok: true, encoding, payload: payload as Record<string, unknown> };
}
