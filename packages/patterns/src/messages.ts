/**
 * The messages of send modes and at-least-once delivery (docs/patterns.md).
 *
 * Wire messages (`patterns.Reliable`, `patterns.Ack`) are named outside `herald.*`
 * because the network layer refuses every `herald.*` type from a peer: these are ordinary
 * application messages that both runtimes must know (`patternMessages`, added to the
 * catalogue by createOutlet / createInbox; pass it as `messages` to listen() and connect()
 * to be explicit). Local notices to the sender (`NotDelivered`, `Delivered`) are named
 * `herald.patterns.*`: they never cross a connection.
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { defineFault } from '@herald/runtime';

/** Longest sender id accepted from the wire (ids are 32 hex characters). */
const MAX_SENDER_ID_LENGTH = 64;

/**
 * One at-least-once message on the wire. `sender` + `seq` is its id, the same on every
 * retransmission (aiomsg gave each resend a new id, so nobody could remove duplicates).
 * `floor` is the sender's lowest sequence number still unacknowledged: everything below it
 * will never be sent again, so the receiver may forget it. `attempt` counts transmissions
 * (1 for the first), for logs only.
 */
export const Reliable = defineMessage('patterns.Reliable', {
  sender: t.string({ maxLength: MAX_SENDER_ID_LENGTH }),
  seq: t.int(),
  floor: t.int(),
  attempt: t.int(),
  body: t.anyMessage(),
  /** The actor that asked for the send, when it still exists (absent after a restart). */
  origin: t.optional(t.address()),
});
export type Reliable = MessageOf<typeof Reliable>;

/**
 * Receiver → sender: message `sender`/`seq` is recorded (and, if it was new, handed to the
 * application). High priority: a few bytes that overtake bulk traffic, so a busy
 * connection does not make the sender retransmit what already arrived.
 */
export const Ack = defineMessage(
  'patterns.Ack',
  { sender: t.string({ maxLength: MAX_SENDER_ID_LENGTH }), seq: t.int() },
  { priority: 'high' },
);
export type Ack = MessageOf<typeof Ack>;

/**
 * Outlet → the message's sender: the message was not delivered and will not be retried.
 * `reason`: `buffer-full` (no peer could take it and the buffer was full), `retries-exhausted`
 * (at-least-once: no acknowledgement after `attempts` transmissions), `buffer-timeout`
 * (waited `bufferTimeoutMs` for a peer), `anonymous-peer` (a persistent publish to a
 * peer with neither identity nor name: it could not be found again after a restart),
 * `outlet-stopped` (the outlet ended with the message still held). `peer` names the peer
 * for a per-peer copy of a publish.
 */
export const NotDelivered = defineFault(
  'herald.patterns.NotDelivered',
  {
    id: t.string(),
    reason: t.string(),
    messageType: t.string(),
    attempts: t.int(),
    peer: t.optional(t.string()),
  },
  { code: 'HERALD_NOT_DELIVERED', explanation: 'message not delivered' },
);
export type NotDelivered = MessageOf<typeof NotDelivered>;

/** Outlet → the message's sender (with the `confirm` option): the peer acknowledged message `id`. */
export const Delivered = defineMessage('herald.patterns.Delivered', {
  id: t.string(),
  messageType: t.string(),
  peer: t.optional(t.string()),
});
export type Delivered = MessageOf<typeof Delivered>;

/** View → outlet actor (local only): new entries were queued, or the peer set changed. */
export const OutletKick = defineMessage('herald.patterns.OutletKick', {});
export type OutletKick = MessageOf<typeof OutletKick>;

/** The wire messages both ends of an at-least-once link must know. */
export const patternMessages = [Reliable, Ack] as const;

/** Every message of this module (added to a runtime's catalogue by createOutlet / createInbox). */
export const allPatternMessages = [Reliable, Ack, NotDelivered, Delivered, OutletKick] as const;
