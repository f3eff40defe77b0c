/**
 * aiomsg v1 envelopes (PROTOCOL.md §3): one type byte, then a positional body. These
 * functions build and parse the bytes inside a frame; `frame()` adds the u32 big-endian
 * length prefix. Parsing never throws on what a peer sends: it returns a typed result the
 * socket turns into a skip or a typed close.
 */
import {
  AIOMSG_ACK,
  AIOMSG_DATA,
  AIOMSG_DATA_REQ,
  AIOMSG_HEARTBEAT,
  AIOMSG_HELLO,
  AIOMSG_IDENTITY_BYTES,
  AIOMSG_LENGTH_BYTES,
  AIOMSG_MESSAGE_ID_BYTES,
  AIOMSG_PROTOCOL_VERSION,
} from './constants.js';
import { InteropError } from '../errors.js';

export type AiomsgEnvelope =
  | { readonly kind: 'hello'; readonly version: number; readonly identity: Uint8Array }
  | { readonly kind: 'heartbeat' }
  | { readonly kind: 'data'; readonly payload: Uint8Array }
  | { readonly kind: 'data-req'; readonly messageId: Uint8Array; readonly payload: Uint8Array }
  | { readonly kind: 'ack'; readonly messageId: Uint8Array }
  /** An empty envelope or an unknown type byte: skipped, as §3 requires. */
  | { readonly kind: 'unknown'; readonly typeByte: number | undefined }
  /** A known type whose body is too short for its fixed fields. */
  | { readonly kind: 'malformed'; readonly typeByte: number; readonly detail: string };

function checkWidth(name: string, bytes: Uint8Array, width: number): void {
  if (bytes.length !== width) {
    throw new InteropError(
      'HERALD_ERR_AIOMSG_BAD_ENVELOPE',
      `${name} must be ${width} bytes, got ${bytes.length}`,
    );
  }
}

export function encodeHello(
  identity: Uint8Array,
  version: number = AIOMSG_PROTOCOL_VERSION,
): Uint8Array {
  checkWidth('identity', identity, AIOMSG_IDENTITY_BYTES);
  const out = new Uint8Array(2 + AIOMSG_IDENTITY_BYTES);
  out[0] = AIOMSG_HELLO;
  out[1] = version;
  out.set(identity, 2);
  return out;
}

export function encodeHeartbeat(): Uint8Array {
  return Uint8Array.of(AIOMSG_HEARTBEAT);
}

export function encodeData(payload: Uint8Array): Uint8Array {
  const out = new Uint8Array(1 + payload.length);
  out[0] = AIOMSG_DATA;
  out.set(payload, 1);
  return out;
}

export function encodeDataReq(messageId: Uint8Array, payload: Uint8Array): Uint8Array {
  checkWidth('message id', messageId, AIOMSG_MESSAGE_ID_BYTES);
  const out = new Uint8Array(1 + AIOMSG_MESSAGE_ID_BYTES + payload.length);
  out[0] = AIOMSG_DATA_REQ;
  out.set(messageId, 1);
  out.set(payload, 1 + AIOMSG_MESSAGE_ID_BYTES);
  return out;
}

export function encodeAck(messageId: Uint8Array): Uint8Array {
  checkWidth('message id', messageId, AIOMSG_MESSAGE_ID_BYTES);
  const out = new Uint8Array(1 + AIOMSG_MESSAGE_ID_BYTES);
  out[0] = AIOMSG_ACK;
  out.set(messageId, 1);
  return out;
}

/** Prefixes an envelope with its u32 big-endian length. */
export function frame(envelope: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(AIOMSG_LENGTH_BYTES + envelope.length);
  out.writeUInt32BE(envelope.length, 0);
  out.set(envelope, AIOMSG_LENGTH_BYTES);
  return out;
}

/**
 * Parses one envelope. Bodies are views into `envelope` (copy what you keep). Trailing
 * bytes after a HELLO's identity or an ACK's id are ignored, as the reference does, so a
 * later version may extend them.
 */
export function decodeEnvelope(envelope: Uint8Array): AiomsgEnvelope {
  const typeByte = envelope[0];
  const body = envelope.subarray(1);
  switch (typeByte) {
    case AIOMSG_HELLO:
      if (body.length < 1 + AIOMSG_IDENTITY_BYTES) {
        return { kind: 'malformed', typeByte, detail: `HELLO body of ${body.length} bytes` };
      }
      return {
        kind: 'hello',
        version: body[0] ?? 0,
        identity: body.subarray(1, 1 + AIOMSG_IDENTITY_BYTES),
      };
    case AIOMSG_HEARTBEAT:
      return { kind: 'heartbeat' };
    case AIOMSG_DATA:
      return { kind: 'data', payload: body };
    case AIOMSG_DATA_REQ:
      if (body.length < AIOMSG_MESSAGE_ID_BYTES) {
        return { kind: 'malformed', typeByte, detail: `DATA_REQ body of ${body.length} bytes` };
      }
      return {
        kind: 'data-req',
        messageId: body.subarray(0, AIOMSG_MESSAGE_ID_BYTES),
        payload: body.subarray(AIOMSG_MESSAGE_ID_BYTES),
      };
    case AIOMSG_ACK:
      if (body.length < AIOMSG_MESSAGE_ID_BYTES) {
        return { kind: 'malformed', typeByte, detail: `ACK body of ${body.length} bytes` };
      }
      return { kind: 'ack', messageId: body.subarray(0, AIOMSG_MESSAGE_ID_BYTES) };
    default:
      return { kind: 'unknown', typeByte };
  }
}
