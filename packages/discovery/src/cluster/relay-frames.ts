/**
 * The relay protocol's frames: what one NATS message carries on a relay route. Each frame is
 * one NATS message payload, binary, big-endian (docs/discovery-cluster.md has the table):
 *
 *   CONNECT  01 | version u8 | window u32 | port u32 | hostLen u16 | host utf8
 *            (to `<prefix>.l.<port>`, the NATS reply subject = the dialer's stream subject)
 *   ACCEPT   02 | seq u32 | window u32 | subjectLen u16 | subject utf8   (the listener's first)
 *   REFUSE   03                                   (to the reply subject of a CONNECT)
 *   DATA     04 | seq u32 | bytes (1..the receiver's window; cut at the sender's chunk size)
 *   ACK      05 | seq u32 | consumed u48          (bytes the reader has taken, cumulative)
 *   FIN      06 | seq u32                         (no more data from this side)
 *   RESET    07 | seq u32 | reason u8             (this side is gone)
 *   PING     08 | seq u32                         (keep-alive when idle)
 *
 * Every frame on a stream subject carries a sequence number, one counter per direction from
 * 0, so a lost, repeated or forged message is seen at once (`sequence-gap`). The decoder is
 * total: any bytes give either a frame or a `malformed` result naming what was wrong; it
 * never throws and never reads past the payload.
 */
import type { RelayCloseReason } from './errors.js';

/** Relay protocol version carried in CONNECT. */
export const RELAY_PROTOCOL_VERSION = 1;

/** Longest host (subject prefix) or subject in a frame, in bytes (NATS subjects are short). */
export const MAX_RELAY_SUBJECT_BYTES = 256;

/** Largest cumulative ACK count (2^48 - 1 bytes, 256 TiB per stream). */
export const MAX_RELAY_ACK = 2 ** 48 - 1;

/** Largest sequence number; a stream that would need more ends (4 billion frames). */
export const MAX_RELAY_SEQ = 2 ** 32 - 1;

export const FRAME_CONNECT = 0x01;
export const FRAME_ACCEPT = 0x02;
export const FRAME_REFUSE = 0x03;
export const FRAME_DATA = 0x04;
export const FRAME_ACK = 0x05;
export const FRAME_FIN = 0x06;
export const FRAME_RESET = 0x07;
export const FRAME_PING = 0x08;

/** RESET reason codes on the wire, in RelayCloseReason order (0 = a plain close). */
const RESET_REASONS: readonly (RelayCloseReason | 'closed')[] = [
  'closed',
  'malformed',
  'sequence-gap',
  'window-exceeded',
  'peer-timeout',
  'peer-reset',
  'nats-closed',
];

export type RelayFrame =
  | {
      readonly type: 'connect';
      readonly version: number;
      readonly window: number;
      readonly port: number;
      readonly host: string;
    }
  | {
      readonly type: 'accept';
      readonly seq: number;
      readonly window: number;
      readonly subject: string;
    }
  | { readonly type: 'refuse' }
  | { readonly type: 'data'; readonly seq: number; readonly bytes: Uint8Array }
  | { readonly type: 'ack'; readonly seq: number; readonly consumed: number }
  | { readonly type: 'fin'; readonly seq: number }
  | { readonly type: 'reset'; readonly seq: number; readonly reason: RelayCloseReason | 'closed' }
  | { readonly type: 'ping'; readonly seq: number };

/** What the decoder gives for bytes that are not a frame. */
export interface MalformedFrame {
  readonly type: 'malformed';
  readonly detail: string;
}

const utf8 = new TextDecoder('utf-8', { fatal: true });
const encoder = new TextEncoder();

/** True for a subject a relay frame may name (and a relay may publish to): plain tokens
 * separated by dots, no wildcard, space or control character, at most MAX_RELAY_SUBJECT_BYTES. */
export function isRelaySubject(subject: string): boolean {
  if (subject.length === 0 || Buffer.byteLength(subject, 'utf8') > MAX_RELAY_SUBJECT_BYTES)
    return false;
  let tokenStart = true;
  for (let i = 0; i < subject.length; i++) {
    const c = subject.charCodeAt(i);
    if (c === 0x2e) {
      if (tokenStart) return false;
      tokenStart = true;
      continue;
    }
    tokenStart = false;
    if (c <= 0x20 || c === 0x7f || c === 0x2a || c === 0x3e || /\s/.test(subject[i] as string))
      return false;
  }
  return !tokenStart;
}

function header(type: number, seq: number, extra: number): Buffer {
  const frame = Buffer.allocUnsafe(5 + extra);
  frame[0] = type;
  frame.writeUInt32BE(seq, 1);
  return frame;
}

export function encodeConnect(window: number, port: number, host: string): Uint8Array {
  const name = encoder.encode(host);
  const frame = Buffer.allocUnsafe(12 + name.length);
  frame[0] = FRAME_CONNECT;
  frame[1] = RELAY_PROTOCOL_VERSION;
  frame.writeUInt32BE(window, 2);
  frame.writeUInt32BE(port, 6);
  frame.writeUInt16BE(name.length, 10);
  frame.set(name, 12);
  return frame;
}

export function encodeAccept(seq: number, window: number, subject: string): Uint8Array {
  const name = encoder.encode(subject);
  const frame = header(FRAME_ACCEPT, seq, 6 + name.length);
  frame.writeUInt32BE(window, 5);
  frame.writeUInt16BE(name.length, 9);
  frame.set(name, 11);
  return frame;
}

export function encodeRefuse(): Uint8Array {
  return Uint8Array.of(FRAME_REFUSE);
}

export function encodeData(seq: number, bytes: Uint8Array): Uint8Array {
  const frame = header(FRAME_DATA, seq, bytes.length);
  frame.set(bytes, 5);
  return frame;
}

export function encodeAck(seq: number, consumed: number): Uint8Array {
  const frame = header(FRAME_ACK, seq, 6);
  frame.writeUIntBE(consumed, 5, 6);
  return frame;
}

export function encodeFin(seq: number): Uint8Array {
  return header(FRAME_FIN, seq, 0);
}

export function encodeReset(seq: number, reason: RelayCloseReason | 'closed'): Uint8Array {
  const frame = header(FRAME_RESET, seq, 1);
  frame[5] = RESET_REASONS.indexOf(reason);
  return frame;
}

export function encodePing(seq: number): Uint8Array {
  return header(FRAME_PING, seq, 0);
}

function malformed(detail: string): MalformedFrame {
  return { type: 'malformed', detail };
}

function readName(view: Buffer, at: number, what: string): string | MalformedFrame {
  if (view.length < at + 2) return malformed(`${what} length missing`);
  const length = view.readUInt16BE(at);
  if (length === 0 || length > MAX_RELAY_SUBJECT_BYTES)
    return malformed(`${what} of ${length} bytes (1..${MAX_RELAY_SUBJECT_BYTES})`);
  if (view.length !== at + 2 + length)
    return malformed(`${what} of ${length} bytes in a frame of ${view.length}`);
  let text: string;
  try {
    text = utf8.decode(view.subarray(at + 2));
  } catch {
    return malformed(`${what} is not UTF-8`);
  }
  if (!isRelaySubject(text)) return malformed(`${what} is not a plain NATS subject`);
  return text;
}

/**
 * Decodes one NATS message payload. `maxDataBytes` bounds a DATA frame's payload (a larger
 * one is malformed: the peer was told the chunk size). Never throws.
 */
export function decodeRelayFrame(
  payload: Uint8Array,
  maxDataBytes: number,
): RelayFrame | MalformedFrame {
  const view = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  if (view.length === 0) return malformed('empty message');
  const type = view[0];
  if (type === FRAME_CONNECT) {
    if (view.length < 12) return malformed(`CONNECT of ${view.length} bytes`);
    const version = view[1] as number;
    if (version !== RELAY_PROTOCOL_VERSION) return malformed(`CONNECT version ${version}`);
    const window = view.readUInt32BE(2);
    if (window === 0) return malformed('CONNECT with a zero window');
    const port = view.readUInt32BE(6);
    const host = readName(view, 10, 'CONNECT host');
    if (typeof host !== 'string') return host;
    return { type: 'connect', version, window, port, host };
  }
  if (type === FRAME_REFUSE) {
    return view.length === 1 ? { type: 'refuse' } : malformed(`REFUSE of ${view.length} bytes`);
  }
  if (view.length < 5) return malformed(`frame of ${view.length} bytes (type ${type})`);
  const seq = view.readUInt32BE(1);
  switch (type) {
    case FRAME_ACCEPT: {
      if (view.length < 11) return malformed(`ACCEPT of ${view.length} bytes`);
      const window = view.readUInt32BE(5);
      if (window === 0) return malformed('ACCEPT with a zero window');
      const subject = readName(view, 9, 'ACCEPT subject');
      if (typeof subject !== 'string') return subject;
      return { type: 'accept', seq, window, subject };
    }
    case FRAME_DATA: {
      const length = view.length - 5;
      if (length === 0) return malformed('DATA without bytes');
      if (length > maxDataBytes)
        return malformed(`DATA of ${length} bytes (at most ${maxDataBytes})`);
      return { type: 'data', seq, bytes: view.subarray(5) };
    }
    case FRAME_ACK:
      if (view.length !== 11) return malformed(`ACK of ${view.length} bytes`);
      return { type: 'ack', seq, consumed: view.readUIntBE(5, 6) };
    case FRAME_FIN:
      if (view.length !== 5) return malformed(`FIN of ${view.length} bytes`);
      return { type: 'fin', seq };
    case FRAME_RESET: {
      if (view.length !== 6) return malformed(`RESET of ${view.length} bytes`);
      const reason = RESET_REASONS[view[5] as number];
      if (reason === undefined) return malformed(`RESET reason ${view[5]}`);
      return { type: 'reset', seq, reason };
    }
    case FRAME_PING:
      if (view.length !== 5) return malformed(`PING of ${view.length} bytes`);
      return { type: 'ping', seq };
    default:
      return malformed(`unknown frame type ${type}`);
  }
}
