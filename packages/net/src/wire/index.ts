/**
 * The Herald wire layer: framing, handshake, encryption, address translation. Pure and
 * socket-agnostic; see docs/wire-protocol.md and docs/encryption.md.
 */
export * from './address-translation.js';
export { ByteReader, ByteWriter, concatBytes, varintSize } from './bytes.js';
export * from './cipher.js';
export * from './close-reasons.js';
export * from './constants.js';
export * from './errors.js';
export * from './frame-decoder.js';
export * from './frame-writer.js';
export * from './frames.js';
export * from './handshake.js';
export * from './handshake-reader.js';
export * from './identity.js';
export { HANDSHAKE_LABEL } from './transcript.js';
export * from './message.js';
export * from './wire-session.js';
