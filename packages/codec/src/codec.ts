/**
 * The codec: messages to bytes and back, with msgpackr.
 *
 * Three ways to encode, one catalogue:
 * - `encode`/`decode`: stateless, self-contained blobs (type name, flags, body, addresses
 *   inline). For storage, tests, one-off transfers.
 * - `encodeBody`/`decodeBody`: bodies for the network layer, which carries the type name and
 *   the body flags in its own header. Addresses are replaced by indexes into a separate
 *   address vector ("space") that the network layer translates hop by hop, so relays can
 *   forward a body without decoding it.
 * - `createStream()`: per-connection encoder/decoder halves that describe each message shape
 *   once per stream (see stream.ts).
 *
 * Layout of a blob (`encode`):
 *
 *   byte 0      BLOB_VERSION (1)
 *   byte 1      body flags (0 or BODY_FLAG_GRAPH)
 *   byte 2      n, length of the type name (1..128, ASCII)
 *   3 .. 3+n    type name
 *   3+n ..      msgpack body, addresses inline
 */
import { Packr, RESERVE_START_SPACE, Unpackr } from 'msgpackr';
import type { Address } from './address.js';
import type { Catalogue } from './catalogue.js';
import {
  BLOB_HEADER_BYTES,
  BLOB_VERSION,
  BODY_FLAG_GRAPH,
  BODY_FLAG_STREAM,
  BODY_FLAGS_KNOWN,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_STREAM_STRUCTURES,
  MAX_STREAM_STRUCTURES,
} from './constants.js';
import { label } from './describe.js';
import { CodecError } from './errors.js';
import {
  setAddressSpace,
  setInlineAddresses,
  startCollectingAddresses,
  stopCollectingAddresses,
} from './extensions.js';
import {
  PACK_OPTIONS,
  decodeFailure,
  decoderSource,
  toDecodeError,
  toEncodeError,
} from './msgpack.js';
import { prepareForPlain } from './prepare.js';
import type { AnyMessage, AnyMessageType } from './schema.js';
import { createStreamDecoder, createStreamEncoder, type CodecStream } from './stream.js';
import { validateMessage } from './validate.js';

export interface CodecOptions {
  /** The message types this codec encodes and decodes. Types added later are seen too. */
  readonly catalogue: Catalogue;
  /**
   * Largest blob or body, in bytes, that the codec writes or decodes. Checked before any
   * decoding. Default DEFAULT_MAX_MESSAGE_BYTES (64 MiB).
   */
  readonly maxMessageBytes?: number;
  /**
   * Shapes a stream describes once (msgpackr shared structures); both ends of a stream must
   * use the same value. Default DEFAULT_MAX_STREAM_STRUCTURES (32); at most 8160.
   */
  readonly maxStreamStructures?: number;
  /**
   * Validate every message against its schema before encoding it too (the decoder always
   * does). Costs about as much as decoding validation. Default false.
   */
  readonly validateOnEncode?: boolean;
}

/** A body for the network layer. */
export interface EncodedBody {
  /** The msgpack body. Addresses inside it are indexes into `addresses`. */
  readonly body: Uint8Array;
  /** The address vector ("space") to send beside the body, translated hop by hop. */
  readonly addresses: readonly Address[];
  /** Body flags (BODY_FLAG_*) to carry in the frame header and pass to `decodeBody`. */
  readonly flags: number;
}

export interface Codec {
  readonly catalogue: Catalogue;
  readonly maxMessageBytes: number;
  readonly maxStreamStructures: number;
  /** A self-contained blob: type name, flags, body, addresses inline. */
  encode(message: AnyMessage): Uint8Array;
  /** Decodes and validates a blob made by `encode`. Throws only CodecError. */
  decode(bytes: Uint8Array): AnyMessage;
  /** A self-contained body (flags 0, or BODY_FLAG_GRAPH for graph types): relayable. */
  encodeBody(message: AnyMessage): EncodedBody;
  /**
   * Decodes and validates a self-contained body. A body with BODY_FLAG_STREAM needs the
   * stream decoder it was encoded for (`HERALD_ERR_STREAM_STATE` here). Throws only CodecError.
   */
  decodeBody(
    typeName: string,
    body: Uint8Array,
    addresses?: readonly Address[],
    flags?: number,
  ): AnyMessage;
  /** A fresh encoder/decoder pair for one connection. */
  createStream(): CodecStream;
}

/** Internals shared with the stream halves; not exported from the package. */
export interface CodecCore {
  readonly catalogue: Catalogue;
  readonly maxMessageBytes: number;
  readonly maxStreamStructures: number;
  lookup(message: AnyMessage): AnyMessageType;
  checkEncoded(message: AnyMessage, bytes: Uint8Array): void;
  encodeSelfContained(message: AnyMessage, def: AnyMessageType): EncodedBody;
  decodeSelfContained(
    def: AnyMessageType,
    body: Uint8Array,
    addresses: readonly Address[] | null,
    flags: number,
  ): AnyMessage;
  /** Runs msgpackr unpack, mapping anything it throws to CodecError. */
  unpack(
    unpackr: Unpackr,
    bytes: Uint8Array,
    start: number,
    addresses: readonly Address[] | null,
  ): unknown;
  validate(def: AnyMessageType, raw: unknown, graph: boolean): AnyMessage;
}

const NO_ADDRESSES: readonly Address[] = Object.freeze([]);

function malformedStructures(): never {
  throw new CodecError(
    'HERALD_ERR_MALFORMED',
    'body references a record structure it does not define',
  );
}

const nameBytesCache = new Map<string, Uint8Array>();
function nameBytes(name: string): Uint8Array {
  let bytes = nameBytesCache.get(name);
  if (bytes === undefined) {
    bytes = new Uint8Array(name.length);
    for (let i = 0; i < name.length; i++) bytes[i] = name.charCodeAt(i) & 0xff;
    nameBytesCache.set(name, bytes);
  }
  return bytes;
}

function readAscii(bytes: Uint8Array, start: number, end: number): string {
  let name = '';
  for (let i = start; i < end; i++) name += String.fromCharCode(bytes[i] as number);
  return name;
}

/** Creates a codec bound to a catalogue. Two codecs in one process never interfere. */
export function createCodec(options: CodecOptions): Codec {
  const catalogue = options.catalogue;
  const maxMessageBytes = options.maxMessageBytes ?? DEFAULT_MAX_MESSAGE_BYTES;
  const maxStreamStructures = options.maxStreamStructures ?? DEFAULT_MAX_STREAM_STRUCTURES;
  const validateOnEncode = options.validateOnEncode === true;
  if (!Number.isSafeInteger(maxMessageBytes) || maxMessageBytes < 1) {
    throw new CodecError(
      'HERALD_ERR_BAD_OPTION',
      `maxMessageBytes must be a positive integer, got ${label(maxMessageBytes)}`,
    );
  }
  if (
    !Number.isSafeInteger(maxStreamStructures) ||
    maxStreamStructures < 0 ||
    maxStreamStructures > MAX_STREAM_STRUCTURES
  ) {
    throw new CodecError(
      'HERALD_ERR_BAD_OPTION',
      `maxStreamStructures must be an integer in 0..${MAX_STREAM_STRUCTURES}, got ${label(maxStreamStructures)}`,
    );
  }

  // Plain bodies: objects as msgpack maps (fast), Maps through the MapEntries extension.
  // The plain packer writes 64..127 as positive fixints (bytes 0x40-0x7f), which msgpackr
  // reads as record references only when a record is defined under that id; so the plain
  // unpacker has no getStructures (with one, every such integer failed to decode).
  // Shared references (structured clone) are refused: a tree body cannot hold them.
  const plainPackr = new Packr({ ...PACK_OPTIONS, useRecords: false });
  const plainUnpackr = new Unpackr({
    useRecords: false,
    mapsAsObjects: true,
    structuredClone: false,
    copyBuffers: true,
    structures: [],
  } as ConstructorParameters<typeof Unpackr>[0]);
  // Graph bodies: records (so a Map stays a Map) and structured clone (identity, cycles).
  // This packer writes 64..127 with a uint8 prefix, so 0x40-0x7f are always record ids.
  const graphPackr = new Packr({ ...PACK_OPTIONS, structuredClone: true, useRecords: true });
  const graphStructures: string[][] = [];
  const graphUnpackr = new Unpackr({
    mapsAsObjects: false,
    structuredClone: true,
    copyBuffers: true,
    structures: graphStructures,
    getStructures: malformedStructures,
  } as ConstructorParameters<typeof Unpackr>[0]);

  function lookup(message: AnyMessage): AnyMessageType {
    const type = (message as { type?: unknown } | null | undefined)?.type;
    if (typeof type !== 'string') {
      throw new CodecError('HERALD_ERR_ENCODE', 'a message must be an object with a string type');
    }
    const def = catalogue.get(type);
    if (def === undefined) {
      throw new CodecError(
        'HERALD_ERR_UNKNOWN_TYPE',
        `message type ${label(type)} is not in the catalogue`,
      );
    }
    if (validateOnEncode) validateMessage(def, message, catalogue, def.graph, maxMessageBytes);
    return def;
  }

  function checkEncoded(message: AnyMessage, bytes: Uint8Array): void {
    if (bytes.length > maxMessageBytes) {
      throw new CodecError(
        'HERALD_ERR_TOO_LARGE',
        `${message.type} encodes to ${bytes.length} bytes, more than maxMessageBytes ${maxMessageBytes}`,
      );
    }
  }

  function checkSize(length: number): void {
    if (length > maxMessageBytes) {
      throw new CodecError(
        'HERALD_ERR_TOO_LARGE',
        `input of ${length} bytes exceeds maxMessageBytes ${maxMessageBytes}`,
      );
    }
  }

  function pack(
    packr: Packr,
    message: AnyMessage,
    def: AnyMessageType,
    reserve: number,
  ): Uint8Array {
    let value: unknown = message;
    if (!def.graph) {
      const prep = prepareForPlain(def);
      if (prep !== null) value = prep(message);
    }
    try {
      return reserve === 0 ? packr.pack(value) : packr.pack(value, RESERVE_START_SPACE | reserve);
    } catch (error) {
      throw toEncodeError(error, message);
    }
  }

  function encodeSelfContained(message: AnyMessage, def: AnyMessageType): EncodedBody {
    startCollectingAddresses();
    let body: Uint8Array;
    let addresses: Address[] | null;
    try {
      body = pack(def.graph ? graphPackr : plainPackr, message, def, 0);
    } finally {
      addresses = stopCollectingAddresses();
    }
    checkEncoded(message, body);
    return { body, addresses: addresses ?? NO_ADDRESSES, flags: def.graph ? BODY_FLAG_GRAPH : 0 };
  }

  function unpack(
    unpackr: Unpackr,
    bytes: Uint8Array,
    start: number,
    addresses: readonly Address[] | null,
  ): unknown {
    setAddressSpace(addresses);
    try {
      return start === 0
        ? unpackr.unpack(decoderSource(bytes))
        : unpackr.unpack(decoderSource(bytes), { start, end: bytes.length });
    } catch (error) {
      throw toDecodeError(error);
    } finally {
      setAddressSpace(null);
    }
  }

  function validate(def: AnyMessageType, raw: unknown, graph: boolean): AnyMessage {
    return validateMessage(def, raw, catalogue, graph, maxMessageBytes);
  }

  // Graph bodies are read in msgpackr's sequential mode: its "end of buffer not reached"
  // check builds a JSON view of the value read so far, which for a DAG of shared arrays
  // costs one visit per path (2^depth); we check the end ourselves instead. Plain bodies are
  // trees, where that view costs at most the size of the input, so they keep the faster
  // ordinary mode.
  let firstValue: unknown;
  let firstEnd = -1;
  const takeFirst = (value: unknown, _start?: number, end?: number): boolean => {
    firstValue = value;
    firstEnd = end ?? -1;
    return false;
  };

  /** Unpacks a whole self-contained body (one msgpack value, nothing after it). */
  function unpackSelfContained(
    graph: boolean,
    bytes: Uint8Array,
    start: number,
    addresses: readonly Address[] | null,
  ): unknown {
    if (!graph) return unpack(plainUnpackr, bytes, start, addresses);
    const input = decoderSource(start === 0 ? bytes : bytes.subarray(start));
    // Sequential mode keeps record definitions between calls; a body never sees another's.
    graphStructures.length = 0;
    firstEnd = -1;
    setAddressSpace(addresses);
    try {
      graphUnpackr.unpackMultiple(input, takeFirst);
    } catch (error) {
      throw toDecodeError(error);
    } finally {
      setAddressSpace(null);
      graphStructures.length = 0;
    }
    const value = firstValue;
    firstValue = undefined;
    if (firstEnd !== input.length) {
      throw new CodecError(
        'HERALD_ERR_MALFORMED',
        `body holds ${input.length - firstEnd} bytes after its value`,
      );
    }
    return value;
  }

  function decodeSelfContained(
    def: AnyMessageType,
    body: Uint8Array,
    addresses: readonly Address[] | null,
    flags: number,
  ): AnyMessage {
    const graph = (flags & BODY_FLAG_GRAPH) !== 0;
    if (graph) checkGraphType(def);
    const raw = unpackSelfContained(graph, body, 0, addresses);
    return validateMessage(def, raw, catalogue, graph, maxMessageBytes);
  }

  function defOf(typeName: string): AnyMessageType {
    const def = catalogue.get(typeName);
    if (def === undefined) {
      throw new CodecError(
        'HERALD_ERR_UNKNOWN_TYPE',
        `message type ${label(typeName)} is not in the catalogue`,
      );
    }
    return def;
  }

  function checkFlags(flags: number): void {
    if (!Number.isInteger(flags) || (flags & ~BODY_FLAGS_KNOWN) !== 0 || flags < 0) {
      throw new CodecError('HERALD_ERR_MALFORMED', `unknown body flags ${label(flags)}`);
    }
    if ((flags & BODY_FLAG_STREAM) !== 0 && (flags & BODY_FLAG_GRAPH) !== 0) {
      throw new CodecError('HERALD_ERR_MALFORMED', 'a body cannot be both stream and graph');
    }
  }

  const core: CodecCore = {
    catalogue,
    maxMessageBytes,
    maxStreamStructures,
    lookup,
    checkEncoded,
    encodeSelfContained,
    decodeSelfContained,
    unpack,
    validate,
  };

  return {
    catalogue,
    maxMessageBytes,
    maxStreamStructures,

    encode(message: AnyMessage): Uint8Array {
      const def = lookup(message);
      const name = nameBytes(def.type);
      const headerLength = BLOB_HEADER_BYTES + name.length;
      setInlineAddresses();
      const bytes = pack(def.graph ? graphPackr : plainPackr, message, def, headerLength);
      bytes[0] = BLOB_VERSION;
      bytes[1] = def.graph ? BODY_FLAG_GRAPH : 0;
      bytes[2] = name.length;
      bytes.set(name, BLOB_HEADER_BYTES);
      checkEncoded(message, bytes);
      return bytes;
    },

    decode(bytes: Uint8Array): AnyMessage {
      try {
        return decodeBlob(bytes);
      } catch (error) {
        throw decodeFailure(error);
      }
    },

    encodeBody(message: AnyMessage): EncodedBody {
      return encodeSelfContained(message, lookup(message));
    },

    decodeBody(
      typeName: string,
      body: Uint8Array,
      addresses: readonly Address[] = NO_ADDRESSES,
      flags = 0,
    ): AnyMessage {
      try {
        return decodeBody(typeName, body, addresses, flags);
      } catch (error) {
        throw decodeFailure(error);
      }
    },

    createStream(): CodecStream {
      return { encoder: createStreamEncoder(core), decoder: createStreamDecoder(core) };
    },
  };

  function decodeBlob(bytes: Uint8Array): AnyMessage {
    if (!(bytes instanceof Uint8Array)) {
      throw new CodecError('HERALD_ERR_MALFORMED', 'decode expects a Uint8Array');
    }
    checkSize(bytes.length);
    if (bytes.length < BLOB_HEADER_BYTES || bytes[0] !== BLOB_VERSION) {
      throw new CodecError('HERALD_ERR_MALFORMED', 'not a Herald blob (bad version byte)');
    }
    const flags = bytes[1] as number;
    if ((flags & ~BODY_FLAG_GRAPH) !== 0) {
      throw new CodecError('HERALD_ERR_MALFORMED', `unknown blob flags ${flags}`);
    }
    const nameLength = bytes[2] as number;
    const bodyStart = BLOB_HEADER_BYTES + nameLength;
    if (nameLength === 0 || bodyStart >= bytes.length) {
      throw new CodecError('HERALD_ERR_MALFORMED', 'blob is truncated');
    }
    const def = defOf(readAscii(bytes, BLOB_HEADER_BYTES, bodyStart));
    const graph = flags !== 0;
    if (graph) checkGraphType(def);
    const raw = unpackSelfContained(graph, bytes, bodyStart, null);
    return validateMessage(def, raw, catalogue, graph, maxMessageBytes);
  }

  function decodeBody(
    typeName: string,
    body: Uint8Array,
    addresses: readonly Address[],
    flags: number,
  ): AnyMessage {
    if (!(body instanceof Uint8Array)) {
      throw new CodecError('HERALD_ERR_MALFORMED', 'decodeBody expects a Uint8Array');
    }
    checkSize(body.length);
    checkFlags(flags);
    if ((flags & BODY_FLAG_STREAM) !== 0) {
      throw new CodecError(
        'HERALD_ERR_STREAM_STATE',
        'a stream body can only be decoded by the stream decoder it was encoded for',
      );
    }
    return decodeSelfContained(defOf(typeName), body, addresses, flags);
  }
}

/**
 * Graph mode (shared references, cycles) only for types declared `graph: true`: any other
 * type's values are trees, and its validators and consumers may count on that.
 */
function checkGraphType(def: AnyMessageType): void {
  if (!def.graph) {
    throw new CodecError(
      'HERALD_ERR_MALFORMED',
      `${def.type} is not declared graph: its body cannot be a graph body`,
    );
  }
}
