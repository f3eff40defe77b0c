/**
 * The management actor: answers the management protocol (messages.ts) for one runtime,
 * from local actors and, when the endpoint has operators, from peers of its own Herald
 * listener. That listener is encrypted and mutually authenticated: only the operators'
 * keys get past the handshake (`allowedPeerKeys`, `requirePeerKey`), so an unknown key is
 * refused with `not-authorized` before any message is read. The actor is the listener's
 * controller, so the connection's default target (what an operator reaches by sending to
 * the connection) is this actor and nothing else: the operator holds no other capability.
 */
import type { AnyMessage } from '@herald/codec';
import {
  Abandoned,
  Accepted,
  Closed,
  Congested,
  Drained,
  Listening,
  NotListening,
  listen,
  formatPublicKey,
  type IdentityKeyPair,
} from '@herald/net';
import { Any, Stop, parseLogLevel, type Runtime, type Self } from '@herald/runtime';
import type { Activity } from './activity.js';
import { actorEntries, connectionEntries, disconnectPeer, groupEntries } from './collect.js';
import { DEFAULT_MANAGEMENT_LIST_LIMIT, MAX_MANAGEMENT_LIST_LIMIT } from './constants.js';
import {
  Actors,
  Connections,
  DisconnectPeer,
  Failed,
  GetActors,
  GetConnections,
  GetGroups,
  GetSnapshot,
  GetStatus,
  GetSubscriptions,
  Groups,
  LogLevelSet,
  PeerDisconnected,
  SetLogLevel,
  Snapshot,
  Status,
  Subscriptions,
  managementMessages,
  type ManagementRequest,
  type SubscriptionEntry,
} from './messages.js';

/** Where and for whom the actor listens. */
export interface ManagementListen {
  readonly host: string;
  readonly port: number;
  readonly identity: IdentityKeyPair;
  readonly operators: readonly (string | Uint8Array)[];
}

export interface ManagementActorSetup {
  readonly activity: Activity;
  readonly subscriptions: () => readonly SubscriptionEntry[];
  readonly listen: ManagementListen | undefined;
  /** Called once: the listener is up (or there is none), or it failed. */
  readonly ready: (result: Listening | NotListening | undefined) => void;
}

/** The default reason a DisconnectPeer gives when the operator gives none. */
const DISCONNECT_REASON = 'disconnected by an operator';

/** Answers one request; shared by the actor and the HTTP face. */
export function answer(
  runtime: Runtime,
  setup: Pick<ManagementActorSetup, 'activity' | 'subscriptions'>,
  request: ManagementRequest,
): AnyMessage {
  const limit = clampLimit('limit' in request ? request.limit : undefined);
  switch (request.type) {
    case 'management.GetStatus':
      return Status(statusOf(runtime, setup.activity));
    case 'management.GetActors': {
      const { items, total } = actorEntries(runtime, limit);
      return Actors({ actors: items, total });
    }
    case 'management.GetConnections': {
      const { items, total } = connectionEntries(runtime, limit);
      return Connections({ connections: items, total });
    }
    case 'management.GetGroups': {
      const { items, total } = groupEntries(runtime, limit);
      return Groups({ groups: items, total });
    }
    case 'management.GetSubscriptions': {
      const all = setup.subscriptions();
      return Subscriptions({ subscriptions: all.slice(0, limit), total: all.length });
    }
    case 'management.GetSnapshot': {
      const actors = actorEntries(runtime, limit);
      const connections = connectionEntries(runtime, limit);
      const groups = groupEntries(runtime, limit);
      return Snapshot({
        status: statusOf(runtime, setup.activity),
        actors: actors.items,
        connections: connections.items,
        groups: groups.items,
        totals: { actors: actors.total, connections: connections.total, groups: groups.total },
      });
    }
    case 'management.SetLogLevel': {
      const previous = String(runtime.logger.level);
      try {
        const level = parseLogLevel(request.level);
        runtime.setLogLevel(level);
        runtime.logger.info({ level, previous }, 'log level changed by management');
        return LogLevelSet({ level, previous });
      } catch (error) {
        return Failed({
          request: request.type,
          code: 'HERALD_MANAGEMENT_BAD_LEVEL',
          explanation: error instanceof Error ? error.message : String(error),
        });
      }
    }
    case 'management.DisconnectPeer': {
      const disconnected = disconnectPeer(
        runtime,
        request.connection,
        request.reason ?? DISCONNECT_REASON,
      );
      if (disconnected)
        runtime.logger.info({ conn: request.connection }, 'connection closed by management');
      return PeerDisconnected({ connection: request.connection, disconnected });
    }
  }
}

function clampLimit(limit: number | undefined): number {
  if (limit === undefined || !Number.isFinite(limit)) return DEFAULT_MANAGEMENT_LIST_LIMIT;
  return Math.max(0, Math.min(MAX_MANAGEMENT_LIST_LIMIT, Math.floor(limit)));
}

/** The fields of `Status`. */
export function statusOf(runtime: Runtime, activity: Activity): Omit<Status, 'type'> {
  const memory = process.memoryUsage();
  return {
    name: runtime.name,
    pid: process.pid,
    node: process.version,
    uptimeMs: Date.now() - activity.startedAt,
    actors: runtime.size,
    connections: connectionEntries(runtime, 0).total,
    groups: groupEntries(runtime, 0).total,
    deadLetters: runtime.deadLetterCount,
    messagesDelivered: activity.delivered,
    logLevel: String(runtime.logger.level),
    rssBytes: memory.rss,
    heapUsedBytes: memory.heapUsed,
  };
}

const requestTypes = [
  GetStatus,
  GetActors,
  GetConnections,
  GetGroups,
  GetSubscriptions,
  GetSnapshot,
  SetLogLevel,
  DisconnectPeer,
] as const;

function isRequest(m: AnyMessage): m is ManagementRequest {
  return requestTypes.some((type) => type.is(m));
}

/** The management actor (spawned by openManagement). Ends on Stop. */
export async function managementActor(self: Self, setup: ManagementActorSetup): Promise<void> {
  const runtime = self.runtime;
  if (setup.listen === undefined) setup.ready(undefined);
  else {
    const { host, port, identity, operators } = setup.listen;
    listen(
      self,
      { host, port },
      {
        encrypted: true,
        identity,
        allowedPeerKeys: operators,
        requirePeerKey: true,
        messages: managementMessages,
      },
    );
    const result = await self.receive(Listening, NotListening);
    setup.ready(result);
    if (NotListening.is(result)) return;
    runtime.logger.info(
      { listening: result.listening, key: formatPublicKey(identity.publicKey) },
      'management endpoint listening',
    );
  }
  for (;;) {
    // Any: everything else is taken and dropped, so nothing an operator (or a connection
    // notice) sends is saved for later and left to pile up.
    const m = await self.receive(...requestTypes, Stop, Any);
    if (Stop.is(m)) return;
    if (isRequest(m)) self.reply(answer(runtime, setup, m));
    else if (Accepted.is(m))
      runtime.logger.info({ peer: m.peer, key: m.peerKey }, 'management operator connected');
    else if (!Closed.is(m) && !Abandoned.is(m) && !Congested.is(m) && !Drained.is(m))
      runtime.logger.debug({ type: m.type }, 'management actor ignored a message');
  }
}
