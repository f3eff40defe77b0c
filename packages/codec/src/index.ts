export * from './address.js';
export * from './catalogue.js';
export type { Codec, CodecOptions, EncodedBody } from './codec.js';
export { createCodec } from './codec.js';
export {
  BODY_FLAG_GRAPH,
  BODY_FLAG_STREAM,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_STREAM_STRUCTURES,
  MAX_STREAM_STRUCTURES,
} from './constants.js';
export * from './errors.js';
export * from './message.js';
export * from './schema.js';
export type {
  BodyMode,
  CodecStream,
  StreamDecoder,
  StreamEncodedBody,
  StreamEncoder,
} from './stream.js';
export { validateMessage, type TypeLookup } from './validate.js';
