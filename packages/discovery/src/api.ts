/**
 * publish(), subscribe(), retract(), clear(): the discovery calls. Each returns at once;
 * everything that follows arrives as a message (messages.ts, docs/discovery.md).
 */
import type { AnyMessageType } from '@herald/codec';
import type { ConnectOptions, ListenOptions, SessionFrame } from '@herald/net';
import { withOptions, type Address, type Self, type WithOptions } from '@herald/runtime';
import { MAX_ALLOW } from './constants.js';
import { DiscoveryError } from './errors.js';
import { keyToHex } from './keys.js';
import { Clear, SCOPES, type Available, type Delivered, type Scope } from './messages.js';
import { publishingAgent } from './publisher.js';
import { checkName, describeSearch, toSearch, type SearchInput } from './search.js';
import { stateOf } from './state.js';
import { subscribingAgent } from './subscriber.js';

/** The scope publish() and subscribe() use when none is given. */
export const DEFAULT_SCOPE: Scope = 'host';

export interface PublishOptions {
  /**
   * How far the listing goes: 'process' (this runtime only, no socket), 'host' (the host
   * directory; the listener binds loopback), 'lan' (also the LAN directory; the listener
   * binds 0.0.0.0), 'cluster' (also the cluster registry). Default 'host'.
   */
  readonly scope?: Scope;
  /**
   * Identity keys (`herald-x25519:…`, hex, or 32 bytes) that may subscribe. Directories show
   * the listing only to them, and the publisher's listener admits only them (a subscriber
   * needs an identity: configureDiscovery). Default: anyone.
   */
  readonly allow?: Iterable<string | Uint8Array>;
  /** A session actor per subscriber (network routes), as for listen(). */
  readonly session?: SessionFrame;
  /** Message types the routes carry (added to the runtime's catalogue). */
  readonly messages?: readonly AnyMessageType[];
  /** Interface the listener binds. Default '127.0.0.1', or '0.0.0.0' for lan and cluster. */
  readonly listenHost?: string;
  /**
   * The address others reach this listener at (lan, cluster). Default: for lan, the
   * address the LAN directory sees this host at; for cluster, the first non-internal IPv4.
   */
  readonly advertiseHost?: string;
  /** More listen() options for the publisher's listener (keep-alive, limits, ...). */
  readonly listen?: Partial<ListenOptions>;
}

export interface SubscribeOptions {
  /** How far to search: 'process', 'host', 'lan' or 'cluster'. Default 'host'. */
  readonly scope?: Scope;
  /** A session actor per matched service (network routes), as for connect(). */
  readonly session?: SessionFrame;
  /** Message types the routes carry (added to the runtime's catalogue). */
  readonly messages?: readonly AnyMessageType[];
  /** More connect() options for the routes (keep-alive, timeouts, ...). */
  readonly connect?: Partial<ConnectOptions>;
}

/**
 * Makes `self` available as `name`: listens on an ephemeral port and lists it with the
 * directories up to `options.scope`. Returns the publishing agent's address. `self` gets
 * Published (or NotPublished), then Delivered for each subscriber that reaches it, and
 * Cleared / Dropped as routes end.
 */
export function publish(self: Self, name: string, options: PublishOptions = {}): Address {
  checkName(name);
  const scope = checkScope(options.scope);
  stateOf(self.runtime);
  let allow: string[] | undefined;
  if (options.allow !== undefined) {
    allow = [...options.allow].map(keyToHex);
    if (allow.length > MAX_ALLOW) {
      throw new DiscoveryError('HERALD_ERR_BAD_OPTION', `allow holds at most ${MAX_ALLOW} keys`);
    }
  }
  return remember(self, withOptions(publishingAgent, { name: `publish ${name}` }), {
    owner: self.address,
    name,
    scope,
    allow,
    session: options.session,
    messages: options.messages,
    listenHost: options.listenHost,
    advertiseHost: options.advertiseHost,
    listen: options.listen,
  });
}

/**
 * Asks for every service whose name matches `search` (a name, a RegExp matched against the
 * whole name, or `{ kind: 'exact' | 'glob' | 'regex', pattern }`) up to `options.scope`.
 * Returns the subscribing agent's address. `self` gets Subscribed, then Available for each
 * match (the return address is the peer), NotAvailable when it can no longer be reached,
 * and Cleared / Dropped as routes end. Throws `HERALD_ERR_BAD_SEARCH` for a refused search.
 */
export function subscribe(
  self: Self,
  search: SearchInput,
  options: SubscribeOptions = {},
): Address {
  const compiled = toSearch(search);
  const scope = checkScope(options.scope);
  stateOf(self.runtime);
  return remember(
    self,
    withOptions(subscribingAgent, { name: `subscribe ${describeSearch(compiled)}` }),
    {
      owner: self.address,
      search: compiled,
      scope,
      session: options.session,
      messages: options.messages,
      connect: options.connect,
    },
  );
}

/**
 * Ends a publication or subscription (`agent`: the address publish() or subscribe()
 * returned, or `Published.agent` / `Subscribed.agent`): the listing is withdrawn, every
 * route it opened is closed. Without `agent`, ends every one `self` started.
 */
export function retract(self: Self, agent?: Address): void {
  if (agent !== undefined) {
    self.stop(agent);
    return;
  }
  const key = self.address.toString();
  const state = stateOf(self.runtime);
  for (const started of state.agentsOf.get(key) ?? []) self.stop(started);
  state.agentsOf.delete(key);
}

/**
 * Ends one route: the one an Available or Delivered announced. This side gets Cleared (with
 * `value`), the other side Dropped. A subscriber does not reopen a route it cleared.
 */
export function clear(self: Self, route: Available | Delivered, value?: unknown): void {
  self.send(route.agent, Clear({ remote: route.remote, value }));
}

/** Spawns an agent as a child of `self` and records it for retract(self). */
function remember<P>(
  self: Self,
  behavior: WithOptions<(self: Self, params: P) => Promise<unknown>>,
  params: P,
): Address {
  const agent = self.spawn(behavior, params);
  const state = stateOf(self.runtime);
  const key = self.address.toString();
  const live = (state.agentsOf.get(key) ?? []).filter((a) => self.runtime.isAlive(a));
  live.push(agent);
  state.agentsOf.set(key, live);
  return agent;
}

function checkScope(scope: Scope | undefined): Scope {
  if (scope === undefined) return DEFAULT_SCOPE;
  if (!SCOPES.includes(scope)) {
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      `scope must be one of ${SCOPES.join(', ')}, got ${JSON.stringify(scope)}`,
    );
  }
  return scope;
}
