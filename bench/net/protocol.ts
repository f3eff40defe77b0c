/**
 * What the two processes of the network benchmark share: the Herald message types, the
 * raw-socket baseline's framing, and the payload.
 *
 * Herald: `Payload` / `Request` / `Response` carry one `data` field sized so that the
 * stream-encoded body is exactly PAYLOAD_BYTES bytes (today: 1 byte of record id and 2 of
 * msgpack `bin` header + 97 data bytes for `bench.Payload`: stream bodies no longer carry
 * the type name, and bytes are `bin`; in the morning of 2026-11-27 it was 19 bytes of
 * record id, type name and typed-array extension header + 81; the record's structure is
 * sent once per connection). Frame and routing header come on top;
 * the peer measures and reports the exact wire bytes per message.
 *
 * Raw baseline: frames `[u32 BE length of what follows][u8 kind][payload]`; a data frame
 * carries PAYLOAD_BYTES bytes, so 105 bytes per message on the wire.
 */
import {
  createCatalogue,
  createCodec,
  defineMessage,
  t,
  type AnyMessage,
  type AnyMessageType,
} from '@herald/codec';
import type { Socket } from 'node:net';

/** Bytes of application payload per message (Herald: the encoded body). */
export const PAYLOAD_BYTES = 100;

/** Starts a throughput run: the receiver counts `n` Payloads and acks every `k`. */
export const Begin = defineMessage('bench.Begin', { n: t.int(), k: t.int() });
export const Payload = defineMessage('bench.Payload', { data: t.bytes() });
export const Ack = defineMessage('bench.Ack', { count: t.int() });
/**
 * The receiver saw all `n`: its own clock from Begin to the last Payload, the CPU time its
 * process spent meanwhile (user + system, ms), and bytes read.
 */
export const Done = defineMessage('bench.Done', {
  count: t.int(),
  ms: t.number(),
  cpuMs: t.number(),
  bytes: t.int(),
});
export const Request = defineMessage('bench.Request', { data: t.bytes() });
export const Response = defineMessage('bench.Response', { data: t.bytes() });

export const benchMessages = [Begin, Payload, Ack, Done, Request, Response] as const;

/**
 * Body bytes of `{ data: <empty> }` for `type`, stream-encoded as SocketProxy does (the
 * record carries the type name, so the overhead depends on the name's length).
 */
function bodyOverhead(type: AnyMessageType): number {
  const stream = createCodec({ catalogue: createCatalogue([...benchMessages]) }).createStream();
  return stream.encoder.encodeBody(type({ data: new Uint8Array(0) })).body.length;
}

/** `data` for each message type such that its encoded body is exactly PAYLOAD_BYTES. */
export const PAYLOAD_DATA = new Uint8Array(PAYLOAD_BYTES - bodyOverhead(Payload)).fill(0x61);
export const REQUEST_DATA = new Uint8Array(PAYLOAD_BYTES - bodyOverhead(Request)).fill(0x61);
export const RESPONSE_DATA = new Uint8Array(PAYLOAD_BYTES - bodyOverhead(Response)).fill(0x61);

/** Encoded body size of `message`, stream-encoded (after the structure has been sent). */
export function encodedBodyBytes(message: AnyMessage): number {
  const stream = createCodec({ catalogue: createCatalogue([...benchMessages]) }).createStream();
  stream.encoder.encodeBody(message);
  return stream.encoder.encodeBody(message).body.length;
}

/** Raw frame kinds. */
export const RAW_BEGIN = 0; // payload: n u32, k u32
export const RAW_DATA = 1; // payload: PAYLOAD_BYTES
export const RAW_ACK = 2; // payload: count u32
export const RAW_DONE = 3; // payload: count u32, ms f64, bytes f64, cpu ms f64
export const RAW_REQUEST = 4; // payload: PAYLOAD_BYTES
export const RAW_RESPONSE = 5; // payload: PAYLOAD_BYTES

export const RAW_HEADER_BYTES = 5;

/** One frame, ready to write. */
export function rawFrame(kind: number, payload: Uint8Array): Buffer {
  const frame = Buffer.allocUnsafe(RAW_HEADER_BYTES + payload.length);
  frame.writeUInt32BE(payload.length + 1, 0);
  frame[4] = kind;
  frame.set(payload, RAW_HEADER_BYTES);
  return frame;
}

/** CPU time (user + system) of this process since `since`, in ms. */
export function cpuMsSince(since: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1000;
}

/**
 * The baseline's writer: frames written during one event-loop turn are collected and
 * written with one `socket.write` from setImmediate (what SocketProxy does).
 */
export class BatchedWriter {
  #parts: Buffer[] = [];
  #bytes = 0;
  #scheduled = false;
  constructor(readonly socket: Socket) {}

  write(frame: Buffer): void {
    this.#parts.push(frame);
    this.#bytes += frame.length;
    if (!this.#scheduled) {
      this.#scheduled = true;
      setImmediate(this.#flush);
    }
  }

  readonly #flush = (): void => {
    this.#scheduled = false;
    const parts = this.#parts;
    this.#parts = [];
    const bytes = this.#bytes;
    this.#bytes = 0;
    this.socket.write(parts.length === 1 ? (parts[0] as Buffer) : Buffer.concat(parts, bytes));
  };
}

/** The baseline's reader: length-prefixed frames out of a byte stream. */
export class FrameReader {
  #rest: Buffer | null = null;
  constructor(readonly onFrame: (kind: number, frame: Buffer, payloadAt: number) => void) {}

  push(chunk: Buffer): void {
    const buf = this.#rest === null ? chunk : Buffer.concat([this.#rest, chunk]);
    let at = 0;
    while (buf.length - at >= 4) {
      const len = buf.readUInt32BE(at);
      if (buf.length - at - 4 < len) break;
      this.onFrame(buf[at + 4] as number, buf, at + RAW_HEADER_BYTES);
      at += 4 + len;
    }
    this.#rest = at === buf.length ? null : buf.subarray(at);
  }
}
