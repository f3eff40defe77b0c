/**
 * Every default and every wire constant of the codec, in one place.
 */

/** Largest encoded message (blob or body) the codec writes or agrees to decode: 64 MiB. */
export const DEFAULT_MAX_MESSAGE_BYTES = 64 * 1024 * 1024;

/**
 * Shapes a stream may describe once and then reference by id (msgpackr shared structures).
 * 32 keeps every record id in one byte; beyond the limit shapes are described inside each
 * message that uses them.
 */
export const DEFAULT_MAX_STREAM_STRUCTURES = 32;

/** Upper bound msgpackr accepts for shared structures. */
export const MAX_STREAM_STRUCTURES = 8160;

/**
 * Body flags. The network layer carries them in its frame header next to the type name and
 * hands them back to `decodeBody`.
 *
 * - `0`: a self-contained body; any decoder with the same catalogue can read it, so a relay
 *   may forward it unchanged.
 * - `BODY_FLAG_STREAM`: the body references shapes described by earlier structure updates of
 *   one stream; only that stream's decoder can read it. Never relay it.
 * - `BODY_FLAG_GRAPH`: the body is self-contained and may hold shared references and cycles
 *   (msgpackr structured clone).
 */
export const BODY_FLAG_STREAM = 0x01;
export const BODY_FLAG_GRAPH = 0x02;
/** Every flag bit the codec knows; a body with any other bit set is malformed. */
export const BODY_FLAGS_KNOWN = BODY_FLAG_STREAM | BODY_FLAG_GRAPH;

/** First byte of a stateless blob (`codec.encode`): the blob layout version. */
export const BLOB_VERSION = 1;
/** Blob header: version, flags, type-name length; the name and the body follow. */
export const BLOB_HEADER_BYTES = 3;

/** msgpack extension type of an Address (inline hop stack or index into the space vector). */
export const ADDRESS_EXT_TYPE = 0x41;
/** msgpack extension type of a Map in self-contained plain bodies. */
export const MAP_EXT_TYPE = 0x4d;
/**
 * msgpack extension type held by the byte-array writer (msgpackr wants one for every
 * extension). Never written: a Uint8Array goes out as msgpack `bin`. Reading it is
 * `HERALD_ERR_MALFORMED`.
 */
export const BYTES_EXT_TYPE = 0x55;

/** Depth beyond which a `t.json()` value is rejected (also stops cyclic JSON). */
export const MAX_JSON_DEPTH = 1000;
