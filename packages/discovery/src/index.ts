/**
 * @packageDocumentation
 * Herald discovery: services found by name instead of host and port. `publish(self, name)`
 * makes an actor available under a name (it listens on an ephemeral port);
 * `subscribe(self, search)` finds every service whose name matches (exact, glob or regular
 * expression). Everything after arrives as messages: Published, Subscribed, Available (the
 * return address is the peer, exactly as after Connected), Delivered, NotAvailable, Cleared,
 * Dropped. Directories at process, host and LAN scope (and a cluster registry) pass listings
 * and searches upwards; subscribers use the nearest route. See docs/discovery.md.
 *
 * This entry is the public API, an explicit list.
 */
export { DEFAULT_SCOPE, clear, publish, retract, subscribe } from './api.js';
export type { PublishOptions, SubscribeOptions } from './api.js';
export {
  DEFAULT_HOST_DIRECTORY_PORT,
  DEFAULT_LAN_DIRECTORY_PORT,
  DEFAULT_MAX_LISTINGS,
  DEFAULT_MAX_LISTINGS_PER_CONNECTION,
  DEFAULT_MAX_SEARCHES_PER_CONNECTION,
  DEFAULT_PROMOTION_HOLD_MS,
  DEFAULT_ROUTE_RETRY_MS,
  MAX_ALLOW,
  MAX_ENDPOINTS,
  MAX_NAME_LENGTH,
  MAX_PATTERN_LENGTH,
} from './constants.js';
export {
  directory,
  startDirectory,
  type DirectoryOptions,
  type RunningDirectory,
} from './directory.js';
export { DirectoryLink, type DirectoryLinkOptions } from './directory-link.js';
export { DiscoveryError, type DiscoveryErrorCode } from './errors.js';
export { MemoryRegistry } from './memory-registry.js';
export {
  Available,
  Cleared,
  Delivered,
  Dropped,
  NotAvailable,
  NotDelivered,
  NotPublished,
  Published,
  SCOPES,
  Subscribed,
  discoveryMessages,
  type Scope,
} from './messages.js';
export type { Endpoint, Listing, Registry, Search } from './registry.js';
export {
  MAX_UNBOUNDED_QUANTIFIERS,
  compileSearch,
  globMatch,
  toSearch,
  type NameMatcher,
  type SearchInput,
} from './search.js';
export { type ClusterOptions } from './cluster-scope.js';
// The cluster scope on NATS (src/cluster/, the NATS engineer's): the registry and the relay route.
export {
  DEFAULT_NATS_BUCKET,
  DEFAULT_NATS_MAX_BUCKET_BYTES,
  DEFAULT_NATS_RECONNECT_WAIT_MS,
  DEFAULT_NATS_REQUEST_TIMEOUT_MS,
  DEFAULT_NATS_RETRY_MS,
  DEFAULT_NATS_TTL_MS,
  DEFAULT_RELAY_DIAL_TIMEOUT_MS,
  DEFAULT_RELAY_KEEPALIVE_MS,
  DEFAULT_RELAY_MAX_CHUNK_BYTES,
  DEFAULT_RELAY_MAX_STREAMS,
  DEFAULT_RELAY_TIMEOUT_MS,
  DEFAULT_RELAY_WINDOW_BYTES,
  NATS_HEARTBEATS_PER_TTL,
  NatsRegistry,
  NatsRelayTransport,
  RelayStreamError,
  createNatsRegistry,
  natsRelayTransport,
  parseRelaySubject,
  relaySubjectOf,
  type NatsRegistryOptions,
  type NatsRelayOptions,
  type RelayCloseReason,
  type RelayErrorCode,
} from './cluster/index.js';
export {
  configureDiscovery,
  parseHostPort,
  type DirectoryAddress,
  type DiscoveryOptions,
} from './state.js';
