/**
 * The messages of an aiomsg socket actor. Commands go to the socket; events go to its
 * owner (the actor that called `aiomsgSocket`, or `options.owner`). Identities and message
 * ids are lowercase hex strings (32 characters), so they compare with `===` and log well.
 */
import { defineMessage, t } from '@herald/codec';

// ---- commands ----------------------------------------------------------------------------

/**
 * Sends bytes. `identity` sends to that peer whatever the send mode; otherwise the socket's
 * `sendMode` decides. `ref` is yours: it comes back in Delivered / NotDelivered.
 */
export const AiomsgSend = defineMessage('herald.aiomsg.Send', {
  payload: t.bytes(),
  identity: t.optional(t.string()),
  ref: t.optional(t.string()),
});

/** Sends a Herald message, msgpack-encoded inside DATA / DATA_REQ. */
export const AiomsgSendMessage = defineMessage('herald.aiomsg.SendMessage', {
  message: t.unknown(),
  identity: t.optional(t.string()),
  ref: t.optional(t.string()),
});

/** Closes the socket: listener and connections; what is pending becomes NotDelivered. */
export const AiomsgClose = defineMessage('herald.aiomsg.Close', {});

// ---- events to the owner -----------------------------------------------------------------

/** A bind socket listens (the real port when 0 was asked). */
export const AiomsgBound = defineMessage('herald.aiomsg.Bound', {
  host: t.string(),
  port: t.int(),
});

/** A peer completed the HELLO exchange. */
export const AiomsgPeerJoined = defineMessage('herald.aiomsg.PeerJoined', {
  identity: t.string(),
  host: t.string(),
  port: t.int(),
});

/** A connection ended: `code` says why (HERALD_ERR_AIOMSG_*), `identity` once known. */
export const AiomsgPeerLeft = defineMessage('herald.aiomsg.PeerLeft', {
  identity: t.optional(t.string()),
  host: t.string(),
  port: t.int(),
  code: t.string(),
  reason: t.string(),
});

/** Application bytes from a peer (DATA, or the first copy of a DATA_REQ). */
export const AiomsgReceived = defineMessage('herald.aiomsg.Received', {
  identity: t.string(),
  payload: t.bytes(),
  /** The DATA_REQ's message id; absent for DATA. */
  messageId: t.optional(t.string()),
});

/** A Herald message from a peer (`payloadFormat: 'msgpack'`). */
export const AiomsgMessage = defineMessage('herald.aiomsg.Message', {
  identity: t.string(),
  message: t.unknown(),
  messageId: t.optional(t.string()),
});

/** A DATA payload that `payloadFormat: 'msgpack'` could not decode (the bytes are kept). */
export const AiomsgUndecodable = defineMessage('herald.aiomsg.Undecodable', {
  identity: t.string(),
  payload: t.bytes(),
  reason: t.string(),
});

/** A peer acknowledged an at-least-once message (once per peer for publish). */
export const AiomsgDelivered = defineMessage('herald.aiomsg.Delivered', {
  messageId: t.string(),
  identity: t.string(),
  ref: t.optional(t.string()),
});

/** A send that will not be delivered (to `identity`, when one peer is concerned). */
export const AiomsgNotDelivered = defineMessage('herald.aiomsg.NotDelivered', {
  messageId: t.optional(t.string()),
  identity: t.optional(t.string()),
  ref: t.optional(t.string()),
  code: t.string(),
  reason: t.string(),
});

/** The socket cannot work (a bind that could not listen); it ends after this. */
export const AiomsgFailed = defineMessage('herald.aiomsg.Failed', {
  code: t.string(),
  reason: t.string(),
});
