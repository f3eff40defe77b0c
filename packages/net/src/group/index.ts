/**
 * The group layer's barrel, used by the network layer's own files and tests. Not a package
 * entry: the public group API is the explicit list in src/index.ts, and internals such as
 * `scopeOf` and `Backoff` are in src/internal.ts.
 */
export {
  Backoff,
  DEFAULT_BACKOFF_JITTER,
  DEFAULT_BACKOFF_JITTER_QUANTUM_MS,
  DEFAULT_BACKOFF_LOOPBACK,
  DEFAULT_BACKOFF_PRIVATE,
  DEFAULT_BACKOFF_PUBLIC,
  DEFAULT_LISTEN_RETRY,
  backoffFor,
  jitteredDelay,
  validateBackoffPolicy,
  type BackoffPolicy,
} from './backoff.js';
export { DEFAULT_GROUP_BUFFER_LIMIT, RESERVED_MEMBER_NAMES } from './constants.js';
export {
  BadGroupError,
  BadPolicyError,
  GroupError,
  isGroupError,
  type GroupErrorCode,
} from './errors.js';
export {
  connectTo,
  listenAt,
  type ConnectToOptions,
  type GroupMember,
  type ListenAtOptions,
  type MemberContext,
} from './members.js';
export {
  GroupUpdate,
  NOT_DELIVERED_BUFFER_FULL,
  NOT_DELIVERED_MEMBER_ENDED,
  NoAddress,
  NotDelivered,
  NotReady,
  Ready,
  UseAddress,
  groupMessages,
} from './messages.js';
export { scopeOf, type AddressScope } from './scope.js';
export {
  createGroup,
  groupTable,
  type GroupControls,
  type GroupOptions,
  type GroupSessionContext,
  type GroupTable,
  type GroupView,
  type MemberTable,
} from './table.js';
