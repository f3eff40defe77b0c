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
