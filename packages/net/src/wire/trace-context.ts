/**
 * The MESSAGE header's optional trace context: a W3C `traceparent`
 * (`vv-<32 hex trace id>-<16 hex parent span id>-<2 hex flags>`) carried as 26 binary bytes
 * (version 1, trace id 16, span id 8, flags 1) instead of its 55 characters. Normative
 * layout and the receiver's checks: docs/wire-protocol.md, "MESSAGE".
 *
 * Both directions keep the last value they converted: the messages of one traced request
 * (and every message a traced handler sends) repeat the same traceparent, so a stream of
 * them costs one 26-byte compare per message instead of a parse or a hex format.
 */
import { WireError } from './errors.js';

/** Normative: bytes of the binary trace context in a MESSAGE header. */
export const TRACE_CONTEXT_BYTES = 26;
/** Characters of a traceparent this wire carries: `vv-` + 32 + `-` + 16 + `-` + 2. */
const TRACEPARENT_CHARS = 55;
/** W3C: version 0xff is forbidden. */
const FORBIDDEN_VERSION = 0xff;

const HEX = '0123456789abcdef';
/** Byte value → two lowercase hex digits. */
const BYTE_HEX: string[] = Array.from(
  { length: 256 },
  (_, b) => (HEX[b >> 4] as string) + (HEX[b & 15] as string),
);

/** Lowercase hex digit char code → value, else -1 (W3C allows lowercase only). */
function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x61 + 10;
  return -1;
}

function allZero(bytes: Uint8Array, start: number, end: number): boolean {
  for (let i = start; i < end; i++) if (bytes[i] !== 0) return false;
  return true;
}

/** Offsets of the fields inside the 26 bytes. */
const TRACE_ID_AT = 1;
const SPAN_ID_AT = 17;
const FLAGS_AT = 25;

let lastText: string | undefined;
let lastBytes: Uint8Array | null = null;

/**
 * The 26 bytes of a traceparent, or null when `text` is not a valid one: wrong length or
 * separators, a character that is not lowercase hex, version `ff`, or an all-zero trace id
 * or span id (W3C Trace Context, "traceparent Header Field Values"). The result is shared
 * between calls: copy it, never change it.
 */
export function traceContextBytes(text: string): Uint8Array | null {
  if (text === lastText) return lastBytes;
  if (text.length !== TRACEPARENT_CHARS) return null;
  if (text.charCodeAt(2) !== 0x2d || text.charCodeAt(35) !== 0x2d || text.charCodeAt(52) !== 0x2d)
    return null;
  const out = new Uint8Array(TRACE_CONTEXT_BYTES);
  let at = 0;
  for (let i = 0; i < TRACEPARENT_CHARS; i += 2) {
    if (i === 2 || i === 35 || i === 52) i++; // skip a separator
    const hi = hexValue(text.charCodeAt(i));
    const lo = hexValue(text.charCodeAt(i + 1));
    if (hi < 0 || lo < 0) return null;
    out[at++] = (hi << 4) | lo;
  }
  if (!validTraceContext(out, 0)) return null;
  lastText = text;
  lastBytes = out;
  return out;
}

/** Whether `text` is a traceparent this wire can carry (see `traceContextBytes`). */
export function isTraceparent(text: string): boolean {
  return traceContextBytes(text) !== null;
}

function validTraceContext(bytes: Uint8Array, at: number): boolean {
  return (
    bytes[at] !== FORBIDDEN_VERSION &&
    !allZero(bytes, at + TRACE_ID_AT, at + SPAN_ID_AT) &&
    !allZero(bytes, at + SPAN_ID_AT, at + FLAGS_AT)
  );
}

let lastRead: Uint8Array = new Uint8Array(TRACE_CONTEXT_BYTES);
let lastReadText: string | undefined;

/**
 * Read the 26 bytes at `bytes[at..at+26]` back into traceparent text. A field a sender could
 * not have produced (version `ff`, an all-zero trace id or span id) is
 * `HERALD_ERR_WIRE_MALFORMED`: the connection closes with `protocol-error`. The caller has
 * checked that the 26 bytes are there.
 */
export function readTraceContext(bytes: Uint8Array, at: number): string {
  if (lastReadText !== undefined) {
    let same = true;
    for (let i = 0; i < TRACE_CONTEXT_BYTES; i++) {
      if (bytes[at + i] !== lastRead[i]) {
        same = false;
        break;
      }
    }
    if (same) return lastReadText;
  }
  if (!validTraceContext(bytes, at)) {
    throw new WireError(
      'HERALD_ERR_WIRE_MALFORMED',
      'malformed trace context (version ff, or an all-zero trace id or span id)',
    );
  }
  let text = BYTE_HEX[bytes[at] as number] as string;
  text += '-';
  for (let i = TRACE_ID_AT; i < SPAN_ID_AT; i++) text += BYTE_HEX[bytes[at + i] as number];
  text += '-';
  for (let i = SPAN_ID_AT; i < FLAGS_AT; i++) text += BYTE_HEX[bytes[at + i] as number];
  text += '-';
  text += BYTE_HEX[bytes[at + FLAGS_AT] as number];
  const copy = new Uint8Array(TRACE_CONTEXT_BYTES);
  copy.set(bytes.subarray(at, at + TRACE_CONTEXT_BYTES));
  lastRead = copy;
  lastReadText = text;
  return text;
}
