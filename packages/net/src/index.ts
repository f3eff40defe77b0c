/**
 * @packageDocumentation
 * Herald networking: `send(address, message)` reaches actors in other processes exactly as
 * it reaches local ones. listen() and connect() give typed session messages; a SocketProxy
 * actor stands for each peer; addresses are translated hop by hop so reply() works across
 * chains of processes; frames can be encrypted; connections are kept alive and report
 * backpressure. See docs/networking.md and docs/wire-protocol.md.
 *
 * This entry is the public API, an explicit list pinned by test/public-api.test.ts: adding a
 * name here is a deliberate act. The wire layer (framing, handshake, ciphers) is the
 * subpath `@herald/net/wire`; what Herald's own tests and tools need but users should not is
 * `@herald/net/internal`.
 */
export { close, connect, connections, disconnect, groups, listen, stopListening } from './api.js';
export {
  CHANNEL_CONNECTION_CLOSED,
  CHANNEL_CONNECTION_CONGESTED,
  CHANNEL_CONNECTION_DRAINED,
  CHANNEL_CONNECTION_OPENED,
} from './connection/diagnostics.js';
export type { GroupInfo, GroupMemberInfo } from './group/manager.js';
export type { ConnectionInfo } from './proxy.js';
export {
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_HIGH_WATER_BYTES,
  DEFAULT_KEEPALIVE_IDLE_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  DEFAULT_LISTEN_BACKLOG,
  DEFAULT_LOW_WATER_BYTES,
  DEFAULT_MAX_PENDING_BYTES,
} from './constants.js';
export { NetError, type NetErrorCode } from './errors.js';
export {
  Abandoned,
  Accepted,
  AwaitDrain,
  Close,
  Closed,
  Congested,
  Connected,
  Drained,
  Listening,
  MeasureRoundTrip,
  NoRoundTrip,
  NotConnected,
  NotListening,
  RoundTrip,
  StopListening,
  type HostPort,
} from './messages.js';
export { MAX_ROUND_TRIP_PROBES } from './connection/probe.js';
export {
  sessionOf,
  type AuthorizeDecision,
  type ConnectAddress,
  type ConnectOptions,
  type ConnectionOptions,
  type ListenAddress,
  type ListenOptions,
  type PeerInfo,
  type SessionContext,
  type SessionFrame,
} from './options.js';
export {
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_BACKOFF_JITTER_QUANTUM_MS,
  DEFAULT_BACKOFF_LOOPBACK,
  DEFAULT_BACKOFF_PRIVATE,
  DEFAULT_BACKOFF_PUBLIC,
  DEFAULT_LISTEN_RETRY,
  type BackoffPolicy,
} from './group/backoff.js';
export { DEFAULT_GROUP_BUFFER_LIMIT } from './group/constants.js';
export {
  BadGroupError,
  BadPolicyError,
  GroupError,
  isGroupError,
  type GroupErrorCode,
} from './group/errors.js';
export {
  connectTo,
  listenAt,
  type ConnectToOptions,
  type GroupMember,
  type ListenAtOptions,
  type MemberContext,
} from './group/members.js';
export {
  GroupUpdate,
  NOT_DELIVERED_BUFFER_FULL,
  NOT_DELIVERED_MEMBER_ENDED,
  NoAddress,
  NotDelivered,
  NotReady,
  Ready,
  UseAddress,
} from './group/messages.js';
export {
  createGroup,
  groupTable,
  type GroupControls,
  type GroupOptions,
  type GroupSessionContext,
  type GroupTable,
  type GroupView,
  type MemberTable,
} from './group/table.js';
export {
  transportError,
  type DialOptions as TransportDialOptions,
  type ListenOptions as TransportListenOptions,
  type Transport,
  type TransportAddress,
  type TransportConnection,
  type TransportError,
  type TransportListener,
  type TransportSecurity,
} from './transport/transport.js';
export { tcpTransport } from './transport/tcp.js';
export { type AddressRules } from './access.js';
export {
  createIdentity,
  formatPublicKey,
  loadIdentity,
  parsePublicKey,
  saveIdentity,
  type IdentityKeyPair,
} from './wire/identity.js';
export {
  DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
  tlsTransport,
  type TlsTransportOptions,
} from './transport/tls.js';
export {
  DEFAULT_CONNECT_MAX_HEADER_BYTES,
  DEFAULT_CONNECT_TIMEOUT_MS,
  httpConnectTransport,
  type HttpConnectOptions,
  type ProxyError,
} from './transport/http-connect.js';
export {
  DEFAULT_MEMORY_HIGH_WATER_BYTES,
  DEFAULT_MEMORY_WINDOW_BYTES,
  createMemoryNetwork,
  type MemoryConnectionInfo,
  type MemoryLink,
  type MemoryLinkFactory,
  type MemoryNetwork,
  type MemoryNetworkOptions,
  type MemorySegment,
  type MemoryTransport,
} from './transport/memory.js';
