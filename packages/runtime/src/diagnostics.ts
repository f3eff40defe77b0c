/**
 * node:diagnostics_channel channels for tools (docs/observability.md). Model: undici's
 * `undici:request:create` and friends. A channel is process-wide by name, so every message
 * carries its `runtime`; two runtimes in one process publish on the same channels and a
 * subscriber tells them apart by that field.
 *
 * Publishing is guarded by `hasSubscribers` at every call site: with nobody subscribed a
 * channel costs one property read, and no message object is built.
 */
import diagnostics from 'node:diagnostics_channel';

/** `{ runtime, actor, name, parent }`: an actor was created. */
export const CHANNEL_ACTOR_CREATED = 'herald:actor:created';
/** `{ runtime, actor, name }`: an actor ended. */
export const CHANNEL_ACTOR_DESTROYED = 'herald:actor:destroyed';
/** `{ runtime, actor, from, messageType, trace }`: a message reached an actor's mailbox. */
export const CHANNEL_MESSAGE_DELIVERED = 'herald:message:delivered';
/** `{ runtime, deadLetter }`: a message could not be delivered (see DeadLetter). */
export const CHANNEL_DEAD_LETTER = 'herald:dead-letter';

export const actorCreatedChannel = diagnostics.channel(CHANNEL_ACTOR_CREATED);
export const actorDestroyedChannel = diagnostics.channel(CHANNEL_ACTOR_DESTROYED);
export const messageDeliveredChannel = diagnostics.channel(CHANNEL_MESSAGE_DELIVERED);
export const deadLetterChannel = diagnostics.channel(CHANNEL_DEAD_LETTER);
