/**
 * The publishing agent: one actor per publish(). It listens on an ephemeral port, puts the
 * listing in the process directory and (scope host or farther) in the host directory through
 * the runtime's directory link, and turns what happens on its listener into discovery
 * notifications for the application:
 *
 * - Listening → Published; NotListening → NotPublished (and the agent ends);
 * - Accepted → Delivered, with the peer (SocketProxy, or the session) as return address;
 * - Closed → Cleared, Abandoned → Dropped (the route's ends);
 * - a subscriber refused by the `allow` list → NotDelivered (the listener's authorize);
 * - any other message (a subscriber's, when there is no session) is forwarded to the
 *   application with its return address, so `self.reply()` answers the subscriber.
 *
 * Process-scope subscribers attach in memory (Attach/Attached/Detach): no socket at all.
 * Ending the agent (retract(), or the application ending) withdraws the listing, stops the
 * listener and closes every route.
 */
import type { AnyMessageType } from '@herald/codec';
import {
  Abandoned,
  Accepted,
  Close,
  Closed,
  Listening,
  NotListening,
  listen,
  type ListenOptions,
  type PeerInfo,
  type SessionFrame,
} from '@herald/net';
import { Any, Completed, Stop, Terminated, type Address, type Self } from '@herald/runtime';
import { randomUUID } from 'node:crypto';
import { networkInterfaces } from 'node:os';
import { keyToHex } from './keys.js';
import {
  Attach,
  Attached,
  Clear,
  ClusterUp,
  Cleared,
  Delivered,
  Detach,
  Dropped,
  NotDelivered,
  NotPublished,
  Published,
  type Scope,
} from './messages.js';
import type { Endpoint, Listing } from './registry.js';
import { clusterFor, forgetAgent, linkFor, stateOf } from './state.js';
import { RELAY_PREFIX, type ClusterScope } from './cluster-scope.js';
import { relaySubjectOf } from './cluster/index.js';
import { spawnSession } from './process-session.js';
import { SCOPE_RANK } from './scopes.js';

export interface PublisherParams {
  readonly owner: Address;
  readonly name: string;
  readonly scope: Scope;
  /** Hex keys that may subscribe; undefined = anyone. */
  readonly allow: readonly string[] | undefined;
  readonly session: SessionFrame | undefined;
  readonly messages: readonly AnyMessageType[] | undefined;
  readonly listenHost: string | undefined;
  readonly advertiseHost: string | undefined;
  readonly listen: Partial<ListenOptions> | undefined;
}

interface Route {
  /** The SocketProxy, or for a process route the subscriber actor. */
  readonly remote: Address;
  /** What the application was given as the peer (session or remote). */
  readonly peer: Address;
  /** The subscribing agent, for a process route. */
  readonly agent?: Address;
  /** This side's session of a process route (network sessions belong to their proxy). */
  readonly session?: Address;
}

export async function publishingAgent(self: Self, p: PublisherParams): Promise<unknown> {
  const state = stateOf(self.runtime);
  const { identity, identityHex } = state.options;
  const id = randomUUID();
  const allow = p.allow === undefined ? undefined : new Set(p.allow);
  const routes = new Map<string, Route>();
  const wide = SCOPE_RANK[p.scope] >= SCOPE_RANK.lan;

  const authorize = (peer: PeerInfo): true | string => {
    if (allow === undefined) return true;
    const key = peer.key === null ? undefined : keyToHex(peer.key);
    if (key !== undefined && allow.has(key)) return true;
    self.runtime.send(
      p.owner,
      NotDelivered({
        name: p.name,
        listing: id,
        reason: 'not-allowed',
        ...(peer.key === null ? {} : { peerKey: peer.key }),
      }),
      self.address,
    );
    return 'not-allowed';
  };

  let listening: { host: string; port: number } = { host: 'process', port: 0 };
  const options: ListenOptions = {
    ...p.listen,
    // Always encrypted, so subscribers with and without identities can all connect.
    encrypted: true,
    ...(p.messages === undefined ? {} : { messages: p.messages }),
    ...(p.session === undefined ? {} : { session: p.session }),
    ...(identity === undefined ? {} : { identity }),
    ...(allow === undefined ? {} : { requirePeerKey: true, authorize }),
  };
  if (p.scope !== 'process') {
    const host = p.listenHost ?? (wide ? '0.0.0.0' : '127.0.0.1');
    listen(self, { host, port: 0 }, options);
    const result = await self.receive(Listening, NotListening, Stop);
    if (Stop.is(result)) return undefined;
    if (NotListening.is(result)) {
      const reason = result.errno ?? 'cannot-listen';
      self.send(p.owner, NotPublished({ name: p.name, scope: p.scope, reason }));
      return NotPublished({ name: p.name, scope: p.scope, reason });
    }
    listening = result.listening;
  }

  let listing: Listing = {
    id,
    name: p.name,
    endpoints: endpointsFor(p, listening),
    ...(identityHex === undefined ? {} : { identity: identityHex }),
    ...(allow === undefined ? {} : { allow: [...allow] }),
  };
  state.processAgents.set(id, self.address);
  state.processRegistry.putNow(listing);
  const link = p.scope === 'process' ? undefined : linkFor(self.runtime);
  void link?.put(listing);
  self.send(
    p.owner,
    Published({ name: p.name, scope: p.scope, listening, listing: id, agent: self.address }),
  );

  // Cluster scope: the listing goes to the cluster registry too, with the relay route when on.
  let cluster: ClusterScope | undefined;
  let ended = false;
  const me = self.address;
  const runtime = self.runtime;
  if (p.scope === 'cluster') {
    clusterFor(runtime)?.then(
      (scope) => {
        if (ended) return;
        cluster = scope;
        runtime.send(me, ClusterUp({}));
      },
      () => undefined,
    );
  }
  const putCluster = (): void => {
    const endpoints = listing.endpoints.filter((e) => e.scope === 'cluster');
    cluster?.registry.put({ ...listing, endpoints }).catch((error: unknown) => {
      self.log.warn({ err: error }, 'cluster registry refused the listing');
    });
  };

  const end = (): void => {
    ended = true;
    forgetAgent(runtime, p.owner, me);
    state.processRegistry.removeNow(id);
    state.processAgents.delete(id);
    void link?.remove(id);
    void cluster?.registry.remove(id).catch(() => undefined);
    for (const route of routes.values()) {
      if (route.agent !== undefined) {
        self.send(
          route.agent,
          Detach({ subscriber: route.remote, publisher: p.owner, value: undefined }),
        );
      }
    }
  };

  try {
    for (;;) {
      const m = await self.receive(Any, Stop);
      if (Stop.is(m)) return undefined;
      if (ClusterUp.is(m)) {
        if (cluster?.relay === undefined) putCluster();
        else
          listen(
            self,
            { host: cluster.relay.prefix, port: 0 },
            { ...options, transport: cluster.relay },
          );
      } else if (Listening.is(m)) {
        // The relay listener: subscribers that cannot connect directly dial this subject.
        listing = { ...listing, relay: relaySubjectOf(m.listening) };
        putCluster();
      } else if (NotListening.is(m)) {
        self.log.warn({ errno: m.errno }, 'relay route unavailable');
        putCluster();
      } else if (Accepted.is(m)) {
        const peer = m.session ?? m.remote;
        routes.set(m.remote.toString(), { remote: m.remote, peer });
        self.forward(
          p.owner,
          Delivered({
            name: p.name,
            listing: id,
            scope: scopeOfPeer(m.peer.host),
            opened: m.opened,
            remote: m.remote,
            ...(m.session === undefined ? {} : { session: m.session }),
            ...(m.peerKey === undefined ? {} : { peerKey: m.peerKey }),
            agent: self.address,
          }),
          peer,
        );
      } else if (Closed.is(m) || Abandoned.is(m)) {
        const remote = self.returnAddress;
        const route = routes.get(remote.toString());
        routes.delete(remote.toString());
        if (route === undefined) continue;
        if (Closed.is(m)) {
          self.forward(
            p.owner,
            Cleared({
              name: p.name,
              listing: id,
              remote: route.peer,
              reason: m.reason,
              value: m.value,
            }),
            route.peer,
          );
        } else {
          self.forward(
            p.owner,
            Dropped({ name: p.name, listing: id, remote: route.peer, reason: m.reason }),
            route.peer,
          );
        }
      } else if (Attach.is(m)) {
        const allowed = allow === undefined || (m.identity !== undefined && allow.has(m.identity));
        if (!allowed) {
          self.send(p.owner, NotDelivered({ name: p.name, listing: id, reason: 'not-allowed' }));
          self.send(
            m.agent,
            Detach({ subscriber: m.subscriber, publisher: p.owner, value: 'not-allowed' }),
          );
          continue;
        }
        const opened = new Date(self.runtime.clock.now());
        const session =
          p.session === undefined ? undefined : spawnSession(self, p.session, m.subscriber, opened);
        const peer = session ?? m.subscriber;
        routes.set(m.subscriber.toString(), {
          remote: m.subscriber,
          peer,
          agent: m.agent,
          ...(session === undefined ? {} : { session }),
        });
        self.watch(m.agent);
        self.send(m.agent, Attached({ publisher: session ?? p.owner, agent: self.address }));
        self.forward(
          p.owner,
          Delivered({
            name: p.name,
            listing: id,
            scope: 'process',
            opened,
            remote: m.subscriber,
            ...(session === undefined ? {} : { session }),
            agent: self.address,
          }),
          peer,
        );
      } else if (Completed.is(m)) {
        // A process route's session ended: its value ends the route, as on a connection.
        const route = [...routes.values()].find((r) => r.session?.equals(self.returnAddress));
        if (route === undefined || route.agent === undefined) continue;
        routes.delete(route.remote.toString());
        self.unwatch(route.agent);
        self.send(
          route.agent,
          Detach({ subscriber: route.remote, publisher: route.peer, value: m.value }),
        );
        self.forward(
          p.owner,
          Cleared({
            name: p.name,
            listing: id,
            remote: route.peer,
            reason: 'session-completed',
            value: m.value,
          }),
          route.peer,
        );
      } else if (Detach.is(m) || Terminated.is(m)) {
        const key = Detach.is(m) ? m.subscriber.toString() : findByAgent(routes, m.address);
        const route = key === undefined ? undefined : routes.get(key);
        if (route === undefined || key === undefined) continue;
        routes.delete(key);
        if (route.agent !== undefined) self.unwatch(route.agent);
        if (route.session !== undefined) self.stop(route.session);
        self.forward(
          p.owner,
          Dropped({
            name: p.name,
            listing: id,
            remote: route.peer,
            reason: Detach.is(m) ? 'cleared' : 'ended',
          }),
          route.peer,
        );
      } else if (Clear.is(m)) {
        const route = [...routes.values()].find(
          (r) => r.peer.equals(m.remote) || r.remote.equals(m.remote),
        );
        if (route === undefined) continue;
        if (route.agent === undefined) {
          self.send(route.remote, Close({ value: m.value }));
        } else {
          routes.delete(route.remote.toString());
          self.unwatch(route.agent);
          if (route.session !== undefined) self.stop(route.session);
          self.send(
            route.agent,
            Detach({ subscriber: route.remote, publisher: route.peer, value: m.value }),
          );
          self.forward(
            p.owner,
            Cleared({
              name: p.name,
              listing: id,
              remote: route.peer,
              reason: 'closed-by-request',
              value: m.value,
            }),
            route.peer,
          );
        }
      } else {
        // A subscriber's own message: to the application (or, on a process route with a
        // session, to that session), reply path intact.
        const route = routes.get(self.returnAddress.toString());
        self.forward(route?.session ?? p.owner, m, self.returnAddress);
      }
    }
  } finally {
    end();
  }
}

function findByAgent(routes: Map<string, Route>, agent: Address): string | undefined {
  for (const [key, route] of routes) if (route.agent?.equals(agent) === true) return key;
  return undefined;
}

/** A loopback peer came through the host directory, a relay peer through the cluster, else the LAN. */
function scopeOfPeer(host: string): Scope {
  if (host === '127.0.0.1' || host === '::1' || host.startsWith('::ffff:127.')) return 'host';
  // A relay connection's peer is a NATS subject prefix, not an IP address.
  return RELAY_PREFIX.test(host) ? 'cluster' : 'lan';
}

function endpointsFor(p: PublisherParams, listening: { host: string; port: number }): Endpoint[] {
  if (p.scope === 'process') return [];
  const endpoints: Endpoint[] = [{ host: '127.0.0.1', port: listening.port, scope: 'host' }];
  if (SCOPE_RANK[p.scope] >= SCOPE_RANK.lan) {
    // 0.0.0.0: the LAN directory writes in the address it sees the host directory at.
    endpoints.push({ host: p.advertiseHost ?? '0.0.0.0', port: listening.port, scope: 'lan' });
  }
  if (p.scope === 'cluster') {
    endpoints.push({
      host: p.advertiseHost ?? outwardAddress(),
      port: listening.port,
      scope: 'cluster',
    });
  }
  return endpoints;
}

/** This machine's first non-internal IPv4 address, else loopback. */
export function outwardAddress(): string {
  for (const list of Object.values(networkInterfaces())) {
    for (const info of list ?? [])
      if (info.family === 'IPv4' && !info.internal) return info.address;
  }
  return '127.0.0.1';
}
