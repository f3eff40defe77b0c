/**
 * @packageDocumentation
 * Herald messaging patterns: send modes over a set of peers (to all, round-robin skipping
 * congested peers, by identity or declared name), at-least-once delivery with stable ids,
 * acknowledgements, a de-duplicating receiver window and bounded retries, and a durable
 * outbox on lmdb that survives SIGKILL of either end. See docs/patterns.md.
 *
 * This entry is the public API, an explicit list: adding a name here is a deliberate act.
 */
export {
  DEFAULT_ACK_TIMEOUT_MS,
  DEFAULT_DEDUP_WINDOW,
  DEFAULT_MAX_ATTEMPTS,
  DEFAULT_MAX_IN_FLIGHT,
  DEFAULT_MAX_RETRY_DELAY_MS,
  DEFAULT_MAX_SENDERS,
  DEFAULT_OUTBOX_MAX_BYTES,
  DEFAULT_OUTBOX_MAX_MESSAGES,
  DEFAULT_OUTLET_BUFFER_LIMIT,
  DEFAULT_RETRY_FACTOR,
} from './constants.js';
export {
  BadPatternOptionError,
  OutboxFullError,
  PatternsError,
  StoreError,
  isPatternsError,
  type PatternsErrorCode,
} from './errors.js';
export { Ack, Delivered, NotDelivered, Reliable, patternMessages } from './messages.js';
export {
  PeerSet,
  describePeer,
  isPeerEvent,
  peerEventTypes,
  type Peer,
  type PeerChange,
  type PeerDescription,
} from './peer-set.js';
export {
  createOutlet,
  retryDelay,
  type Delivery,
  type Outlet,
  type OutletOptions,
  type OutletSendOptions,
  type SendMode,
} from './outlet.js';
export { createInbox, type AcceptedMessage, type Inbox, type InboxOptions } from './inbox.js';
export {
  openDurableStore,
  type DurableStore,
  type DurableStoreOptions,
  type SyncPolicy,
} from './durable-store.js';
export {
  sendFile,
  sendStream,
  spawnFileReceiver,
  transferSession,
  type FileReceiverOptions,
  type SendFileOptions,
  type SendStreamOptions,
  type TransferOptions,
} from './transfer/api.js';
export {
  DEFAULT_MAX_ACTIVE_TRANSFERS,
  DEFAULT_MAX_PARTIAL_FILES,
  DEFAULT_MAX_TRANSFER_BYTES,
  DEFAULT_TRANSFER_ACK_TIMEOUT_MS,
  DEFAULT_TRANSFER_CHUNK_BYTES,
  DEFAULT_TRANSFER_IDLE_MS,
  DEFAULT_TRANSFER_MAX_RESUMES,
  DEFAULT_TRANSFER_OFFER_TIMEOUT_MS,
  DEFAULT_TRANSFER_PROGRESS_BYTES,
  DEFAULT_TRANSFER_RESUME_DELAY_MS,
  DEFAULT_TRANSFER_WINDOW,
  MAX_TRANSFER_CHUNK_BYTES,
  MAX_TRANSFER_NAME_BYTES,
  MAX_TRANSFER_WINDOW,
  MIN_TRANSFER_CHUNK_BYTES,
  TRANSFER_PARTIAL_DIRECTORY,
} from './transfer/constants.js';
export {
  TRANSFER_FAILURE_REASONS,
  TransferAccept,
  TransferAck,
  TransferChunk,
  TransferCompleted,
  TransferEnd,
  TransferFailed,
  TransferOffer,
  TransferProgress,
  transferFailed,
  transferMessages,
  type TransferFailureReason,
  type TransferOutcome,
} from './transfer/messages.js';
export {
  HandlerFailed,
  MAX_HANDLER_ERROR_CHARS,
  Router,
  filters,
  peerOf,
  routerBehavior,
  type DispatchOutcome,
  type FieldTest,
  type RouteContext,
  type RouteFilter,
  type RouteHandler,
  type RouteOptions,
  type RoutePeer,
  type RouterBehaviorOptions,
} from './routing/router.js';
export {
  BrokerRefused,
  DEFAULT_MAX_PATTERNS_PER_SUBSCRIBER,
  DEFAULT_MAX_SUBSCRIBERS,
  Publish,
  PublishReceipt,
  Published,
  Subscribe,
  Subscribed,
  Unsubscribe,
  Unsubscribed,
  brokerMessages,
  brokerSession,
  spawnBroker,
  type BrokerOptions,
} from './broker/broker.js';
export {
  MAX_TOPIC_LENGTH,
  MAX_TOPIC_TOKENS,
  TopicTable,
  badPattern,
  badTopic,
  topicMatches,
} from './broker/topics.js';
