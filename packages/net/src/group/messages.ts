/**
 * The group message catalogue (docs/groups.md).
 *
 * Owner-facing: GroupUpdate, Ready, NotReady (and the runtime's TimedOut and Completed).
 * Member-facing (the member contract): UseAddress and NoAddress, sent by a member actor to
 * its manager. Failure to deliver through a member: NotDelivered, a fault sent to the
 * sender of the message that could not be delivered.
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { defineFault } from '@herald/runtime';
import { hostPort } from '../messages.js';

/**
 * Manager → owner: member `name` has a new address, or (without `address`) lost it.
 *
 * - `group`: the manager, so an owner with several groups can tell their updates apart.
 * - `address`: where to send to reach the member. For connect-to members it is the member
 *   actor itself, a stable address that stays the same across reconnects.
 * - `remote`: the current connection behind the member (a SocketProxy for connect-to, the
 *   listener for listen-at), when it has one.
 * - `endpoint`: the host and port the member is connected to or listening at.
 */
export const GroupUpdate = defineMessage('herald.GroupUpdate', {
  group: t.address(),
  name: t.string(),
  address: t.optional(t.address()),
  remote: t.optional(t.address()),
  endpoint: t.optional(hostPort),
});
export type GroupUpdate = MessageOf<typeof GroupUpdate>;

/** Manager → owner: every member has an address (sent after the GroupUpdate that completed the set). */
export const Ready = defineMessage('herald.Ready', { group: t.address() });
export type Ready = MessageOf<typeof Ready>;

/**
 * Manager → owner: a member lost its address; sent before that member's GroupUpdate.
 * `member` names the member that went down (absent when the group itself is ending for
 * another reason), `reason` says why when the member said (e.g. `connection-lost`).
 */
export const NotReady = defineMessage('herald.NotReady', {
  group: t.address(),
  member: t.optional(t.string()),
  reason: t.optional(t.string()),
});
export type NotReady = MessageOf<typeof NotReady>;

/**
 * Member → manager: "send to `address` to reach me" (`remote` and `endpoint` as in
 * GroupUpdate). Sending it again replaces the previous address.
 */
export const UseAddress = defineMessage('herald.UseAddress', {
  address: t.address(),
  remote: t.optional(t.address()),
  endpoint: t.optional(hostPort),
});
export type UseAddress = MessageOf<typeof UseAddress>;

/** Member → manager: "I cannot be reached now" (`reason` for logs). */
export const NoAddress = defineMessage('herald.NoAddress', { reason: t.optional(t.string()) });
export type NoAddress = MessageOf<typeof NoAddress>;

/**
 * A message sent to a group member could not be delivered: the member's buffer was full
 * while it was disconnected (`reason` 'buffer-full'), or the member gave up or was stopped
 * with the message still buffered ('member-ended'). Sent to the message's sender (its
 * return address); the message is also reported as a dead letter (reason not-delivered).
 */
export const NotDelivered = defineFault(
  'herald.NotDelivered',
  { reason: t.string(), messageType: t.string(), member: t.string() },
  { code: 'HERALD_NOT_DELIVERED', explanation: 'message not delivered' },
);
export type NotDelivered = MessageOf<typeof NotDelivered>;

/** The reasons NotDelivered gives. */
export const NOT_DELIVERED_BUFFER_FULL = 'buffer-full';
export const NOT_DELIVERED_MEMBER_ENDED = 'member-ended';

/** Every group message type (added to a runtime's catalogue when a group is created). */
export const groupMessages = [
  GroupUpdate,
  Ready,
  NotReady,
  UseAddress,
  NoAddress,
  NotDelivered,
] as const;
