/**
 * The cluster scope: listings in a NATS JetStream KV bucket (nats-registry.ts) and a relay
 * route, a net Transport over NATS subjects (relay-transport.ts). docs/discovery-cluster.md.
 */
export {
  DEFAULT_NATS_BUCKET,
  DEFAULT_NATS_MAX_BUCKET_BYTES,
  DEFAULT_NATS_RECONNECT_WAIT_MS,
  DEFAULT_NATS_REQUEST_TIMEOUT_MS,
  DEFAULT_NATS_RETRY_MS,
  DEFAULT_NATS_TTL_MS,
  NATS_HEARTBEATS_PER_TTL,
  DEFAULT_RELAY_DIAL_TIMEOUT_MS,
  DEFAULT_RELAY_KEEPALIVE_MS,
  DEFAULT_RELAY_MAX_CHUNK_BYTES,
  DEFAULT_RELAY_MAX_STREAMS,
  DEFAULT_RELAY_TIMEOUT_MS,
  DEFAULT_RELAY_WINDOW_BYTES,
} from './constants.js';
export { NatsRegistry, createNatsRegistry, type NatsRegistryOptions } from './nats-registry.js';
export { RelayStreamError, type RelayCloseReason, type RelayErrorCode } from './errors.js';
export {
  NatsRelayTransport,
  natsRelayTransport,
  parseRelaySubject,
  relaySubjectOf,
  type NatsRelayOptions,
} from './relay-transport.js';
