/**
 * MESSAGE header: mode byte (body mode and header flags), `to` and `return` hop stacks,
 * interned type name, correlation, optional trace context, address space, then the body.
 * Normative layout: docs/wire-protocol.md, "MESSAGE".
 */
import { ByteReader, ByteWriter, decodeUtf8, utf8Encoder, varintSize } from './bytes.js';
import {
  MAX_BODY_MODE,
  MAX_HOPS,
  MAX_MESSAGE_HEADER_BYTES,
  MAX_SPACE_ENTRIES,
  MAX_TYPE_NAMES,
  MAX_TYPE_NAME_BYTES,
  MESSAGE_FLAG_TRACE,
  MESSAGE_FLAGS_RESERVED,
} from './constants.js';
import { WireError } from './errors.js';
import { TRACE_CONTEXT_BYTES, readTraceContext, traceContextBytes } from './trace-context.js';

/** One application message as the wire carries it. Addresses are plain hop stacks. */
export interface WireMessage {
  /** How the body was encoded (the codec's flags, carried opaquely). 0..63. */
  readonly bodyMode: number;
  /** Destination hop stack; empty = the peer's default target. */
  readonly to: readonly number[];
  /** Return hop stack; a last element 0 is the "returning home" mark. */
  readonly ret: readonly number[];
  /** Stable message type name, 1..128 UTF-8 bytes. */
  readonly typeName: string;
  /**
   * Which ask this message is (even, `2·id`) or answers (odd, `2·id + 1`); 0 or absent =
   * none. A u32, carried verbatim (relays keep it).
   */
  readonly correlation?: number;
  /**
   * The W3C `traceparent` the message belongs to, or undefined (then the header carries
   * nothing for it). Sent as 26 binary bytes; a relay forwards it unchanged.
   */
  readonly trace?: string | undefined;
  /** Addresses referenced from the body, carried outside it so relays can translate them. */
  readonly space: readonly (readonly number[])[];
  /** The encoded body (opaque to this layer). */
  readonly body: Uint8Array;
}

/** The header part of a message (everything except the body). */
export type WireMessageHeader = Omit<WireMessage, 'body'>;

/**
 * The sending half of a direction's type-name table. Ids are given in order of first use;
 * the receiving `TypeTableDecoder` must see definitions in the same order, which the
 * writer guarantees by encoding a header at the moment its first frame is emitted.
 */
export class TypeTableEncoder {
  private readonly ids = new Map<string, number>();
  /** New names of messages queued but not yet written: each holds a slot in the table. */
  private readonly reserved = new Set<string>();
  readonly maxNames: number;

  constructor(maxNames: number = MAX_TYPE_NAMES) {
    this.maxNames = maxNames;
  }

  /** Names defined so far. */
  get size(): number {
    return this.ids.size;
  }

  /** Names defined plus names reserved by queued messages. */
  get committed(): number {
    return this.ids.size + this.reserved.size;
  }

  /** The id of `name` if already defined, else -1. */
  lookup(name: string): number {
    return this.ids.get(name) ?? -1;
  }

  /** Whether a message of type `name` can be written: defined, reserved, or room for it. */
  canUse(name: string): boolean {
    return this.ids.has(name) || this.reserved.has(name) || this.committed < this.maxNames;
  }

  /**
   * Hold a slot for `name` until it is defined (a message that will be written later).
   * False when the table has no room: refuse the message now, not when it is written.
   */
  reserve(name: string): boolean {
    if (!this.canUse(name)) return false;
    if (!this.ids.has(name)) this.reserved.add(name);
    return true;
  }

  /** Drop every reservation (the queued messages will never be written). */
  clearReservations(): void {
    this.reserved.clear();
  }

  /** Record a new definition; returns its id. Throws locally when the table is full. */
  define(name: string): number {
    if (!this.canUse(name)) {
      throw new WireError(
        'HERALD_ERR_WIRE_TYPE_TABLE_FULL',
        `more than ${this.maxNames} type names on one connection`,
      );
    }
    this.reserved.delete(name);
    const id = this.ids.size;
    this.ids.set(name, id);
    return id;
  }
}

/** The receiving half of a direction's type-name table. */
export class TypeTableDecoder {
  private readonly names: string[] = [];
  private readonly maxNames: number;

  constructor(maxNames: number = MAX_TYPE_NAMES) {
    this.maxNames = maxNames;
  }

  get size(): number {
    return this.names.length;
  }

  read(r: ByteReader): string {
    const v = r.varint('type reference');
    const id = Math.floor(v / 2);
    if (v % 2 === 0) {
      const name = this.names[id];
      if (name === undefined) {
        throw new WireError('HERALD_ERR_WIRE_UNKNOWN_TYPE_ID', `type id ${id} was never defined`);
      }
      return name;
    }
    if (id !== this.names.length) {
      throw new WireError(
        'HERALD_ERR_WIRE_MALFORMED',
        `type definition ${id} out of order (expected ${this.names.length})`,
      );
    }
    if (this.names.length >= this.maxNames) {
      throw new WireError(
        'HERALD_ERR_WIRE_TYPE_TABLE_FULL',
        `more than ${this.maxNames} type names on one connection`,
      );
    }
    const len = r.varint('type name length');
    if (len === 0 || len > MAX_TYPE_NAME_BYTES) {
      throw new WireError('HERALD_ERR_WIRE_HEADER_LIMIT', `type name of ${len} bytes`);
    }
    const name = decodeUtf8(r.view(len, 'type name'), 'type name');
    this.names.push(name);
    return name;
  }
}

function stackSize(stack: readonly number[]): number {
  let n = varintSize(stack.length);
  for (const h of stack) n += varintSize(h);
  return n;
}

function checkStack(stack: readonly number[], what: string): void {
  if (stack.length > MAX_HOPS) {
    throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `${what} has ${stack.length} hops`);
  }
  for (const h of stack) {
    if (!Number.isInteger(h) || h < 0 || h > 0xffff_ffff) {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `${what} hop ${h} is not a u32`);
    }
  }
}

/**
 * A header prepared for writing: validated, type name resolved against the table (a new
 * name is defined in the table now), exact size known.
 */
export interface PreparedHeader {
  readonly msg: WireMessage;
  readonly typeRef: number;
  readonly newName: Uint8Array | null;
  /** The trace context's 26 bytes (shared: never changed), or null when there is none. */
  readonly trace: Uint8Array | null;
  readonly headerBytes: number;
}

/**
 * Validate `msg` and resolve its type name against `table` without changing the table;
 * `commitHeader` records a new name once the header is really written. Throws `WireError`
 * (`HERALD_ERR_WIRE_INVALID_ARGUMENT`) on misuse.
 */
export function prepareHeader(msg: WireMessage, table: TypeTableEncoder): PreparedHeader {
  if (!Number.isInteger(msg.bodyMode) || msg.bodyMode < 0 || msg.bodyMode > MAX_BODY_MODE) {
    throw new WireError(
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
      `bodyMode ${msg.bodyMode} is not in 0..${MAX_BODY_MODE}`,
    );
  }
  checkStack(msg.to, 'to');
  checkStack(msg.ret, 'ret');
  const correlation = msg.correlation ?? 0;
  if (!Number.isInteger(correlation) || correlation < 0 || correlation > 0xffff_ffff) {
    throw new WireError(
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
      `correlation ${correlation} is not a u32`,
    );
  }
  if (msg.space.length > MAX_SPACE_ENTRIES) {
    throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `space of ${msg.space.length}`);
  }
  let trace: Uint8Array | null = null;
  if (msg.trace !== undefined) {
    trace = traceContextBytes(msg.trace);
    if (trace === null) {
      throw new WireError(
        'HERALD_ERR_WIRE_INVALID_ARGUMENT',
        `trace ${JSON.stringify(msg.trace.slice(0, 64))} is not a W3C traceparent`,
      );
    }
  }
  let size =
    (trace === null ? 1 : 1 + TRACE_CONTEXT_BYTES) +
    stackSize(msg.to) +
    stackSize(msg.ret) +
    varintSize(correlation) +
    varintSize(msg.space.length);
  for (const s of msg.space) {
    checkStack(s, 'space address');
    size += stackSize(s);
  }
  let id = table.lookup(msg.typeName);
  let newName: Uint8Array | null = null;
  let typeRef: number;
  if (id >= 0) {
    typeRef = id * 2;
    size += varintSize(typeRef);
  } else {
    newName = utf8Encoder.encode(msg.typeName);
    if (newName.length === 0 || newName.length > MAX_TYPE_NAME_BYTES) {
      throw new WireError(
        'HERALD_ERR_WIRE_INVALID_ARGUMENT',
        `type name of ${newName.length} bytes (1..${MAX_TYPE_NAME_BYTES})`,
      );
    }
    if (!table.canUse(msg.typeName)) {
      throw new WireError(
        'HERALD_ERR_WIRE_TYPE_TABLE_FULL',
        `more than ${table.maxNames} type names on one connection`,
      );
    }
    id = table.size;
    typeRef = id * 2 + 1;
    size += varintSize(typeRef) + varintSize(newName.length) + newName.length;
  }
  if (size > MAX_MESSAGE_HEADER_BYTES) {
    throw new WireError(
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
      `message header of ${size} bytes exceeds ${MAX_MESSAGE_HEADER_BYTES}`,
    );
  }
  return { msg, typeRef, newName, trace, headerBytes: size };
}

/** Record the header's new type name (if any) in `table`, just before writing it. */
export function commitHeader(p: PreparedHeader, table: TypeTableEncoder): void {
  if (p.newName !== null) table.define(p.msg.typeName);
}

function writeStack(w: ByteWriter, stack: readonly number[]): void {
  w.varint(stack.length);
  for (const h of stack) w.varint(h);
}

/** Write the prepared header (not the body) into `w`. */
export function writeHeader(w: ByteWriter, p: PreparedHeader): void {
  const m = p.msg;
  w.ensure(p.headerBytes);
  w.buf[w.pos++] = p.trace === null ? m.bodyMode : m.bodyMode | MESSAGE_FLAG_TRACE;
  writeStack(w, m.to);
  writeStack(w, m.ret);
  w.varint(p.typeRef);
  if (p.newName !== null) {
    w.varint(p.newName.length);
    w.bytes(p.newName);
  }
  w.varint(m.correlation ?? 0);
  if (p.trace !== null) w.bytes(p.trace);
  w.varint(m.space.length);
  for (const s of m.space) writeStack(w, s);
}

/** Encode header + body as one MESSAGE frame body (plain data in, bytes out). */
export function encodeMessage(msg: WireMessage, table: TypeTableEncoder): Uint8Array {
  const p = prepareHeader(msg, table);
  commitHeader(p, table);
  const w = new ByteWriter(p.headerBytes + msg.body.length);
  writeHeader(w, p);
  w.bytes(msg.body);
  return w.take();
}

function readStack(r: ByteReader, what: string): number[] {
  const n = r.varint(`${what} count`);
  if (n > MAX_HOPS) {
    throw new WireError('HERALD_ERR_WIRE_HEADER_LIMIT', `${what} has ${n} hops (max ${MAX_HOPS})`);
  }
  const out = new Array<number>(n);
  for (let i = 0; i < n; i++) out[i] = r.varint(what);
  return out;
}

/** Read a header from `r`, leaving `r` at the first body byte. */
export function readHeader(r: ByteReader, table: TypeTableDecoder): WireMessageHeader {
  const start = r.pos;
  const mode = r.u8('bodyMode');
  if ((mode & MESSAGE_FLAGS_RESERVED) !== 0) {
    throw new WireError('HERALD_ERR_WIRE_MALFORMED', `reserved MESSAGE header flag in ${mode}`);
  }
  const to = readStack(r, 'to');
  const ret = readStack(r, 'ret');
  const typeName = table.read(r);
  const correlation = r.varint('correlation');
  let trace: string | undefined;
  if ((mode & MESSAGE_FLAG_TRACE) !== 0) {
    if (r.end - r.pos < TRACE_CONTEXT_BYTES) {
      throw new WireError('HERALD_ERR_WIRE_MALFORMED', 'truncated trace context');
    }
    trace = readTraceContext(r.buf, r.pos);
    r.pos += TRACE_CONTEXT_BYTES;
  }
  const count = r.varint('space count');
  if (count > MAX_SPACE_ENTRIES) {
    throw new WireError('HERALD_ERR_WIRE_HEADER_LIMIT', `space of ${count} addresses`);
  }
  const space = new Array<number[]>(count);
  for (let i = 0; i < count; i++) space[i] = readStack(r, 'space address');
  if (r.pos - start > MAX_MESSAGE_HEADER_BYTES) {
    throw new WireError('HERALD_ERR_WIRE_HEADER_LIMIT', `header of ${r.pos - start} bytes`);
  }
  return { bodyMode: mode & MAX_BODY_MODE, to, ret, typeName, correlation, trace, space };
}

/** Decode a MESSAGE frame body. The returned `body` is a view into `bytes`. */
export function decodeMessage(bytes: Uint8Array, table: TypeTableDecoder): WireMessage {
  const r = new ByteReader(bytes);
  const h = readHeader(r, table);
  return { ...h, body: r.rest() };
}
