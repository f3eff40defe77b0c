/**
 * The discovery message catalogue (docs/discovery.md). Results of publish() and subscribe()
 * arrive only as these messages; failures are faults (`isFaulted`), so an actor whose purpose
 * was the service can return one.
 *
 * Two families:
 * - notifications to the application (`herald.discovery.*`): local only, never accepted
 *   from the wire (every `herald.*` type is refused by a SocketProxy);
 * - the directory protocol (`herald-directory.*`): between publishing and subscribing agents
 *   and directories, and between directories.
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { defineFault } from '@herald/runtime';
import { hostPort } from '@herald/net/internal';
import { MAX_ALLOW, MAX_ENDPOINTS, MAX_NAME_LENGTH, MAX_PATTERN_LENGTH } from './constants.js';

/** Where a route was found, nearest first. */
export type Scope = 'process' | 'host' | 'lan' | 'cluster';
/** Scopes in order, nearest first. */
export const SCOPES: readonly Scope[] = ['process', 'host', 'lan', 'cluster'];
const scope = t.enum('process', 'host', 'lan', 'cluster');

// ---------------------------------------------------------------------------------------
// Notifications to the application

/** publish() is listening and its listing is handed to its directories. */
export const Published = defineMessage('herald.discovery.Published', {
  name: t.string(),
  scope,
  /** The listener's real address (an ephemeral port). */
  listening: hostPort,
  /** The publication's id (Listing.id). */
  listing: t.string(),
  /** The publishing agent: retract(self, published.agent) ends the publication. */
  agent: t.address(),
});
export type Published = MessageOf<typeof Published>;

/** publish() failed: the listener could not be opened. */
export const NotPublished = defineFault(
  'herald.discovery.NotPublished',
  { name: t.string(), scope, reason: t.string() },
  { code: 'HERALD_NOT_PUBLISHED', explanation: 'cannot publish' },
);
export type NotPublished = MessageOf<typeof NotPublished>;

/** subscribe() is registered with its directories. */
export const Subscribed = defineMessage('herald.discovery.Subscribed', {
  search: t.string(),
  kind: t.enum('exact', 'glob', 'regex'),
  scope,
  /** The subscribing agent: retract(self, subscribed.agent) ends the subscription. */
  agent: t.address(),
});
export type Subscribed = MessageOf<typeof Subscribed>;

/**
 * A matching service can be reached. The return address (and `remote`) is the peer: the
 * SocketProxy of the connection (or the session, when subscribe() was given one), or for a
 * process-scope route the publishing actor itself. Send to it as after Connected.
 */
export const Available = defineMessage('herald.discovery.Available', {
  search: t.string(),
  name: t.string(),
  /** The scope of the route in use (process nearest, then host, lan, cluster). */
  scope,
  listing: t.string(),
  opened: t.date(),
  remote: t.address(),
  session: t.optional(t.address()),
  /** The publisher's proven identity key (`herald-x25519:…`), when it has one. */
  peerKey: t.optional(t.string()),
  agent: t.address(),
});
export type Available = MessageOf<typeof Available>;

/** A service that was Available (or was being connected to) can no longer be reached. */
export const NotAvailable = defineFault(
  'herald.discovery.NotAvailable',
  {
    search: t.string(),
    name: t.string(),
    listing: t.string(),
    scope: t.optional(scope),
    reason: t.string(),
  },
  { code: 'HERALD_NOT_AVAILABLE', explanation: 'service not available' },
);
export type NotAvailable = MessageOf<typeof NotAvailable>;

/** A subscriber reached this publication. The return address (and `remote`) is the subscriber. */
export const Delivered = defineMessage('herald.discovery.Delivered', {
  name: t.string(),
  listing: t.string(),
  scope,
  opened: t.date(),
  remote: t.address(),
  session: t.optional(t.address()),
  /** The subscriber's proven identity key (`herald-x25519:…`), when it has one. */
  peerKey: t.optional(t.string()),
  agent: t.address(),
});
export type Delivered = MessageOf<typeof Delivered>;

/** A subscriber tried to reach this publication and was refused (`reason`: not-allowed, ...). */
export const NotDelivered = defineFault(
  'herald.discovery.NotDelivered',
  { name: t.string(), listing: t.string(), reason: t.string(), peerKey: t.optional(t.string()) },
  { code: 'HERALD_DISCOVERY_NOT_DELIVERED', explanation: 'not delivered to a subscriber' },
);
export type NotDelivered = MessageOf<typeof NotDelivered>;

/** This end ended a route (clear(), retract()): `value` is what clear() was given. */
export const Cleared = defineFault(
  'herald.discovery.Cleared',
  {
    name: t.string(),
    listing: t.string(),
    remote: t.address(),
    reason: t.string(),
    value: t.unknown(),
  },
  { code: 'HERALD_CLEARED', explanation: 'route cleared' },
);
export type Cleared = MessageOf<typeof Cleared>;

/** The other end of a route went away (its process died, it cleared or retracted). */
export const Dropped = defineFault(
  'herald.discovery.Dropped',
  { name: t.string(), listing: t.string(), remote: t.address(), reason: t.string() },
  { code: 'HERALD_DROPPED', explanation: 'route dropped' },
);
export type Dropped = MessageOf<typeof Dropped>;

/** Application → agent (clear()): end the route behind `remote` with `value`. */
export const Clear = defineMessage('herald.discovery.Clear', {
  remote: t.address(),
  value: t.unknown(),
});
export type Clear = MessageOf<typeof Clear>;

// ---------------------------------------------------------------------------------------
// Directory protocol (crosses the wire; never herald.*, which a SocketProxy refuses)

const endpoint = t.object({
  host: t.string({ maxLength: 255 }),
  port: t.int(),
  scope: t.enum('host', 'lan', 'cluster'),
});
/** A Listing on the wire (registry.ts), bounded. */
export const listingSchema = t.object({
  id: t.string({ maxLength: 64 }),
  name: t.string({ maxLength: MAX_NAME_LENGTH }),
  endpoints: t.array(endpoint, { maxLength: MAX_ENDPOINTS }),
  identity: t.optional(t.string({ maxLength: 64 })),
  allow: t.optional(t.array(t.string({ maxLength: 64 }), { maxLength: MAX_ALLOW })),
  relay: t.optional(t.string({ maxLength: 256 })),
});
const searchSchema = t.object({
  kind: t.enum('exact', 'glob', 'regex'),
  pattern: t.string({ maxLength: MAX_PATTERN_LENGTH }),
});

/** Agent or lower directory → directory: publish or refresh a listing. */
export const Put = defineMessage('herald-directory.Put', { listing: listingSchema });
export type Put = MessageOf<typeof Put>;

/** → directory: withdraw a listing this connection put. */
export const Remove = defineMessage('herald-directory.Remove', { id: t.string({ maxLength: 64 }) });
export type Remove = MessageOf<typeof Remove>;

/**
 * → directory: watch every listing matching `search`, up to `scope` (a host directory passes
 * a search for 'lan' or 'cluster' on upwards). Answered with Found and Lost.
 */
export const Find = defineMessage('herald-directory.Find', {
  id: t.string({ maxLength: 64 }),
  search: searchSchema,
  scope: t.enum('host', 'lan', 'cluster'),
});
export type Find = MessageOf<typeof Find>;

/** → directory: stop the search `id`. */
export const Unfind = defineMessage('herald-directory.Unfind', { id: t.string({ maxLength: 64 }) });
export type Unfind = MessageOf<typeof Unfind>;

/** Directory → searcher: `listing` matches search `find`, reachable at `scope`. */
export const Found = defineMessage('herald-directory.Found', {
  find: t.string(),
  scope: t.enum('host', 'lan', 'cluster'),
  listing: listingSchema,
});
export type Found = MessageOf<typeof Found>;

/** Directory → searcher: the listing `id` (found at `scope`) is gone. */
export const Lost = defineMessage('herald-directory.Lost', {
  find: t.string(),
  scope: t.enum('host', 'lan', 'cluster'),
  id: t.string(),
});
export type Lost = MessageOf<typeof Lost>;

/** Directory → client: a Put or Find was refused (`reason`: limit, bad-search, ...). */
export const Refused = defineMessage('herald-directory.Refused', {
  id: t.string(),
  reason: t.string(),
});
export type Refused = MessageOf<typeof Refused>;

/** Subscribing agent ↔ publishing agent, in process: attach a subscriber to a publication. */
export const Attach = defineMessage('herald.discovery.Attach', {
  subscriber: t.address(),
  agent: t.address(),
  identity: t.optional(t.string()),
  session: t.optional(t.address()),
});
export type Attach = MessageOf<typeof Attach>;

/** Publishing agent → subscribing agent, in process: the subscriber is attached. */
export const Attached = defineMessage('herald.discovery.Attached', {
  publisher: t.address(),
  agent: t.address(),
});
export type Attached = MessageOf<typeof Attached>;

/** Either agent, in process: the route between `subscriber` and `publisher` ended. */
export const Detach = defineMessage('herald.discovery.Detach', {
  subscriber: t.address(),
  publisher: t.address(),
  value: t.unknown(),
});
export type Detach = MessageOf<typeof Detach>;

/** Every type a runtime that publishes or subscribes must know. */
export const discoveryMessages = [
  Published,
  NotPublished,
  Subscribed,
  Available,
  NotAvailable,
  Delivered,
  NotDelivered,
  Cleared,
  Dropped,
  Clear,
  Put,
  Remove,
  Find,
  Unfind,
  Found,
  Lost,
  Refused,
  Attach,
  Attached,
  Detach,
] as const;

// ---------------------------------------------------------------------------------------
// Local only: between a runtime's own discovery actors (herald.*: never accepted from a peer)

/** A registry told a watching actor about a listing (`scope`: where it was found). */
export const Listed = defineMessage('herald.discovery.Listed', {
  watch: t.string(),
  kind: t.enum('added', 'removed'),
  scope,
  listing: t.unknown(),
  /** The publishing agent, for a process-scope listing. */
  agent: t.optional(t.address()),
});
export type Listed = MessageOf<typeof Listed>;

/** Registry method calls handed to the actor that keeps a directory connection. */
export const LinkPut = defineMessage('herald.discovery.LinkPut', { listing: t.unknown() });
export const LinkRemove = defineMessage('herald.discovery.LinkRemove', { id: t.string() });
export const LinkWatch = defineMessage('herald.discovery.LinkWatch', {
  id: t.string(),
  search: t.unknown(),
  scope: t.enum('host', 'lan', 'cluster'),
});
export const LinkUnwatch = defineMessage('herald.discovery.LinkUnwatch', { id: t.string() });

/** A directory session → its directory: a request from the session's connection. */
export const FromClient = defineMessage('herald.discovery.FromClient', {
  session: t.address(),
  replyTo: t.address(),
  peerKey: t.optional(t.string()),
  peerHost: t.string(),
  request: t.unknown(),
});
export type FromClient = MessageOf<typeof FromClient>;

/** The runtime's cluster scope is connected (to the agent that asked for it). */
export const ClusterUp = defineMessage('herald.discovery.ClusterUp', {});
