/**
 * @packageDocumentation
 * Herald live management: a management endpoint a process opens on itself (opt-in,
 * loopback by default), answering typed requests from authenticated operators over an
 * encrypted Herald connection; a browser inspector served over HTTP and a WebSocket;
 * Prometheus metrics and an OpenTelemetry tracing adapter. See docs/management.md and
 * docs/inspector.md.
 *
 * This entry is the public API, an explicit list: adding a name here is a deliberate act.
 */
export {
  connectManagement,
  askManagement,
  type AskManagementOptions,
  type ManagementClientOptions,
} from './client.js';
export {
  DEFAULT_INSPECTOR_HISTORY,
  DEFAULT_INSPECTOR_MAX_BUFFERED_BYTES,
  DEFAULT_INSPECTOR_MAX_CLIENTS,
  DEFAULT_INSPECTOR_UPDATES_PER_SECOND,
  DEFAULT_MANAGEMENT_HOST,
  DEFAULT_MANAGEMENT_LIST_LIMIT,
  DEFAULT_MANAGEMENT_TIMEOUT_MS,
  MAX_MANAGEMENT_LIST_LIMIT,
} from './constants.js';
export { openManagement, type ManagementEndpoint, type ManagementOptions } from './endpoint.js';
export { ManagementError, type ManagementErrorCode } from './errors.js';
export type { MetricsRegistry } from './inspector-server.js';
export {
  DEFAULT_METRICS_PREFIX,
  registerMetrics,
  type MetricsOptions,
  type PromRegistry,
  type RegisteredMetrics,
} from './metrics.js';
export {
  DEFAULT_TRACER_NAME,
  openTelemetryTracing,
  spanContextOf,
  traceparentOf,
  type OpenTelemetryTracingOptions,
  type SpanContextLike,
  type TracerLike,
} from './tracing.js';
export {
  Actors,
  Connections,
  DisconnectPeer,
  Failed,
  GetActors,
  GetConnections,
  GetGroups,
  GetSnapshot,
  GetStatus,
  GetSubscriptions,
  Groups,
  LogLevelSet,
  PeerDisconnected,
  SetLogLevel,
  Snapshot,
  Status,
  Subscriptions,
  managementMessages,
  type ActorEntry,
  type AnswerOf,
  type ConnectionEntry,
  type GroupEntry,
  type ManagementAnswers,
  type ManagementRequest,
  type SubscriptionEntry,
} from './messages.js';
