/** Group defaults, in one place. Backoff schedules are in backoff.ts. */

/**
 * Messages a connect-to member holds while it is disconnected, delivered in order on
 * reconnect. One more is answered with NotDelivered (and reported as a dead letter).
 */
export const DEFAULT_GROUP_BUFFER_LIMIT = 1000;

/** Names a group table may not use for a member: they are properties of the group view. */
export const RESERVED_MEMBER_NAMES: readonly string[] = [
  'address',
  'update',
  'stop',
  'ready',
  'names',
  'remoteOf',
  'endpointOf',
];

/**
 * How long an ending group waits for its members to stop (each answers what it still holds
 * with NotDelivered first) before it completes anyway, in ms on the runtime's clock.
 */
export const DEFAULT_GROUP_MEMBER_STOP_MS = 5_000;
