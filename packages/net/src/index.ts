/**
 * @packageDocumentation
 * Herald networking: `send(address, message)` reaches actors in other processes exactly as
 * it reaches local ones. listen() and connect() give typed session messages; a SocketProxy
 * actor stands for each peer; addresses are translated hop by hop so reply() works across
 * chains of processes; frames can be encrypted; connections are kept alive and report
 * backpressure. See docs/networking.md and docs/wire-protocol.md.
 */
export * from './api.js';
export * from './constants.js';
export * from './messages.js';
export * from './options.js';
export { networkOf } from './network.js';
export * as wire from './wire/index.js';
export * from './group/index.js';
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
