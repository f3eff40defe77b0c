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
} from './constants.js';
import { DirectoryLink } from './directory-link.js';
import { DirectoryTable, type DirectoryScope } from './directory-table.js';
import { DiscoveryError } from './errors.js';
import { keyToHex } from './keys.js';
import { Find, FromClient, Listed, Put, Remove, Unfind, discoveryMessages } from './messages.js';
import type { Registry } from './registry.js';
import type { DirectoryAddress } from './state.js';

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

/** A directory actor: `runtime.spawn(directory, options)`, or startDirectory(). */
export async function directory(self: Self, options: DirectoryOptions = {}): Promise<unknown> {
  const scope: DirectoryScope = options.scope ?? 'host';
  const host = options.host ?? (scope === 'host' ? '127.0.0.1' : '0.0.0.0');
  const port =
    options.port ?? (scope === 'host' ? DEFAULT_HOST_DIRECTORY_PORT : DEFAULT_LAN_DIRECTORY_PORT);
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

  const ownLink =
    options.upstreamRegistry === undefined && options.upstream !== undefined
      ? new DirectoryLink(self.runtime, options.upstream, {
          identity: options.identity,
          peerKey: options.upstreamKey,
          backoff: options.backoff,
          name: scope,
        })
      : undefined;
  const me = self.address;
  const runtime = self.runtime;
  const table = new DirectoryTable({
    scope,
    maxListings: options.maxListings ?? DEFAULT_MAX_LISTINGS,
    maxListingsPerConnection:
      options.maxListingsPerConnection ?? DEFAULT_MAX_LISTINGS_PER_CONNECTION,
    maxSearchesPerConnection:
      options.maxSearchesPerConnection ?? DEFAULT_MAX_SEARCHES_PER_CONNECTION,
    upstream: options.upstreamRegistry ?? ownLink,
    send: (to, message) => self.send(to, message),
    refused: (id, reason) => log.warn({ id, reason }, 'refused a request'),
    upstreamEvent: (watch, e, at) => {
      runtime.send(me, Listed({ watch, kind: e.kind, scope: at, listing: e.listing }));
    },
  });

  try {
    for (;;) {
      const m = await self.receive(Any, Stop);
      if (Stop.is(m)) return undefined;
      if (Accepted.is(m)) {
        if (m.session === undefined) continue;
        const key = m.peerKey === undefined ? undefined : keyToHex(m.peerKey);
        table.addClient(m.session, key, m.peer.host);
        self.watch(m.session);
      } else if (FromClient.is(m)) {
        table.request(m.session, m.replyTo, m.request);
      } else if (Listed.is(m)) {
        table.fromUpstream(m);
      } else if (Terminated.is(m)) {
        table.gone(m.address);
      }
    }
  } finally {
    await table.close();
    await ownLink?.close();
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
