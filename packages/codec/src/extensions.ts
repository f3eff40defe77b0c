/**
 * msgpack extensions registered once, at module load, with msgpackr's process-wide extension
 * table: Address, (for plain bodies) Map, and byte arrays as plain msgpack `bin`.
 *
 * msgpackr's `addExtension` is global, so per-call behaviour (write addresses inline or into
 * a space vector; read them back from which vector) goes through module-private state set
 * around each synchronous pack/unpack call by `withSpace*` below and reset in `finally`.
 * Because pack and unpack are synchronous and never yield, two codecs in one process cannot
 * observe each other's state.
 *
 * Address extension (type ADDRESS_EXT_TYPE) data: one kind byte, then unsigned LEB128
 * varints.
 * - kind 0, inline: the hops, first to last (at least one).
 * - kind 1, space: one varint, an index into the body's address vector.
 */
import { addExtension } from 'msgpackr';
import { Address } from './address.js';
import { ADDRESS_EXT_TYPE, BYTES_EXT_TYPE, MAP_EXT_TYPE } from './constants.js';
import { label } from './describe.js';
import { CodecError } from './errors.js';

const KIND_INLINE = 0;
const KIND_SPACE = 1;
/** 8 varint bytes carry 56 bits, more than any safe integer. */
const MAX_VARINT_BYTES = 8;

/** Encoding: false = write addresses inline; true = collect them into `collected`. */
let collecting = false;
let collected: Address[] | null = null;
/** Decoding: the address vector of the body being read, or null for inline-only input. */
let space: readonly Address[] | null = null;

function varintLength(value: number): number {
  let n = 1;
  while (value >= 0x80) {
    value = Math.floor(value / 0x80);
    n++;
  }
  return n;
}

function writeVarint(out: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    out[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  out[at++] = value;
  return at;
}

function malformed(message: string): CodecError {
  return new CodecError('HERALD_ERR_MALFORMED', message);
}

function packAddress(address: Address): Uint8Array {
  if (collecting) {
    const list = (collected ??= []);
    const index = list.push(address) - 1;
    const out = new Uint8Array(1 + varintLength(index));
    out[0] = KIND_SPACE;
    writeVarint(out, 1, index);
    return out;
  }
  const hops = address.hops;
  if (hops.length === 0) throw new CodecError('HERALD_ERR_ENCODE', 'an address has no hops');
  let size = 1;
  for (const hop of hops) {
    if (!Number.isSafeInteger(hop) || hop < 0) {
      throw new CodecError(
        'HERALD_ERR_ENCODE',
        `address hop ${label(hop)} is not a safe non-negative integer`,
      );
    }
    size += varintLength(hop);
  }
  const out = new Uint8Array(size);
  out[0] = KIND_INLINE;
  let at = 1;
  for (const hop of hops) at = writeVarint(out, at, hop);
  return out;
}

function unpackAddress(data: Uint8Array): Address {
  if (data.length < 2) throw malformed('address extension is too short');
  const kind = data[0];
  const values: number[] = [];
  let at = 1;
  while (at < data.length) {
    let value = 0;
    let scale = 1;
    let bytes = 0;
    let byte: number;
    do {
      if (at >= data.length || bytes === MAX_VARINT_BYTES) {
        throw malformed('address extension holds a truncated or oversized varint');
      }
      byte = data[at++] as number;
      value += (byte & 0x7f) * scale;
      scale *= 0x80;
      bytes++;
    } while (byte & 0x80);
    if (!Number.isSafeInteger(value)) throw malformed('address hop is not a safe integer');
    values.push(value);
  }
  if (kind === KIND_INLINE) return new Address(values);
  if (kind === KIND_SPACE) {
    if (values.length !== 1) throw malformed('address index extension holds more than one index');
    if (space === null)
      throw malformed('address index found outside a body with an address vector');
    const address = space[values[0] as number];
    if (address === undefined) {
      throw malformed(
        `address index ${values[0] as number} is outside the address vector (${space.length})`,
      );
    }
    return address;
  }
  throw malformed(`unknown address extension kind ${String(kind)}`);
}

/**
 * A Map wrapped for plain (record-less) bodies, where msgpackr cannot tell a Map from an
 * object: written as extension MAP_EXT_TYPE holding `[k0, v0, k1, v1, ...]`.
 */
export class MapEntries {
  constructor(readonly flat: unknown[]) {}
}

function readMap(flat: unknown): Map<unknown, unknown> {
  if (!Array.isArray(flat) || flat.length % 2 !== 0)
    throw malformed('map extension is not a list of pairs');
  const map = new Map<unknown, unknown>();
  for (let i = 0; i < flat.length; i += 2) map.set(flat[i], flat[i + 1]);
  return map;
}

/** Where msgpackr lets an extension write its own bytes (then no extension header is added). */
type AllocateForWrite = (size: number) => { target: Uint8Array; position: number };

/**
 * A Uint8Array (`t.bytes()`) as msgpack `bin`: the smallest encoding (2 bytes of header up
 * to 255 bytes) and, on the way in, one copy straight out of the received bytes (the
 * codec's unpackers copy buffers, and a plain Uint8Array source gives a plain Uint8Array).
 * msgpackr's own choice with `moreTypes` is its typed-array extension, which costs a view,
 * an aligned copy and a new array per field when read. Other typed arrays keep that
 * extension, and it is still read (so older bodies decode).
 */
function packBytes(bytes: Uint8Array, allocateForWrite: AllocateForWrite): void {
  const length = bytes.byteLength;
  let target: Uint8Array;
  let position: number;
  if (length < 0x100) {
    ({ target, position } = allocateForWrite(2 + length));
    target[position++] = 0xc4;
    target[position++] = length;
  } else if (length < 0x10000) {
    ({ target, position } = allocateForWrite(3 + length));
    target[position++] = 0xc5;
    target[position++] = length >>> 8;
    target[position++] = length & 0xff;
  } else {
    ({ target, position } = allocateForWrite(5 + length));
    target[position++] = 0xc6;
    target[position++] = length >>> 24;
    target[position++] = (length >>> 16) & 0xff;
    target[position++] = (length >>> 8) & 0xff;
    target[position++] = length & 0xff;
  }
  target.set(bytes, position);
}

function unpackBytesExtension(): never {
  throw malformed(`extension ${BYTES_EXT_TYPE} is reserved and never written`);
}

addExtension({ Class: Address, type: ADDRESS_EXT_TYPE, pack: packAddress, unpack: unpackAddress });
addExtension({
  Class: Uint8Array,
  type: BYTES_EXT_TYPE,
  pack: packBytes as unknown as (value: unknown) => Uint8Array,
  unpack: unpackBytesExtension,
});
addExtension({
  Class: MapEntries,
  type: MAP_EXT_TYPE,
  write: (entries: MapEntries) => entries.flat,
  read: readMap,
});

/*
 * Context switches. Callers pair them in try/finally around one synchronous pack or unpack
 * (no closure per message on the hot path).
 */

/** Addresses met by the next pack are written inline (the default). */
export function setInlineAddresses(): void {
  collecting = false;
  collected = null;
}

/** Addresses met by the next pack are collected into a vector and written as indexes. */
export function startCollectingAddresses(): void {
  collecting = true;
  collected = null;
}

/** Ends collection; returns the collected vector (null when the value held no address). */
export function stopCollectingAddresses(): Address[] | null {
  const list = collected;
  collecting = false;
  collected = null;
  return list;
}

/** Address indexes met by the next unpack resolve against `addresses` (null: none allowed). */
export function setAddressSpace(addresses: readonly Address[] | null): void {
  space = addresses;
}
