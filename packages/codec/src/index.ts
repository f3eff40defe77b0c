/**
 * @packageDocumentation
 * Herald's message catalogue and codec: `defineMessage` and the `t` schema builders,
 * catalogues, addresses, and a msgpackr codec with stateless blobs, self-contained bodies
 * and per-connection streams. See docs/codec.md.
 *
 * This entry is the public API, an explicit list pinned by test/public-api.test.ts: adding a
 * name here is a deliberate act. What sibling packages need but users should not is in
 * `@herald/codec/internal`.
 */
export { Address, NO_ADDRESS, isAddress } from './address.js';
export { createCatalogue, type Catalogue } from './catalogue.js';
export { createCodec, type Codec, type CodecOptions, type EncodedBody } from './codec.js';
export {
  BODY_FLAG_GRAPH,
  BODY_FLAG_STREAM,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_STREAM_STRUCTURES,
} from './constants.js';
export {
  CodecError,
  HeraldError,
  isCodecError,
  isHeraldError,
  type CodecErrorCode,
  type HeraldErrorOptions,
} from './errors.js';
export { defineMessage, type MessageOptions } from './message.js';
export {
  t,
  type AnyMessage,
  type AnyMessageType,
  type Fields,
  type Infer,
  type InferFields,
  type Json,
  type MessageOf,
  type MessageType,
  type Schema,
} from './schema.js';
export type {
  BodyMode,
  CodecStream,
  StreamDecoder,
  StreamEncodedBody,
  StreamEncoder,
} from './stream.js';
