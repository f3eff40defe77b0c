/**
 * Stream mode: per-connection state so that a repeated message shape is described once.
 *
 * The encoder uses msgpackr shared structures. When a message brings a new shape, msgpackr
 * assigns it a shared record id and writes only that id into the body; the encoder hands
 * back the new shapes as a separate `structureUpdate`. The transport sends updates in order,
 * each before the first chunk of the message that produced it; the decoder applies them with
 * `applyStructures`. Bodies never define stream state inline, so once the updates are applied
 * they decode in any order (large messages are chunked and may complete after later small
 * ones). A body that references a shape the decoder has not been given fails with
 * `HERALD_ERR_UNKNOWN_STRUCTURE`.
 *
 * A stream body leaves the message's `type` out: the network layer carries the type name in
 * its own header and hands it to `decodeBody`, which puts it back before validation (a body
 * that does carry `type` is still read, and its type must match). That spares every message
 * its type name (14 bytes for `bench.Payload`) and the string decode.
 *
 * Only message-shaped objects (the top-level message's own shape, or a nested object whose
 * first key is `type`) become shared shapes, so dictionaries with arbitrary keys cannot
 * exhaust the budget; past `maxStreamStructures`, and for other objects, msgpackr describes
 * the shape inside the body (self-contained, per message).
 *
 * Structure update layout (msgpack): `[firstIndex, keys0, keys1, ...]` where each `keys` is an
 * array of strings and `firstIndex` is the number of shapes the decoder must already hold.
 */
import { Packr, Unpackr } from 'msgpackr';
import type { Address } from './address.js';
import type { CodecCore, EncodedBody } from './codec.js';
import { PACK_OPTIONS, decodeFailure, toEncodeError } from './msgpack.js';
import { BODY_FLAG_GRAPH, BODY_FLAG_STREAM, BODY_FLAGS_KNOWN } from './constants.js';
import { label } from './describe.js';
import { CodecError } from './errors.js';
import { startCollectingAddresses, stopCollectingAddresses } from './extensions.js';
import type { AnyMessage } from './schema.js';

/** `'stream'`: may reference stream shapes. `'stateless'`: self-contained, relayable. */
export type BodyMode = 'stream' | 'stateless';

export interface StreamEncodedBody extends EncodedBody {
  /**
   * New shapes this body references, or undefined. Send it (in order) before the body's
   * first chunk and pass it to the peer decoder's `applyStructures`.
   */
  readonly structureUpdate: Uint8Array | undefined;
}

export interface StreamEncoder {
  /**
   * Encodes a body. Graph types are always self-contained (BODY_FLAG_GRAPH); `'stateless'`
   * gives a self-contained body (flags 0) for messages that will be relayed.
   */
  encodeBody(message: AnyMessage, mode?: BodyMode): StreamEncodedBody;
  /** Shapes described so far on this stream. */
  readonly structureCount: number;
}

export interface StreamDecoder {
  /** Applies a structure update; updates must arrive in the order they were produced. */
  applyStructures(update: Uint8Array): void;
  /**
   * Decodes and validates any body for this connection: stream bodies (BODY_FLAG_STREAM, the
   * default) with this stream's shapes, self-contained ones like `codec.decodeBody`.
   */
  decodeBody(
    typeName: string,
    body: Uint8Array,
    addresses?: readonly Address[],
    flags?: number,
  ): AnyMessage;
  /** Shapes applied so far. */
  readonly structureCount: number;
}

/** The two halves kept per connection: ours for outbound, the peer's mirror for inbound. */
export interface CodecStream {
  readonly encoder: StreamEncoder;
  readonly decoder: StreamDecoder;
}

const NO_ADDRESSES: readonly Address[] = Object.freeze([]);

type Structures = string[][] & { sharedLength?: number };
type SharedKeys = string[] & { isShared?: boolean; highByte?: number };

const updatePackr = new Packr({ useRecords: false });
// Updates are lists of lists of strings: no shared references (structured clone) in them.
const updateUnpackr = new Unpackr({
  useRecords: false,
  mapsAsObjects: true,
  structuredClone: false,
} as ConstructorParameters<typeof Unpackr>[0]);

export function createStreamEncoder(core: CodecCore): StreamEncoder {
  const structures: Structures = [];
  let described = 0;
  // Set once a shape of the current message was kept unshared: every later new shape of the
  // same message must be unshared too, or msgpackr could hand out one own-record id twice.
  let unsharedInMessage = false;
  // The top-level value being packed (the message without `type`), and its keys once asked.
  let top: Record<string, unknown> = {};
  let topKeys: string[] | null = null;
  const isTopShape = (keys: string[]): boolean => {
    topKeys ??= Object.keys(top);
    if (keys.length !== topKeys.length) return false;
    for (let i = 0; i < keys.length; i++) if (keys[i] !== topKeys[i]) return false;
    return true;
  };
  const packr = new Packr({
    ...PACK_OPTIONS,
    useRecords: true,
    structures,
    maxSharedStructures: core.maxStreamStructures,
    shouldShareStructure: (keys: string[]) => {
      if (unsharedInMessage || (keys[0] !== 'type' && !isTopShape(keys))) {
        unsharedInMessage = true;
        return false;
      }
      return true;
    },
  } as ConstructorParameters<typeof Packr>[0]);

  function update(): Uint8Array | undefined {
    const shared = structures.sharedLength ?? 0;
    if (shared <= described) return undefined;
    const entries: unknown[] = [described];
    for (let i = described; i < shared; i++) entries.push(Array.from(structures[i] ?? []));
    described = shared;
    return updatePackr.pack(entries);
  }

  return {
    get structureCount() {
      return described;
    },
    encodeBody(message: AnyMessage, mode: BodyMode = 'stream'): StreamEncodedBody {
      const def = core.lookup(message);
      if (def.graph || mode === 'stateless') {
        const self = core.encodeSelfContained(message, def);
        return { ...self, structureUpdate: undefined };
      }
      unsharedInMessage = false;
      top = withoutType(message);
      topKeys = null;
      startCollectingAddresses();
      let body: Uint8Array;
      let addresses: Address[] | null;
      try {
        body = packr.pack(top);
      } catch (error) {
        throw toEncodeError(error, message);
      } finally {
        addresses = stopCollectingAddresses();
      }
      core.checkEncoded(message, body);
      // Shapes added by a failed encode are sent with the next successful one.
      return {
        body,
        addresses: addresses ?? NO_ADDRESSES,
        flags: BODY_FLAG_STREAM,
        structureUpdate: update(),
      };
    },
  };
}

/** The message's own fields, without `type` (the header carries it). */
function withoutType(message: AnyMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(message)) {
    if (key !== 'type') out[key] = (message as unknown as Record<string, unknown>)[key];
  }
  return out;
}

function streamError(message: string): CodecError {
  return new CodecError('HERALD_ERR_STREAM_STATE', message);
}

export function createStreamDecoder(core: CodecCore): StreamDecoder {
  const structures: Structures = [];
  const unpackr = new Unpackr({
    structures,
    mapsAsObjects: false,
    structuredClone: false,
    copyBuffers: true,
    getStructures: () => {
      throw new CodecError(
        'HERALD_ERR_UNKNOWN_STRUCTURE',
        'stream body references a shape whose structure update was not applied',
      );
    },
  } as ConstructorParameters<typeof Unpackr>[0]);
  structures.sharedLength = 0;

  return {
    get structureCount() {
      return structures.sharedLength ?? 0;
    },

    applyStructures(update: Uint8Array): void {
      try {
        applyStructures(update);
      } catch (error) {
        throw decodeFailure(error);
      }
    },

    decodeBody(
      typeName: string,
      body: Uint8Array,
      addresses: readonly Address[] = NO_ADDRESSES,
      flags = BODY_FLAG_STREAM,
    ): AnyMessage {
      try {
        return decodeBody(typeName, body, addresses, flags);
      } catch (error) {
        throw decodeFailure(error);
      }
    },
  };

  function applyStructures(update: Uint8Array): void {
    if (!(update instanceof Uint8Array)) throw streamError('a structure update must be bytes');
    if (update.length > core.maxMessageBytes) {
      throw new CodecError('HERALD_ERR_TOO_LARGE', 'structure update exceeds maxMessageBytes');
    }
    let decoded: unknown;
    try {
      decoded = updateUnpackr.unpack(update);
    } catch (error) {
      throw new CodecError('HERALD_ERR_STREAM_STATE', 'malformed structure update', {
        cause: error,
      });
    }
    const shared = structures.sharedLength ?? 0;
    if (!Array.isArray(decoded) || decoded.length < 2 || typeof decoded[0] !== 'number') {
      throw streamError('malformed structure update');
    }
    if (decoded[0] !== shared) {
      throw streamError(
        `structure update starts at shape ${label(decoded[0])} but ${shared} are applied (lost or reordered update)`,
      );
    }
    if (shared + decoded.length - 1 > core.maxStreamStructures) {
      throw streamError(`structure update exceeds maxStreamStructures ${core.maxStreamStructures}`);
    }
    const added: SharedKeys[] = [];
    for (let i = 1; i < decoded.length; i++) {
      const keys: unknown = decoded[i];
      if (!Array.isArray(keys) || !keys.every((k) => typeof k === 'string')) {
        throw streamError('a structure in the update is not a list of field names');
      }
      added.push(keys as SharedKeys);
    }
    // Drop any per-message structure msgpackr left behind, then append the shared ones.
    structures.length = shared;
    for (const keys of added) {
      const id = structures.length;
      keys.isShared = true;
      if (id >= 32) keys.highByte = (id - 32) >> 5;
      structures.push(keys);
    }
    structures.sharedLength = structures.length;
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
    if (body.length > core.maxMessageBytes) {
      throw new CodecError(
        'HERALD_ERR_TOO_LARGE',
        `input of ${body.length} bytes exceeds maxMessageBytes ${core.maxMessageBytes}`,
      );
    }
    if (
      !Number.isInteger(flags) ||
      flags < 0 ||
      (flags & ~BODY_FLAGS_KNOWN) !== 0 ||
      flags === (BODY_FLAG_STREAM | BODY_FLAG_GRAPH)
    ) {
      throw new CodecError('HERALD_ERR_MALFORMED', `unknown body flags ${label(flags)}`);
    }
    const def = core.catalogue.get(typeName);
    if (def === undefined) {
      throw new CodecError(
        'HERALD_ERR_UNKNOWN_TYPE',
        `message type ${label(typeName)} is not in the catalogue`,
      );
    }
    if ((flags & BODY_FLAG_STREAM) === 0) {
      return core.decodeSelfContained(def, body, addresses, flags);
    }
    const raw = core.unpack(unpackr, body, 0, addresses);
    // The type comes from the header: put it back (a body that carries one keeps it, and
    // validation checks that it is this type).
    if (typeof raw === 'object' && raw !== null && !Object.hasOwn(raw, 'type')) {
      (raw as Record<string, unknown>).type = def.type;
    }
    return core.validate(def, raw, false);
  }
}
