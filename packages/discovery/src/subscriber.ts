/**
 * The subscribing agent: one actor per subscribe(). It watches the process directory and
 * (scope host or farther) the host directory, which passes the search on upwards, and keeps
 * for every matching listing a table of routes, one per scope it was found at:
 *
 * - it uses the **nearest** route: connects to it (or attaches in memory, for a process
 *   route) and sends Available with the peer as return address;
 * - when that route fails it sends Dropped and NotAvailable, then **falls back** to the next
 *   nearest route at once; a route whose connection failed is left alone for
 *   `routeRetryMs`, then tried again while it is still listed;
 * - when a **nearer** route appears while a farther one is in use, it waits
 *   `promotionHoldMs` (the holding time, on the runtime's clock), then opens the nearer
 *   route, sends Available for it and closes the farther one.
 *
 * Messages from a publisher (when there is no session) are forwarded to the application
 * with their return address, so `self.reply()` answers the publisher.
 */
import type { AnyMessageType } from '@herald/codec';
import {
  Abandoned,
  Close,
  Closed,
  Connected,
  NotConnected,
  connect,
  type ConnectOptions,
  type SessionFrame,
} from '@herald/net';
import { Any, Completed, Stop, Terminated, Timer, type Address, type Self } from '@herald/runtime';
import { hexToPrintable } from './keys.js';
import {
  Attach,
  Attached,
  Available,
  Clear,
  Cleared,
  ClusterUp,
  Detach,
  Dropped,
  Listed,
  NotAvailable,
  Subscribed,
  type Scope,
} from './messages.js';
import type { Listing, Search } from './registry.js';
import { spawnSession } from './process-session.js';
import { decide, soonestRetry, type Conn, type Match, type Route } from './route-table.js';
import { SCOPE_RANK } from './scopes.js';
import { describeSearch } from './search.js';
import { clusterFor, forgetAgent, linkFor, stateOf } from './state.js';
import type { ClusterScope } from './cluster-scope.js';
import { parseRelaySubject } from './cluster/index.js';

export interface SubscriberParams {
  readonly owner: Address;
  readonly search: Search;
  readonly scope: Scope;
  readonly session: SessionFrame | undefined;
  readonly messages: readonly AnyMessageType[] | undefined;
  readonly connect: Partial<ConnectOptions> | undefined;
}

export async function subscribingAgent(self: Self, p: SubscriberParams): Promise<unknown> {
  const state = stateOf(self.runtime);
  const { identity, identityHex, promotionHoldMs, routeRetryMs } = state.options;
  const clock = self.runtime.clock;
  const searchText = describeSearch(p.search);
  const matches = new Map<string, Match>();
  const conns = new Map<string, Conn>();
  const me = self.address;
  const runtime = self.runtime;

  const unwatchProcess = state.processRegistry.watch(p.search, (e) => {
    runtime.send(
      me,
      Listed({
        watch: 'process',
        kind: e.kind,
        scope: 'process',
        listing: e.listing,
        ...(state.processAgents.has(e.listing.id)
          ? { agent: state.processAgents.get(e.listing.id)! }
          : {}),
      }),
    );
  });
  const link = p.scope === 'process' ? undefined : linkFor(runtime);
  const findScope = p.scope === 'process' ? 'host' : p.scope;
  const unwatchLink = link?.watchScoped(p.search, findScope, (e) => {
    const scope = e.listing.endpoints[0]?.scope;
    if (scope === undefined) return;
    runtime.send(me, Listed({ watch: 'link', kind: e.kind, scope, listing: e.listing }));
  });
  // Cluster scope: watch the cluster registry too, once it is connected.
  let cluster: ClusterScope | undefined;
  let unwatchCluster: (() => void) | undefined;
  let finished = false;
  if (p.scope === 'cluster') {
    clusterFor(runtime)?.then(
      (scope) => {
        if (finished) return;
        cluster = scope;
        runtime.send(me, ClusterUp({}));
      },
      () => undefined,
    );
  }
  self.send(
    p.owner,
    Subscribed({ search: p.search.pattern, kind: p.search.kind, scope: p.scope, agent: me }),
  );

  const tell = (message: Parameters<Self['send']>[1], from: Address): void => {
    self.forward(p.owner, message, from);
  };

  const notAvailable = (match: Match, scope: Scope, reason: string): void => {
    if (!match.available) return;
    match.available = false;
    self.send(
      p.owner,
      NotAvailable({ search: searchText, name: match.name, listing: match.id, scope, reason }),
    );
  };

  const open = (match: Match, route: Route): Conn => {
    let key: Address;
    let session: Address | undefined;
    if (route.agent !== undefined) {
      key = route.agent;
      // The session talks to the publishing agent until the publisher's end is known; the
      // agent passes its messages on with their return address.
      session =
        p.session === undefined
          ? undefined
          : spawnSession(self, p.session, route.agent, new Date(clock.now()));
      self.send(
        route.agent,
        Attach({
          subscriber: session ?? p.owner,
          agent: me,
          ...(identityHex === undefined ? {} : { identity: identityHex }),
        }),
      );
    } else {
      const to = route.relay ?? { host: route.endpoint!.host, port: route.endpoint!.port };
      key = connect(
        self,
        { host: to.host, port: to.port },
        {
          ...(route.relay === undefined || cluster?.relay === undefined
            ? {}
            : { transport: cluster.relay }),
          ...p.connect,
          encrypted: true,
          ...(p.messages === undefined ? {} : { messages: p.messages }),
          ...(p.session === undefined ? {} : { session: p.session }),
          ...(identity === undefined ? {} : { identity }),
          ...(match.identity === undefined ? {} : { peerKey: hexToPrintable(match.identity) }),
        },
      );
    }
    const conn: Conn = {
      match,
      scope: route.scope,
      route: route.key,
      rank: route.rank,
      key,
      process: route.agent !== undefined,
      state: 'connecting',
      superseded: false,
      ...(session === undefined ? {} : { session, attachedAs: session }),
      ...(route.agent === undefined || session !== undefined ? {} : { attachedAs: p.owner }),
    };
    conns.set(key.toString(), conn);
    return conn;
  };

  const retryLater = (match: Match): void => {
    const at = soonestRetry(match, clock.now());
    if (at !== undefined) self.startTimer(`retry:${match.id}`, at - clock.now());
  };

  const reconsider = (match: Match): void => {
    const decision = decide(match, clock.now());
    switch (decision.kind) {
      case 'forget':
        matches.delete(match.id);
        self.cancelTimer(`retry:${match.id}`);
        self.cancelTimer(`hold:${match.id}`);
        return;
      case 'wait':
        if (match.current === undefined) retryLater(match);
        return;
      case 'open':
        match.current = open(match, decision.route);
        return;
      case 'stay':
        if (match.holding) self.cancelTimer(`hold:${match.id}`);
        match.holding = false;
        match.holdDone = false;
        return;
      case 'hold':
        match.holding = true;
        self.startTimer(`hold:${match.id}`, promotionHoldMs);
        return;
      case 'promote':
        match.holdDone = false;
        match.holding = false;
        match.pending = open(match, decision.route);
        return;
      case 'nothing':
        return;
    }
  };

  /** The route behind `conn` ended (`reason`); `dropped`: by the far end. */
  const ended = (conn: Conn, reason: string, dropped: boolean, value?: unknown): void => {
    conns.delete(conn.key.toString());
    const match = conn.match;
    if (conn.process) self.unwatch(conn.key);
    if (conn.session !== undefined && self.runtime.isAlive(conn.session)) self.stop(conn.session);
    const route = match.routes.get(conn.route);
    if (match.pending === conn) {
      match.pending = undefined;
      if (route !== undefined) route.failedUntil = clock.now() + routeRetryMs;
      retryLater(match);
      return;
    }
    if (match.current !== conn) return;
    match.current = undefined;
    if (conn.superseded) return;
    if (conn.state === 'open' && conn.peer !== undefined) {
      if (dropped) {
        tell(
          Dropped({ name: match.name, listing: match.id, remote: conn.peer, reason }),
          conn.peer,
        );
      } else {
        tell(
          Cleared({ name: match.name, listing: match.id, remote: conn.peer, reason, value }),
          conn.peer,
        );
        match.cleared = true;
      }
      notAvailable(match, conn.scope, reason);
    }
    if (dropped && route !== undefined) route.failedUntil = clock.now() + routeRetryMs;
    reconsider(match);
    retryLater(match);
  };

  const opened = (
    conn: Conn,
    remote: Address,
    session: Address | undefined,
    at: Date,
    peerKey: string | undefined,
  ): void => {
    const match = conn.match;
    const peer = session ?? remote;
    conn.state = 'open';
    conn.peer = peer;
    conn.remote = remote;
    if (match.pending === conn) {
      const old = match.current;
      match.current = conn;
      match.pending = undefined;
      if (old !== undefined) {
        old.superseded = true;
        if (old.process) {
          conns.delete(old.key.toString());
          self.unwatch(old.key);
          self.send(
            old.key,
            Detach({
              subscriber: old.attachedAs ?? p.owner,
              publisher: old.remote ?? old.key,
              value: 'promoted',
            }),
          );
        } else {
          self.send(old.key, Close({ value: 'promoted' }));
        }
      }
    }
    match.available = true;
    tell(
      Available({
        search: searchText,
        name: match.name,
        scope: conn.scope,
        listing: match.id,
        opened: at,
        remote,
        ...(session === undefined ? {} : { session }),
        ...(peerKey === undefined ? {} : { peerKey }),
        agent: me,
      }),
      peer,
    );
    reconsider(match);
  };

  const listed = (m: Listed): void => {
    const listing = m.listing as Listing;
    let match = matches.get(listing.id);
    if (m.kind === 'removed') {
      if (match === undefined) return;
      match.routes.delete(m.scope);
      if (m.scope === 'cluster') match.routes.delete('relay');
      reconsider(match);
      return;
    }
    if (match === undefined) {
      match = {
        id: listing.id,
        name: listing.name,
        identity: listing.identity,
        routes: new Map(),
        current: undefined,
        pending: undefined,
        available: false,
        cleared: false,
        holdDone: false,
        holding: false,
      };
      matches.set(listing.id, match);
    }
    const endpoint = listing.endpoints.find((e) => e.scope === m.scope);
    const rank = SCOPE_RANK[m.scope];
    if (m.scope === 'process') {
      if (m.agent === undefined) return;
      match.routes.set('process', {
        key: 'process',
        scope: 'process',
        rank,
        agent: m.agent,
        failedUntil: 0,
      });
    } else if (endpoint !== undefined) {
      match.routes.set(m.scope, { key: m.scope, scope: m.scope, rank, endpoint, failedUntil: 0 });
    }
    const relay = listing.relay === undefined ? undefined : parseRelaySubject(listing.relay);
    if (m.scope === 'cluster' && relay !== undefined && cluster?.relay !== undefined) {
      match.routes.set('relay', {
        key: 'relay',
        scope: 'cluster',
        rank: rank + 0.5,
        relay,
        failedUntil: 0,
      });
    }
    reconsider(match);
  };

  try {
    for (;;) {
      const m = await self.receive(Any, Stop);
      if (Stop.is(m)) return undefined;
      if (ClusterUp.is(m) && cluster !== undefined) {
        unwatchCluster = cluster.registry.watch(p.search, (e) => {
          runtime.send(
            me,
            Listed({ watch: 'cluster', kind: e.kind, scope: 'cluster', listing: e.listing }),
          );
        });
      } else if (Listed.is(m)) {
        listed(m);
      } else if (Connected.is(m)) {
        const conn = conns.get(m.remote.toString());
        if (conn !== undefined) opened(conn, m.remote, m.session, m.opened, m.peerKey);
      } else if (Attached.is(m)) {
        const conn = conns.get(m.agent.toString());
        if (conn === undefined) continue;
        self.watch(m.agent);
        opened(conn, m.publisher, conn.session, new Date(clock.now()), undefined);
      } else if (Completed.is(m)) {
        // A process route's session ended: its value ends the route, as on a connection.
        const conn = [...conns.values()].find((c) => c.session?.equals(self.returnAddress));
        if (conn === undefined) continue;
        self.send(
          conn.key,
          Detach({
            subscriber: conn.attachedAs ?? p.owner,
            publisher: conn.remote ?? conn.key,
            value: m.value,
          }),
        );
        ended(conn, 'session-completed', false, m.value);
      } else if (NotConnected.is(m)) {
        const conn = conns.get(self.returnAddress.toString());
        if (conn !== undefined) ended(conn, m.reason, true);
      } else if (Closed.is(m) || Abandoned.is(m)) {
        const conn = conns.get(self.returnAddress.toString());
        if (conn === undefined) continue;
        // Closed: this side ended it (clear(), the session completed): Cleared, not reopened.
        ended(conn, m.reason, Abandoned.is(m), Closed.is(m) ? m.value : undefined);
      } else if (Detach.is(m)) {
        const conn = conns.get(self.returnAddress.toString());
        if (conn !== undefined)
          ended(conn, m.value === 'not-allowed' ? 'not-allowed' : 'cleared', true);
      } else if (Terminated.is(m)) {
        const conn = conns.get(m.address.toString());
        if (conn !== undefined) ended(conn, 'ended', true);
      } else if (Timer.is(m) && (m.key.startsWith('retry:') || m.key.startsWith('hold:'))) {
        const id = m.key.slice(m.key.indexOf(':') + 1);
        const match = matches.get(id);
        if (match === undefined) continue;
        if (m.key.startsWith('hold:')) {
          match.holding = false;
          match.holdDone = true;
        }
        reconsider(match);
      } else if (Clear.is(m)) {
        const conn = [...conns.values()].find(
          (c) =>
            c.peer?.equals(m.remote) === true ||
            c.remote?.equals(m.remote) === true ||
            c.key.equals(m.remote),
        );
        if (conn === undefined) continue;
        if (conn.process) {
          self.send(
            conn.key,
            Detach({
              subscriber: conn.attachedAs ?? p.owner,
              publisher: conn.remote ?? conn.key,
              value: m.value,
            }),
          );
          ended(conn, 'closed-by-request', false, m.value);
        } else {
          self.send(conn.key, Close({ value: m.value }));
        }
      } else {
        // A publisher's own message (no session): to the application, reply path intact.
        self.forward(p.owner, m, self.returnAddress);
      }
    }
  } finally {
    finished = true;
    forgetAgent(runtime, p.owner, me);
    unwatchProcess();
    unwatchLink?.();
    unwatchCluster?.();
    for (const conn of conns.values()) {
      if (conn.process) {
        self.send(
          conn.key,
          Detach({
            subscriber: conn.attachedAs ?? p.owner,
            publisher: conn.remote ?? conn.key,
            value: undefined,
          }),
        );
      }
    }
  }
}
