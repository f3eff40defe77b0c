/**
 * A Registry whose listings live in a directory reached over a Herald connection: what an
 * agent uses to reach its host directory, and what a host directory uses to reach the LAN
 * directory above it.
 *
 * One actor keeps the connection (a @herald/net group member: reconnects with the group
 * backoff) and remembers every listing put and every search watched through it. Whenever the
 * connection comes up (again: the directory restarted) it sends them all again, so a
 * directory that restarts gets its listings and searches back without anyone asking. While
 * the connection is down, every listing a search was told about is reported `removed` (the
 * directory can no longer vouch for it) and reported `added` again when the directory does.
 *
 * Registry methods may be called from any actor: they hand the call to the link actor as a
 * message. Watch callbacks run in the link actor's turn and must not block; the callers in
 * this package only send a message from them.
 */
import {
  connectTo,
  createGroup,
  GroupUpdate,
  groupTable,
  NotDelivered as GroupNotDelivered,
  NotReady,
  Ready,
  type BackoffPolicy,
  type IdentityKeyPair,
} from '@herald/net';
import { Any, Stop, type Runtime, type Self } from '@herald/runtime';
import { randomUUID } from 'node:crypto';
import {
  Find,
  Found,
  LinkPut,
  LinkRemove,
  LinkUnwatch,
  LinkWatch,
  Lost,
  Put,
  Refused,
  Remove,
  Unfind,
  discoveryMessages,
} from './messages.js';
import type { Endpoint, Listing, Registry, Search } from './registry.js';
import type { DirectoryAddress } from './state.js';

type WatchEvent = { kind: 'added' | 'removed'; listing: Listing };
type FindScope = Endpoint['scope'];

export interface DirectoryLinkOptions {
  readonly identity?: IdentityKeyPair | undefined;
  /** Pin the directory's key. */
  readonly peerKey?: string | undefined;
  readonly backoff?: BackoffPolicy | undefined;
  /** Shown in logs. */
  readonly name?: string;
}

interface Watching {
  readonly search: Search;
  readonly scope: FindScope;
  readonly onEvent: (e: WatchEvent) => void;
  /** What the directory reported, by `${scope}:${id}`, to take back when it goes away. */
  readonly reported: Map<string, Listing>;
}

/** A Registry over a connection to the directory at `at`. */
export class DirectoryLink implements Registry {
  readonly at: DirectoryAddress;
  readonly #runtime: Runtime;
  readonly #actor;
  readonly #watchers = new Map<string, Watching>();
  #closed = false;

  constructor(runtime: Runtime, at: DirectoryAddress, options: DirectoryLinkOptions = {}) {
    this.at = at;
    this.#runtime = runtime;
    runtime.catalogue.add(...discoveryMessages);
    this.#actor = runtime.spawn(linkActor, at, options, this.#watchers);
  }

  put(listing: Listing): Promise<void> {
    if (!this.#closed) this.#runtime.send(this.#actor, LinkPut({ listing }));
    return Promise.resolve();
  }

  remove(id: string): Promise<void> {
    if (!this.#closed) this.#runtime.send(this.#actor, LinkRemove({ id }));
    return Promise.resolve();
  }

  watch(search: Search, onEvent: (e: WatchEvent) => void): () => void {
    return this.watchScoped(search, 'cluster', onEvent);
  }

  /**
   * Watch up to `scope`: 'host' asks the host directory only, 'lan' lets it pass the search
   * up to the LAN directory, 'cluster' further still.
   */
  watchScoped(search: Search, scope: FindScope, onEvent: (e: WatchEvent) => void): () => void {
    const id = randomUUID();
    this.#watchers.set(id, { search, scope, onEvent, reported: new Map() });
    if (!this.#closed) this.#runtime.send(this.#actor, LinkWatch({ id, search, scope }));
    return () => {
      this.#watchers.delete(id);
      if (!this.#closed) this.#runtime.send(this.#actor, LinkUnwatch({ id }));
    };
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    this.#watchers.clear();
    if (this.#runtime.isAlive(this.#actor)) {
      this.#runtime.stop(this.#actor);
      await this.#runtime.completion(this.#actor);
    }
  }
}

/** Keeps the connection, replays listings and searches on every (re)connect. */
async function linkActor(
  self: Self,
  at: DirectoryAddress,
  options: DirectoryLinkOptions,
  watchers: Map<string, Watching>,
): Promise<void> {
  const listings = new Map<string, Listing>();
  const group = createGroup(
    self,
    groupTable({
      directory: connectTo(at, {
        messages: discoveryMessages,
        encrypted: true,
        bufferLimit: 0,
        ...(options.identity === undefined ? {} : { identity: options.identity }),
        ...(options.peerKey === undefined ? {} : { peerKey: options.peerKey }),
        ...(options.backoff === undefined ? {} : { backoff: options.backoff }),
      }),
    }),
  );
  const log = self.log.child({ directory: `${at.host}:${at.port}` });
  const send = (message: Parameters<Self['send']>[1]): void => {
    if (group.directory !== undefined) self.send(group.directory, message);
  };
  const takeBack = (watching: Watching): void => {
    const gone = [...watching.reported.values()];
    watching.reported.clear();
    for (const listing of gone) watching.onEvent({ kind: 'removed', listing });
  };

  for (;;) {
    const m = await self.receive(Any, Stop);
    if (GroupUpdate.is(m)) {
      group.update(m);
      if (m.address !== undefined) {
        log.info('directory connected: registering listings and searches');
        for (const listing of listings.values()) send(Put({ listing: wireListing(listing) }));
        for (const [id, w] of watchers) send(Find({ id, search: w.search, scope: w.scope }));
      } else {
        log.info('directory connection lost');
        for (const watching of watchers.values()) takeBack(watching);
      }
    } else if (LinkPut.is(m)) {
      const listing = m.listing as Listing;
      listings.set(listing.id, listing);
      send(Put({ listing: wireListing(listing) }));
    } else if (LinkRemove.is(m)) {
      if (listings.delete(m.id)) send(Remove({ id: m.id }));
    } else if (LinkWatch.is(m)) {
      if (watchers.has(m.id)) {
        send(Find({ id: m.id, search: m.search as Search, scope: m.scope }));
      }
    } else if (LinkUnwatch.is(m)) {
      send(Unfind({ id: m.id }));
    } else if (Found.is(m)) {
      const watching = watchers.get(m.find);
      if (watching === undefined) continue;
      const listing = atScope(m.listing as Listing, m.scope);
      watching.reported.set(`${m.scope}:${listing.id}`, listing);
      watching.onEvent({ kind: 'added', listing });
    } else if (Lost.is(m)) {
      const watching = watchers.get(m.find);
      const key = `${m.scope}:${m.id}`;
      const listing = watching?.reported.get(key);
      if (watching === undefined || listing === undefined) continue;
      watching.reported.delete(key);
      watching.onEvent({ kind: 'removed', listing });
    } else if (Refused.is(m)) {
      log.warn({ id: m.id, reason: m.reason }, 'directory refused a listing or search');
    } else if (NotReady.is(m) || Ready.is(m) || GroupNotDelivered.is(m)) {
      // Ready/NotReady repeat what GroupUpdate said; nothing is buffered (bufferLimit 0).
    } else if (Stop.is(m)) {
      for (const watching of watchers.values()) takeBack(watching);
      return;
    }
  }
}

/** The listing as its own plain object (the wire schema takes no extra fields). */
export function wireListing(listing: Listing): Put['listing'] {
  return {
    id: listing.id,
    name: listing.name,
    endpoints: listing.endpoints.map((e) => ({ host: e.host, port: e.port, scope: e.scope })),
    ...(listing.identity === undefined ? {} : { identity: listing.identity }),
    ...(listing.allow === undefined ? {} : { allow: [...listing.allow] }),
    ...(listing.relay === undefined ? {} : { relay: listing.relay }),
  };
}

/** The listing with only its endpoints of `scope`: how it is reached from where it was found. */
export function atScope(listing: Listing, scope: FindScope): Listing {
  return { ...listing, endpoints: listing.endpoints.filter((e) => e.scope === scope) };
}

/** The nearest scope among a listing's endpoints beyond `beyond` (undefined when none). */
export function nearestScopeBeyond(listing: Listing, beyond: FindScope): FindScope | undefined {
  const order: FindScope[] = ['host', 'lan', 'cluster'];
  const from = order.indexOf(beyond) + 1;
  return order.slice(from).find((scope) => listing.endpoints.some((e) => e.scope === scope));
}
