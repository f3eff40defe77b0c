/**
 * The management protocol: typed requests an operator's actor sends to a process's
 * management actor, and their answers. Names are `management.*` (Herald refuses `herald.*`
 * from the wire: control is protocol, and this is an application protocol carried by an
 * ordinary, authenticated connection).
 *
 * Every answer carries plain data. Actor and connection addresses travel as **strings**
 * (`Address.toString()`), never as `t.address()`: an address sent to a peer becomes a
 * capability it may send to, and an operator listing actors must not thereby gain the
 * right to message every one of them. `DisconnectPeer` names a connection by that string;
 * the management actor looks it up among the live connections.
 *
 * Every request may fail with `Failed` (a fault: `code` and `explanation`), for example
 * `HERALD_MANAGEMENT_BAD_LEVEL` for an unknown log level.
 */
import { defineMessage, t, type AnyMessageType, type MessageOf } from '@herald/codec';
import { defineFault } from '@herald/runtime';
import { MAX_MANAGEMENT_LIST_LIMIT, MAX_MANAGEMENT_TEXT } from './constants.js';

const text = () => t.string({ maxLength: MAX_MANAGEMENT_TEXT });
const list = <S extends Parameters<typeof t.array>[0]>(element: S) =>
  t.array(element, { maxLength: MAX_MANAGEMENT_LIST_LIMIT });
/** `limit`: at most this many entries (default DEFAULT_MANAGEMENT_LIST_LIMIT). */
const limit = { limit: t.optional(t.int()) } as const;

// ---- data ----------------------------------------------------------------------------

const actorEntry = t.object({
  /** The actor's address in its own process (a string, not a capability). */
  address: text(),
  name: text(),
  kind: t.enum('function', 'handler', 'machine', 'other'),
  /** The parent's address, null for a top-level actor. */
  parent: t.nullable(text()),
  /** Messages waiting in its mailbox, and how many the mailbox holds. */
  mailbox: t.int(),
  capacity: t.int(),
  /** An xstate machine's current state value (JSON), absent for other actors. */
  state: t.optional(t.json()),
});

const connectionEntry = t.object({
  /** The SocketProxy's address (a string; `DisconnectPeer` takes it). */
  address: text(),
  role: t.enum('connector', 'acceptor'),
  host: text(),
  port: t.int(),
  /** The peer's proven public key (hex), null for an anonymous peer. */
  identity: t.nullable(text()),
  encrypted: t.boolean(),
  /** When it opened (ms since the epoch). */
  openedAt: t.number(),
  bytesIn: t.number(),
  bytesOut: t.number(),
  messagesIn: t.number(),
  messagesOut: t.number(),
  queuedBytes: t.number(),
  congested: t.boolean(),
  state: text(),
});

const groupEntry = t.object({
  address: text(),
  ready: t.boolean(),
  members: list(t.object({ name: text(), state: text(), address: t.nullable(text()) })),
});

const subscriptionEntry = t.object({
  /** What kind of subscription: `inspector` (a browser), or what a source reports. */
  kind: text(),
  /** What is subscribed to (a topic, a name, `inspection`). */
  subject: text(),
  /** Who subscribed (an address as a string, a remote address, a browser). */
  subscriber: text(),
  detail: t.optional(text()),
});

const statusFields = {
  /** The runtime's name. */
  name: text(),
  pid: t.int(),
  /** Node.js version (`process.version`). */
  node: text(),
  /** Milliseconds since the management endpoint opened. */
  uptimeMs: t.number(),
  actors: t.int(),
  connections: t.int(),
  groups: t.int(),
  deadLetters: t.number(),
  /** Messages delivered to actors since the endpoint opened. */
  messagesDelivered: t.number(),
  logLevel: text(),
  rssBytes: t.number(),
  heapUsedBytes: t.number(),
} as const;

// ---- requests ------------------------------------------------------------------------

/** What the process is: name, pid, counts, log level, memory. Answered with `Status`. */
export const GetStatus = defineMessage('management.GetStatus', {});
/** Live actors (a tree by `parent`). Answered with `Actors`. */
export const GetActors = defineMessage('management.GetActors', { ...limit });
/** Open connections with their traffic counters. Answered with `Connections`. */
export const GetConnections = defineMessage('management.GetConnections', { ...limit });
/** Groups and their members. Answered with `Groups`. */
export const GetGroups = defineMessage('management.GetGroups', { ...limit });
/** Subscriptions the process holds. Answered with `Subscriptions`. */
export const GetSubscriptions = defineMessage('management.GetSubscriptions', { ...limit });
/** Status, actors, connections and groups in one answer (for `herald top`). */
export const GetSnapshot = defineMessage('management.GetSnapshot', { ...limit });
/**
 * Changes the log level of the runtime's logger and every actor's child logger, live
 * (pino names or Herald's aliases: `debug`, `DEBUG`, `warning`, ...). Answered with
 * `LogLevelSet`, or `Failed` with `HERALD_MANAGEMENT_BAD_LEVEL`.
 */
export const SetLogLevel = defineMessage('management.SetLogLevel', { level: text() });
/**
 * Closes one connection, named by its proxy address string from `Connections`. Answered
 * with `PeerDisconnected` (`disconnected: false` when there was no such connection).
 */
export const DisconnectPeer = defineMessage('management.DisconnectPeer', {
  connection: text(),
  reason: t.optional(text()),
});

// ---- answers -------------------------------------------------------------------------

export const Status = defineMessage('management.Status', statusFields);
export const Actors = defineMessage('management.Actors', {
  actors: list(actorEntry),
  /** Live actors in all; more than `actors.length` when the answer was cut at `limit`. */
  total: t.int(),
});
export const Connections = defineMessage('management.Connections', {
  connections: list(connectionEntry),
  total: t.int(),
});
export const Groups = defineMessage('management.Groups', {
  groups: list(groupEntry),
  total: t.int(),
});
export const Subscriptions = defineMessage('management.Subscriptions', {
  subscriptions: list(subscriptionEntry),
  total: t.int(),
});
export const Snapshot = defineMessage('management.Snapshot', {
  status: t.object(statusFields),
  actors: list(actorEntry),
  connections: list(connectionEntry),
  groups: list(groupEntry),
  /** Totals before the lists were cut at `limit`. */
  totals: t.object({ actors: t.int(), connections: t.int(), groups: t.int() }),
});
export const LogLevelSet = defineMessage('management.LogLevelSet', {
  level: text(),
  previous: text(),
});
export const PeerDisconnected = defineMessage('management.PeerDisconnected', {
  connection: text(),
  disconnected: t.boolean(),
});
/** A request that could not be done; `code` says why (`HERALD_MANAGEMENT_*`). */
export const Failed = defineFault(
  'management.Failed',
  { request: text() },
  { code: 'HERALD_MANAGEMENT_FAILED', explanation: 'the management request failed' },
);

export type GetStatus = MessageOf<typeof GetStatus>;
export type GetActors = MessageOf<typeof GetActors>;
export type GetConnections = MessageOf<typeof GetConnections>;
export type GetGroups = MessageOf<typeof GetGroups>;
export type GetSubscriptions = MessageOf<typeof GetSubscriptions>;
export type GetSnapshot = MessageOf<typeof GetSnapshot>;
export type SetLogLevel = MessageOf<typeof SetLogLevel>;
export type DisconnectPeer = MessageOf<typeof DisconnectPeer>;
export type Status = MessageOf<typeof Status>;
export type Actors = MessageOf<typeof Actors>;
export type Connections = MessageOf<typeof Connections>;
export type Groups = MessageOf<typeof Groups>;
export type Subscriptions = MessageOf<typeof Subscriptions>;
export type Snapshot = MessageOf<typeof Snapshot>;
export type LogLevelSet = MessageOf<typeof LogLevelSet>;
export type PeerDisconnected = MessageOf<typeof PeerDisconnected>;
export type Failed = MessageOf<typeof Failed>;

/** One entry of `Actors.actors`. */
export type ActorEntry = Actors['actors'][number];
/** One entry of `Connections.connections`. */
export type ConnectionEntry = Connections['connections'][number];
/** One entry of `Groups.groups`. */
export type GroupEntry = Groups['groups'][number];
/** One entry of `Subscriptions.subscriptions`. */
export type SubscriptionEntry = Subscriptions['subscriptions'][number];

/** Any management request. */
export type ManagementRequest =
  | GetStatus
  | GetActors
  | GetConnections
  | GetGroups
  | GetSubscriptions
  | GetSnapshot
  | SetLogLevel
  | DisconnectPeer;

/** The answer type of each request (besides `Failed`). */
export interface ManagementAnswers {
  'management.GetStatus': Status;
  'management.GetActors': Actors;
  'management.GetConnections': Connections;
  'management.GetGroups': Groups;
  'management.GetSubscriptions': Subscriptions;
  'management.GetSnapshot': Snapshot;
  'management.SetLogLevel': LogLevelSet;
  'management.DisconnectPeer': PeerDisconnected;
}

/** The answer to request `R`. */
export type AnswerOf<R extends ManagementRequest> = ManagementAnswers[R['type']];

/** The answer message type for each request type name. */
export const ANSWER_TYPES: { readonly [K in keyof ManagementAnswers]: AnyMessageType } = {
  'management.GetStatus': Status,
  'management.GetActors': Actors,
  'management.GetConnections': Connections,
  'management.GetGroups': Groups,
  'management.GetSubscriptions': Subscriptions,
  'management.GetSnapshot': Snapshot,
  'management.SetLogLevel': LogLevelSet,
  'management.DisconnectPeer': PeerDisconnected,
};

/**
 * Every type of the protocol: give it to `run(main, { messages })`, `connect(...,
 * { messages })` or `createRuntime({ messages })` on the client side (the endpoint adds
 * them to its listener itself).
 */
export const managementMessages: readonly AnyMessageType[] = [
  GetStatus,
  GetActors,
  GetConnections,
  GetGroups,
  GetSubscriptions,
  GetSnapshot,
  SetLogLevel,
  DisconnectPeer,
  Status,
  Actors,
  Connections,
  Groups,
  Subscriptions,
  Snapshot,
  LogLevelSet,
  PeerDisconnected,
  Failed,
];
