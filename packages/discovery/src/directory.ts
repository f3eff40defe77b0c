/**
 * A directory: the service that matches listings against searches at one scope and tells
 * searchers how to reach what they found. The same actor serves the host scope (one per
 * machine, on a well-known loopback port; every runtime's agents connect to it) and the LAN
 * scope (one per network, at a configured address; host directories connect to it).
 *
 * - Each client connection gets a session that hands its requests (Put, Remove, Find,
 *   Unfind) to the directory together with what the connection proved: the peer's identity
 *   key and address. Listings and searches belong to their connection and go when it goes.
 * - A listing is held in a MemoryRegistry; a search watches it and is answered with Found
 *   and Lost (to the searcher's return address).
 * - With an upstream (a LAN directory, through a DirectoryLink, or any Registry such as the
 *   NATS cluster registry), listings with endpoints beyond this scope are put there too, and
 *   searches for a farther scope watch it too: "listings and searches passed upwards".
 * - A host directory enforces each listing's `allow` list against the searcher's proven key:
 *   a subscriber not allowed is never told about the listing. A LAN directory's clients are
 *   host directories (admit them with `allowedPeerKeys`), which filter for their own
 *   subscribers, so it answers them unfiltered. The publisher's listener checks the key
 *   again on connect, whatever any directory did.
 * - A LAN directory writes the address it sees a host directory at into listings that
 *   leave the host as `0.0.0.0` (ansar's rewrite of a 0.0.0.0 listen).
 */
import {
  Accepted,
  Listening,
  NotListening,
  listen,
  sessionOf,
  type BackoffPolicy,
  type HostPort,
  type IdentityKeyPair,
  type ListenOptions,
  type SessionContext,
} from '@herald/net';
import { Any, Stop, Terminated, type Address, type Runtime, type Self } from '@herald/runtime';
import {
  DEFAULT_HOST_DIRECTORY_PORT,
  DEFAULT_LAN_DIRECTORY_PORT,
  DEFAULT_MAX_LISTINGS,
  DEFAULT_MAX_LISTINGS_PER_CONNECTION,
  DEFAULT_MAX_SEARCHES_PER_CONNECTION,
  MAX_ALLOW,
  MAX_ENDPOINTS,
} from './constants.js';
import { DirectoryLink, nearestScopeBeyond, wireListing } from './directory-link.js';
import { DiscoveryError } from './errors.js';
import { keyToHex } from './keys.js';
import { MemoryRegistry } from './memory-registry.js';
import {
  Find,
  Found,
  FromClient,
  Listed,
  Lost,
  Put,
  Refused,
  Remove,
  Unfind,
  discoveryMessages,
} from './messages.js';
import type { Endpoint, Listing, Registry, Search } from './registry.js';
import { SCOPE_RANK } from './scopes.js';
import { checkName, compileSearch } from './search.js';
import type { DirectoryAddress } from './state.js';

type DirectoryScope = 'host' | 'lan';

export interface DirectoryOptions {
  /** 'host' (default) or 'lan'. */
  readonly scope?: DirectoryScope;
  /** Interface to bind. Default '127.0.0.1' for host, '0.0.0.0' for lan. */
  readonly host?: string;
  /** Port. Default DEFAULT_HOST_DIRECTORY_PORT or DEFAULT_LAN_DIRECTORY_PORT; 0 any free one. */
  readonly port?: number;
  /** The directory's identity key pair (clients can pin it). */
  readonly identity?: IdentityKeyPair;
  /** Client keys that may connect (for a LAN directory: the host directories' keys). */
  readonly allowedPeerKeys?: Iterable<string | Uint8Array>;
  /** Refuse anonymous clients. */
  readonly requirePeerKey?: boolean;
  /** The directory above this one (a host directory's LAN directory). */
  readonly upstream?: DirectoryAddress;
  /** Pin the upstream directory's key. */
  readonly upstreamKey?: string;
  /** An upstream registry instead (the cluster's NATS registry above a LAN directory). */
  readonly upstreamRegistry?: Registry;
  /** Delays between attempts to reach the upstream directory. */
  readonly backoff?: BackoffPolicy;
  readonly maxListings?: number;
  readonly maxListingsPerConnection?: number;
  readonly maxSearchesPerConnection?: number;
  /** More listen() options (limits, keep-alive, allow/deny by address). */
  readonly listen?: Partial<ListenOptions>;
  /** Called once listening, with the real address. */
  readonly onListening?: (at: HostPort) => void;
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
  readonly peerKey: string | undefined;
  readonly peerHost: string;
  readonly listings: Set<string>;
  readonly finds: Map<string, Finding>;
}

/** A directory actor: `runtime.spawn(directory, options)`, or startDirectory(). */
export async function directory(self: Self, options: DirectoryOptions = {}): Promise<unknown> {
  const scope: DirectoryScope = options.scope ?? 'host';
  const host = options.host ?? (scope === 'host' ? '127.0.0.1' : '0.0.0.0');
  const port =
    options.port ?? (scope === 'host' ? DEFAULT_HOST_DIRECTORY_PORT : DEFAULT_LAN_DIRECTORY_PORT);
  const maxListings = options.maxListings ?? DEFAULT_MAX_LISTINGS;
  const perConnListings = options.maxListingsPerConnection ?? DEFAULT_MAX_LISTINGS_PER_CONNECTION;
  const perConnSearches = options.maxSearchesPerConnection ?? DEFAULT_MAX_SEARCHES_PER_CONNECTION;
  self.runtime.catalogue.add(...discoveryMessages);

  listen(
    self,
    { host, port },
    {
      ...options.listen,
      // Directory connections are always encrypted (as ansar's), with or without identities.
      encrypted: true,
      messages: discoveryMessages,
      session: sessionOf(directorySession, self.address),
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(options.allowedPeerKeys === undefined
        ? {}
        : { allowedPeerKeys: options.allowedPeerKeys }),
      ...(options.requirePeerKey === undefined ? {} : { requirePeerKey: options.requirePeerKey }),
    },
  );
  const result = await self.receive(Listening, NotListening, Stop);
  if (Stop.is(result)) return undefined;
  if (NotListening.is(result)) return result;
  options.onListening?.(result.listening);
  const log = self.log.child({ directory: scope });
  log.info({ listening: result.listening }, 'directory listening');

  const local = new MemoryRegistry();
  const ownLink =
    options.upstreamRegistry === undefined && options.upstream !== undefined
      ? new DirectoryLink(self.runtime, options.upstream, {
          identity: options.identity,
          peerKey: options.upstreamKey,
          backoff: options.backoff,
          name: scope,
        })
      : undefined;
  const upstream: Registry | undefined = options.upstreamRegistry ?? ownLink;
  const clients = new Map<string, Client>();
  const owners = new Map<string, Client>();
  const me = self.address;
  const runtime = self.runtime;

  const allowed = (client: Client, listing: Listing): boolean =>
    scope !== 'host' ||
    listing.allow === undefined ||
    (client.peerKey !== undefined && listing.allow.includes(client.peerKey));

  const refuse = (to: Address, id: string, reason: string): void => {
    log.warn({ id, reason }, 'refused a request');
    self.send(to, Refused({ id, reason }));
  };

  const put = (client: Client, replyTo: Address, listing: Listing): void => {
    const owner = owners.get(listing.id);
    if (owner !== undefined && owner !== client) return refuse(replyTo, listing.id, 'id-in-use');
    if (owner === undefined) {
      if (client.listings.size >= perConnListings) return refuse(replyTo, listing.id, 'limit');
      if (local.size >= maxListings) return refuse(replyTo, listing.id, 'limit');
    }
    try {
      checkName(listing.name);
    } catch {
      return refuse(replyTo, listing.id, 'bad-name');
    }
    if (listing.endpoints.length > MAX_ENDPOINTS || (listing.allow?.length ?? 0) > MAX_ALLOW) {
      return refuse(replyTo, listing.id, 'limit');
    }
    if (
      scope === 'host' &&
      listing.identity !== undefined &&
      client.peerKey !== undefined &&
      listing.identity !== client.peerKey
    ) {
      return refuse(replyTo, listing.id, 'identity-mismatch');
    }
    const here = rewrite(listing, scope, client.peerHost);
    owners.set(listing.id, client);
    client.listings.add(listing.id);
    local.putNow(here);
    const beyond = here.endpoints.filter((e) => SCOPE_RANK[e.scope] > SCOPE_RANK[scope]);
    if (upstream !== undefined && beyond.length > 0)
      void upstream.put({ ...here, endpoints: beyond });
  };

  const remove = (client: Client, id: string): void => {
    if (owners.get(id) !== client) return;
    owners.delete(id);
    client.listings.delete(id);
    local.removeNow(id);
    if (upstream !== undefined) void upstream.remove(id);
  };

  const find = (client: Client, replyTo: Address, m: Find): void => {
    if (client.finds.has(m.id)) unfind(client, m.id);
    if (client.finds.size >= perConnSearches) return refuse(replyTo, m.id, 'limit');
    try {
      compileSearch(m.search);
    } catch (error) {
      return refuse(replyTo, m.id, `bad-search: ${(error as Error).message}`);
    }
    const unwatchLocal = local.watch(m.search, (e) => {
      if (!e.listing.endpoints.some((x) => x.scope === scope) || !allowed(client, e.listing))
        return;
      if (e.kind === 'added')
        self.send(replyTo, Found({ find: m.id, scope, listing: wireListing(e.listing) }));
      else self.send(replyTo, Lost({ find: m.id, scope, id: e.listing.id }));
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
      const onEvent = (e: { kind: 'added' | 'removed'; listing: Listing }): void => {
        const at = nearestScopeBeyond(e.listing, scope);
        if (at === undefined) return;
        runtime.send(me, Listed({ watch, kind: e.kind, scope: at, listing: e.listing }));
      };
      finding.unwatchUp =
        upstream instanceof DirectoryLink
          ? upstream.watchScoped(m.search, m.scope, onEvent)
          : upstream.watch(m.search, onEvent);
    }
  };

  const unfind = (client: Client, id: string): void => {
    const finding = client.finds.get(id);
    if (finding === undefined) return;
    client.finds.delete(id);
    finding.unwatchLocal();
    finding.unwatchUp?.();
  };

  const fromUpstream = (m: Listed): void => {
    const bar = m.watch.lastIndexOf('|');
    const client = clients.get(m.watch.slice(0, bar));
    const id = m.watch.slice(bar + 1);
    const finding = client?.finds.get(id);
    if (client === undefined || finding === undefined || m.scope === 'process') return;
    if (SCOPE_RANK[m.scope] > SCOPE_RANK[finding.scope]) return;
    const listing = m.listing as Listing;
    const key = `${m.scope}:${listing.id}`;
    if (m.kind === 'added') {
      if (!allowed(client, listing)) return;
      finding.reportedUp.add(key);
      self.send(
        finding.replyTo,
        Found({ find: id, scope: m.scope, listing: wireListing(listing) }),
      );
    } else if (finding.reportedUp.delete(key)) {
      self.send(finding.replyTo, Lost({ find: id, scope: m.scope, id: listing.id }));
    }
  };

  const gone = (client: Client): void => {
    clients.delete(client.session.toString());
    for (const id of [...client.finds.keys()]) unfind(client, id);
    for (const id of [...client.listings]) remove(client, id);
  };

  try {
    for (;;) {
      const m = await self.receive(Any, Stop);
      if (Stop.is(m)) return undefined;
      if (Accepted.is(m)) {
        if (m.session === undefined) continue;
        clients.set(m.session.toString(), {
          session: m.session,
          peerKey: m.peerKey === undefined ? undefined : keyToHex(m.peerKey),
          peerHost: m.peer.host,
          listings: new Set(),
          finds: new Map(),
        });
        self.watch(m.session);
      } else if (FromClient.is(m)) {
        const client = clients.get(m.session.toString());
        if (client === undefined) continue;
        const request = m.request;
        if (Put.is(request)) put(client, m.replyTo, request.listing);
        else if (Remove.is(request)) remove(client, request.id);
        else if (Find.is(request)) find(client, m.replyTo, request);
        else if (Unfind.is(request)) unfind(client, request.id);
      } else if (Listed.is(m)) {
        fromUpstream(m);
      } else if (Terminated.is(m)) {
        const client = clients.get(m.address.toString());
        if (client !== undefined) gone(client);
      }
    }
  } finally {
    for (const client of [...clients.values()]) gone(client);
    await ownLink?.close();
    await local.close();
  }
}

/** One per client connection: hands each request to the directory with what the connection proved. */
async function directorySession(self: Self, context: SessionContext, core: Address): Promise<void> {
  for (;;) {
    const request = await self.receive(Put, Remove, Find, Unfind);
    self.send(
      core,
      FromClient({
        session: self.address,
        replyTo: self.returnAddress,
        ...(context.peerKey === undefined ? {} : { peerKey: context.peerKey }),
        peerHost: context.peer.host,
        request,
      }),
    );
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

/** A running directory. */
export interface RunningDirectory {
  readonly address: Address;
  readonly listening: HostPort;
  /** Stops the directory (its clients see the connection end). */
  close(): Promise<void>;
}

/** Starts a directory in `runtime` and resolves once it listens (rejects if it cannot). */
export function startDirectory(
  runtime: Runtime,
  options: DirectoryOptions = {},
): Promise<RunningDirectory> {
  return new Promise((resolve, reject) => {
    const address = runtime.spawn(directory, {
      ...options,
      onListening: (listening) => {
        options.onListening?.(listening);
        resolve({
          address,
          listening,
          close: async () => {
            runtime.stop(address);
            await runtime.completion(address);
          },
        });
      },
    });
    void runtime.completion(address).then((value) => {
      reject(
        new DiscoveryError(
          'HERALD_ERR_DIRECTORY_NOT_LISTENING',
          `directory could not start: ${JSON.stringify(value)}`,
        ),
      );
    });
  });
}
