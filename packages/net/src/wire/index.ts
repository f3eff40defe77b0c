/**
 * @packageDocumentation
 * `@herald/net/wire`: the Herald wire layer: framing, handshake, encryption, address
 * translation. Pure and socket-agnostic; see docs/wire-protocol.md and docs/encryption.md.
 *
 * An explicit list pinned by test/public-api.test.ts: adding a name is a deliberate act.
 * The network layer's own files import from here too.
 */
export {
  RETURNING_HOME,
  inboundAddress,
  inboundTo,
  outboundAddress,
  outboundTo,
  type InboundRoute,
} from './address-translation.js';
export { ByteReader, ByteWriter, concatBytes, varintSize } from './bytes.js';
export {
  defaultRandom,
  directionOf,
  loadCipherSuite,
  makeNonce,
  naclCipherSuite,
  naclKeyAgreement,
  nodeKeyAgreement,
  sodiumCipherSuite,
  tweetnaclCipherSuite,
  writeNonce,
  type Cipher,
  type CipherSuite,
  type KeyAgreement,
  type KeyPair,
  type RandomSource,
  type Role,
  type SodiumNativeLike,
} from './cipher.js';
export {
  AUTH_FLAG_STATIC_KEY,
  FRAME_KIND_AUTH,
  FRAME_KIND_READY,
  SEALED_STATIC_KEY_BYTES,
} from './constants.js';
export { CloseReason, closeReasonName, type CloseReasonCode } from './close-reasons.js';
export {
  CHUNK_FLAG_FIRST,
  CHUNK_FLAG_LAST,
  CHUNK_PREFIX_BYTES,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_KEEPALIVE_IDLE_MS,
  DEFAULT_MAX_FRAME_BYTES,
  DEFAULT_MAX_MESSAGE_BYTES,
  DEFAULT_MAX_PROCESS_REASSEMBLY_BYTES,
  DEFAULT_MAX_REASSEMBLY_BYTES,
  DEFAULT_MIN_FRAME_BYTES_PER_SECOND,
  DEFAULT_PARTIAL_MESSAGE_TIMEOUT_MS,
  DIRECTION_ACCEPTOR,
  DIRECTION_CONNECTOR,
  FRAME_HEADER_BYTES,
  HELLO_FIXED_BYTES,
  HELLO_FLAG_ENCRYPT,
  MAX_BODY_MODE,
  MAX_CLOSE_TEXT_BYTES,
  MAX_HANDSHAKE_FRAME_BYTES,
  MAX_HOPS,
  MAX_MAX_FRAME_BYTES,
  MAX_MESSAGE_HEADER_BYTES,
  MAX_PARTIAL_MESSAGES,
  MAX_RECORD_COUNTER,
  MAX_SPACE_ENTRIES,
  MAX_TYPE_NAMES,
  MAX_TYPE_NAME_BYTES,
  MESSAGE_FLAG_TRACE,
  MESSAGE_FLAGS_RESERVED,
  MIN_MAX_FRAME_BYTES,
  NONCE_BYTES,
  PARTIAL_MESSAGE_OVERHEAD_BYTES,
  PREAMBLE_BYTES,
  PREAMBLE_MAGIC,
  PROTOCOL_VERSION,
  PUBLIC_KEY_BYTES,
  SEAL_OVERHEAD_BYTES,
  SHARED_KEY_BYTES,
  TLV_EPHEMERAL_KEY,
  WRITER_INITIAL_BUFFER_BYTES,
  WRITER_SHRINK_AFTER_FLUSHES,
} from './constants.js';
export { WIRE_ERROR_CLOSE_REASON, WireError, isWireError, type WireErrorCode } from './errors.js';
export {
  FrameDecoder,
  checkDecoderOptions,
  type FrameDecoderOptions,
  type FrameDecoderState,
  type WireEvent,
} from './frame-decoder.js';
export { FrameWriter, type FrameWriterOptions, type WriteResult } from './frame-writer.js';
export {
  FrameKind,
  decodeCloseBody,
  decodeHelloBody,
  encodeCloseBody,
  encodeCloseFrame,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
  writeFrame,
  type CloseInfo,
  type FrameKindCode,
  type Hello,
} from './frames.js';
export {
  ANONYMOUS_PEER,
  Handshake,
  checkHandshakeOptions,
  type HandshakeOptions,
  type HandshakeResult,
  type PeerIdentity,
} from './handshake.js';
export { HandshakeReader, type HandshakeFrame } from './handshake-reader.js';
export {
  KEY_FILE_MODE,
  PUBLIC_KEY_PREFIX,
  createIdentity,
  formatPublicKey,
  identityFromSecret,
  loadIdentity,
  normalizePublicKey,
  parsePublicKey,
  saveIdentity,
  type IdentityKeyPair,
} from './identity.js';
export { HANDSHAKE_LABEL } from './transcript.js';
export { ReassemblyBudget, type ReassemblyAccount } from './reassembly-budget.js';
export {
  TypeTableDecoder,
  TypeTableEncoder,
  commitHeader,
  decodeMessage,
  encodeMessage,
  prepareHeader,
  readHeader,
  writeHeader,
  type PreparedHeader,
  type WireMessage,
  type WireMessageHeader,
} from './message.js';
export { TRACE_CONTEXT_BYTES, isTraceparent } from './trace-context.js';
export {
  WireSession,
  type SessionEvent,
  type WireSessionOptions,
  type WireSessionState,
} from './wire-session.js';
