/**
 * @packageDocumentation
 * Herald beside Python services: an aiomsg v1 socket actor (publish, round-robin and
 * identity sends; at-most-once and at-least-once with stable message ids, bounded retries
 * and de-duplication), an AsyncAProto server that answers AsyncAPY clients in JSON and
 * ZiProto, and the handler routing both use (filters in ordered groups). See
 * docs/interop.md.
 *
 * This entry is the public API, an explicit list: adding a name is a deliberate act.
 */
export {
  AIOMSG_ACK,
  AIOMSG_DATA,
  AIOMSG_DATA_REQ,
  AIOMSG_HEARTBEAT,
  AIOMSG_HELLO,
  AIOMSG_IDENTITY_BYTES,
  AIOMSG_MESSAGE_ID_BYTES,
  AIOMSG_PROTOCOL_VERSION,
  DEFAULT_AIOMSG_BUFFER_LIMIT,
  DEFAULT_AIOMSG_CONGESTED_BYTES,
  DEFAULT_AIOMSG_DEDUP_WINDOW,
  DEFAULT_AIOMSG_HEARTBEAT_INTERVAL_MS,
  DEFAULT_AIOMSG_HEARTBEAT_TIMEOUT_MS,
  DEFAULT_AIOMSG_MAX_CONNECTIONS,
  DEFAULT_AIOMSG_MAX_FRAME_BYTES,
  DEFAULT_AIOMSG_MAX_RECONNECT_MS,
  DEFAULT_AIOMSG_MAX_RESEND_MS,
  DEFAULT_AIOMSG_MAX_RETRIES,
  DEFAULT_AIOMSG_RECONNECT_MS,
  DEFAULT_AIOMSG_RESEND_AFTER_MS,
  DEFAULT_AIOMSG_RESEND_BACKOFF,
} from './aiomsg/constants.js';
export {
  decodeEnvelope,
  encodeAck,
  encodeData,
  encodeDataReq,
  encodeHeartbeat,
  encodeHello,
  frame,
  type AiomsgEnvelope,
} from './aiomsg/envelope.js';
export { FrameDecoder, type FrameDecodeResult } from './aiomsg/frame-decoder.js';
export {
  AiomsgBound,
  AiomsgClose,
  AiomsgDelivered,
  AiomsgFailed,
  AiomsgMessage,
  AiomsgNotDelivered,
  AiomsgPeerJoined,
  AiomsgPeerLeft,
  AiomsgReceived,
  AiomsgSend,
  AiomsgSendMessage,
  AiomsgUndecodable,
} from './aiomsg/messages.js';
export {
  aiomsgSocket,
  aiomsgSocketBehavior,
  type AiomsgDeliveryGuarantee,
  type AiomsgEndpoint,
  type AiomsgSendMode,
  type AiomsgSocketOptions,
} from './aiomsg/socket.js';
export {
  ASYNCAPROTO_JSON,
  ASYNCAPROTO_VERSION,
  ASYNCAPROTO_ZIPROTO,
  DEFAULT_ASYNCAPROTO_BYTE_ORDER,
  DEFAULT_ASYNCAPROTO_HEADER_SIZE,
  DEFAULT_ASYNCAPROTO_MAX_PACKET_BYTES,
  decodeZiproto,
  encodePacket,
  encodeZiproto,
  failure,
  parsePacket,
  type AsyncaprotoEncoding,
  type AsyncaprotoErrorCode,
  type PacketFormat,
  type ParsedPacket,
} from './asyncaproto/packet.js';
export {
  AsyncaprotoFailed,
  AsyncaprotoListening,
  DEFAULT_ASYNCAPROTO_MAX_SESSIONS,
  DEFAULT_ASYNCAPROTO_TIMEOUT_MS,
  asyncaprotoServer,
  asyncaprotoServerBehavior,
  type AsyncaprotoRequest,
  type AsyncaprotoServerOptions,
} from './asyncaproto/server.js';
export {
  HandlerFailed,
  Router,
  filters,
  routerBehavior,
  type DispatchOutcome,
  type FieldTest,
  type RouteContext,
  type RouteFilter,
  type RouteHandler,
  type RouteOptions,
  type RoutePeer,
} from './routing/router.js';
export { InteropError, type AiomsgReasonCode, type InteropErrorCode } from './errors.js';
