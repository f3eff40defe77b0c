/**
 * A directory's bookkeeping, apart from its actor (directory.ts): who its clients are and
 * what each proved, which listings and searches each holds (and their bounds), the matching
 * itself (a MemoryRegistry), what goes to the upstream registry, and what the searchers are
 * told. The actor feeds it requests and upstream events in its own turn; the table answers
 * through `send`.
 */
import type { Address, AnyMessage } from '@herald/runtime';
import { MAX_ALLOW, MAX_ENDPOINTS } from './constants.js';
import { DirectoryLink, nearestScopeBeyond, wireListing } from './directory-link.js';
import { MemoryRegistry } from './memory-registry.js';
import { Find, Found, Lost, Put, Refused, Remove, Unfind, type Listed } from './messages.js';
import type { Endpoint, Listing, Registry, Search } from './registry.js';
import { SCOPE_RANK } from './scopes.js';
import { checkName, compileSearch } from './search.js';

export type DirectoryScope = 'host' | 'lan';
type WatchEvent = { kind: 'added' | 'removed'; listing: Listing };

export interface DirectoryTableOptions {
  readonly scope: DirectoryScope;
  readonly maxListings: number;
  readonly maxListingsPerConnection: number;
  readonly maxSearchesPerConnection: number;
  readonly upstream: Registry | undefined;
  /** Sends from the directory actor. */
  readonly send: (to: Address, message: AnyMessage) => void;
  /** A request was refused (for the log). */
  readonly refused: (id: string, reason: string) => void;
  /**
   * An upstream registry reported a listing for the search `watch`: called from whatever
   * context the registry calls back in; the actor hands it back to fromUpstream() in its turn.
   */
  readonly upstreamEvent: (watch: string, event: WatchEvent, scope: Endpoint['scope']) => void;
}

interface Finding {
  readonly replyTo: Address;
  readonly scope: Endpoint['scope'];
  readonly search: Search;
  readonly unwatchLocal: () => void;
  unwatchUp: (() => void) | undefined;
  /** What was reported from upstream, by `${scope}:${id}`. */
  readonly reportedUp: Set<string>;
}

interface Client {
  readonly session: Address;
  /** The key the connection proved (hex), or undefined for an anonymous client. */
  readonly peerKey: string | undefined;
  readonly peerHost: string;
  readonly listings: Set<string>;
  readonly finds: Map<string, Finding>;
}

export class DirectoryTable {
  readonly #o: DirectoryTableOptions;
  readonly #local = new MemoryRegistry();
  readonly #clients = new Map<string, Client>();
  readonly #owners = new Map<string, Client>();

  constructor(options: DirectoryTableOptions) {
    this.#o = options;
  }

  /** A client connected (its session) having proved `peerKey` (hex) from `peerHost`. */
  addClient(session: Address, peerKey: string | undefined, peerHost: string): void {
    this.#clients.set(session.toString(), {
      session,
      peerKey,
      peerHost,
      listings: new Set(),
      finds: new Map(),
    });
  }

  /** A client's request (Put, Remove, Find, Unfind); `replyTo` is its return address. */
  request(session: Address, replyTo: Address, request: unknown): void {
    const client = this.#clients.get(session.toString());
    if (client === undefined) return;
    if (Put.is(request)) this.#put(client, replyTo, request.listing);
    else if (Remove.is(request)) this.#remove(client, request.id);
    else if (Find.is(request)) this.#find(client, replyTo, request);
    else if (Unfind.is(request)) this.#unfind(client, request.id);
  }

  /** A client's connection ended: its listings and searches go. */
  gone(session: Address): void {
    const client = this.#clients.get(session.toString());
    if (client === undefined) return;
    this.#clients.delete(session.toString());
    for (const id of [...client.finds.keys()]) this.#unfind(client, id);
    for (const id of [...client.listings]) this.#remove(client, id);
  }

  /** An upstream event handed back by the actor (see `upstreamEvent`). */
  fromUpstream(m: Listed): void {
    const bar = m.watch.lastIndexOf('|');
    const client = this.#clients.get(m.watch.slice(0, bar));
    const id = m.watch.slice(bar + 1);
    const finding = client?.finds.get(id);
    if (client === undefined || finding === undefined || m.scope === 'process') return;
    if (SCOPE_RANK[m.scope] > SCOPE_RANK[finding.scope]) return;
    const listing = m.listing as Listing;
    const key = `${m.scope}:${listing.id}`;
    if (m.kind === 'added') {
      if (!this.#allowed(client, listing)) return;
      finding.reportedUp.add(key);
      this.#o.send(
        finding.replyTo,
        Found({ find: id, scope: m.scope, listing: wireListing(listing) }),
      );
    } else if (finding.reportedUp.delete(key)) {
      this.#o.send(finding.replyTo, Lost({ find: id, scope: m.scope, id: listing.id }));
    }
  }

  async close(): Promise<void> {
    for (const client of [...this.#clients.values()]) this.gone(client.session);
    await this.#local.close();
  }

  /**
   * A host directory shows a listing only to the keys in its `allow`; a LAN directory's
   * clients are host directories, which filter for their own clients.
   */
  #allowed(client: Client, listing: Listing): boolean {
    return (
      this.#o.scope !== 'host' ||
      listing.allow === undefined ||
      (client.peerKey !== undefined && listing.allow.includes(client.peerKey))
    );
  }

  #refuse(to: Address, id: string, reason: string): void {
    this.#o.refused(id, reason);
    this.#o.send(to, Refused({ id, reason }));
  }

  #put(client: Client, replyTo: Address, listing: Listing): void {
    const { scope, upstream } = this.#o;
    const owner = this.#owners.get(listing.id);
    if (owner !== undefined && owner !== client) {
      return this.#refuse(replyTo, listing.id, 'id-in-use');
    }
    if (owner === undefined) {
      if (client.listings.size >= this.#o.maxListingsPerConnection) {
        return this.#refuse(replyTo, listing.id, 'limit');
      }
      if (this.#local.size >= this.#o.maxListings) {
        return this.#refuse(replyTo, listing.id, 'limit');
      }
    }
    try {
      checkName(listing.name);
    } catch {
      return this.#refuse(replyTo, listing.id, 'bad-name');
    }
    if (listing.endpoints.length > MAX_ENDPOINTS || (listing.allow?.length ?? 0) > MAX_ALLOW) {
      return this.#refuse(replyTo, listing.id, 'limit');
    }
    if (
      scope === 'host' &&
      listing.identity !== undefined &&
      client.peerKey !== undefined &&
      listing.identity !== client.peerKey
    ) {
      return this.#refuse(replyTo, listing.id, 'identity-mismatch');
    }
    const here = rewrite(listing, scope, client.peerHost);
    this.#owners.set(listing.id, client);
    client.listings.add(listing.id);
    this.#local.putNow(here);
    const beyond = here.endpoints.filter((e) => SCOPE_RANK[e.scope] > SCOPE_RANK[scope]);
    if (upstream !== undefined && beyond.length > 0) {
      void upstream.put({ ...here, endpoints: beyond });
    }
  }

  #remove(client: Client, id: string): void {
    if (this.#owners.get(id) !== client) return;
    this.#owners.delete(id);
    client.listings.delete(id);
    this.#local.removeNow(id);
    if (this.#o.upstream !== undefined) void this.#o.upstream.remove(id);
  }

  #find(client: Client, replyTo: Address, m: Find): void {
    const { scope, upstream } = this.#o;
    if (client.finds.has(m.id)) this.#unfind(client, m.id);
    if (client.finds.size >= this.#o.maxSearchesPerConnection) {
      return this.#refuse(replyTo, m.id, 'limit');
    }
    try {
      compileSearch(m.search);
    } catch (error) {
      return this.#refuse(replyTo, m.id, `bad-search: ${(error as Error).message}`);
    }
    const unwatchLocal = this.#local.watch(m.search, (e) => {
      const reachable = e.listing.endpoints.some((x) => x.scope === scope);
      if (!reachable || !this.#allowed(client, e.listing)) return;
      if (e.kind === 'added') {
        this.#o.send(replyTo, Found({ find: m.id, scope, listing: wireListing(e.listing) }));
      } else {
        this.#o.send(replyTo, Lost({ find: m.id, scope, id: e.listing.id }));
      }
    });
    const finding: Finding = {
      replyTo,
      scope: m.scope,
      search: m.search,
      unwatchLocal,
      unwatchUp: undefined,
      reportedUp: new Set(),
    };
    client.finds.set(m.id, finding);
    if (upstream !== undefined && SCOPE_RANK[m.scope] > SCOPE_RANK[scope]) {
      const watch = `${client.session.toString()}|${m.id}`;
      const onEvent = (e: WatchEvent): void => {
        const at = nearestScopeBeyond(e.listing, scope);
        if (at !== undefined) this.#o.upstreamEvent(watch, e, at);
      };
      finding.unwatchUp =
        upstream instanceof DirectoryLink
          ? upstream.watchScoped(m.search, m.scope, onEvent)
          : upstream.watch(m.search, onEvent);
    }
  }

  #unfind(client: Client, id: string): void {
    const finding = client.finds.get(id);
    if (finding === undefined) return;
    client.finds.delete(id);
    finding.unwatchLocal();
    finding.unwatchUp?.();
  }
}

/**
 * The listing as this directory holds it: a LAN directory keeps only the endpoints for lan
 * and beyond and writes the client's address into those left as 0.0.0.0 / ::.
 */
function rewrite(listing: Listing, scope: DirectoryScope, peerHost: string): Listing {
  if (scope === 'host') return listing;
  const endpoints = listing.endpoints
    .filter((e) => SCOPE_RANK[e.scope] >= SCOPE_RANK.lan)
    .map((e) => (e.host === '0.0.0.0' || e.host === '::' ? { ...e, host: unmapped(peerHost) } : e));
  return { ...listing, endpoints };
}

function unmapped(host: string): string {
  return host.startsWith('::ffff:') ? host.slice('::ffff:'.length) : host;
}
