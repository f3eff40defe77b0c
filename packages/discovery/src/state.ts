/**
 * Per-runtime discovery state: the configuration, the process directory, and the links to
 * directories, held in a WeakMap keyed by runtime: no global state, and two runtimes in one
 * process (tests) never see each other's process-scope listings.
 */
import type { Address, Runtime } from '@herald/runtime';
import type { BackoffPolicy, IdentityKeyPair } from '@herald/net';
import { validateBackoffPolicy } from '@herald/net/internal';
import {
  DEFAULT_HOST_DIRECTORY_PORT,
  DEFAULT_PROMOTION_HOLD_MS,
  DEFAULT_ROUTE_RETRY_MS,
} from './constants.js';
import { DiscoveryError } from './errors.js';
import { keyToHex } from './keys.js';
import { MemoryRegistry } from './memory-registry.js';
import { discoveryMessages } from './messages.js';
import type { Registry } from './registry.js';
import { DirectoryLink } from './directory-link.js';
import { openClusterScope, type ClusterOptions, type ClusterScope } from './cluster-scope.js';

/** Where a directory listens. */
export interface DirectoryAddress {
  readonly host: string;
  readonly port: number;
}

/** How a runtime publishes and subscribes: `configureDiscovery(runtime, options)`. */
export interface DiscoveryOptions {
  /**
   * The host directory. Default `127.0.0.1:DEFAULT_HOST_DIRECTORY_PORT`, or the
   * `HERALD_DIRECTORY` environment variable (`host:port`) when set.
   */
  readonly directory?: DirectoryAddress;
  /**
   * This runtime's identity key pair: proven to directories, to subscribers (a publisher's
   * listener) and to publishers (a subscriber's connections). Needed to be admitted by a
   * listing's `allow` list.
   */
  readonly identity?: IdentityKeyPair;
  /** Pin the host directory's key (`herald-x25519:…`): any other directory is refused. */
  readonly directoryKey?: string;
  /** Delays between attempts to reach the directory. Default: by its address's scope (@herald/net groups). */
  readonly backoff?: BackoffPolicy;
  /** How long a subscriber waits on a farther route before moving to a nearer one. */
  readonly promotionHoldMs?: number;
  /** How long a route that failed to connect is left alone before it is tried again. */
  readonly routeRetryMs?: number;
  /**
   * Cluster scope: NATS settings (`{ servers: 'nats://...' }`, any createNatsRegistry
   * option, `relay: false` to go without the relay route), or a factory for another
   * Registry. Publishers at scope 'cluster' put their listings there, subscribers at scope
   * 'cluster' watch it. Without it, 'cluster' is served only through the directories above
   * this runtime (a LAN directory started with `--nats`).
   */
  readonly cluster?: ClusterOptions;
}

export interface ResolvedOptions {
  readonly directory: DirectoryAddress;
  readonly identity: IdentityKeyPair | undefined;
  /** Hex of identity's public key. */
  readonly identityHex: string | undefined;
  readonly directoryKey: string | undefined;
  readonly backoff: BackoffPolicy | undefined;
  readonly promotionHoldMs: number;
  readonly routeRetryMs: number;
  readonly cluster: ClusterOptions | undefined;
}

export interface DiscoveryState {
  options: ResolvedOptions;
  /** The process directory. */
  readonly processRegistry: MemoryRegistry;
  /** Publishing agent of each process-scope listing. */
  readonly processAgents: Map<string, Address>;
  /** One link per directory address (`host:port`), shared by every agent of the runtime. */
  readonly links: Map<string, Registry>;
  /** The cluster scope, once something asked for it. */
  cluster: Promise<ClusterScope> | undefined;
  /** Agents each actor started (by its address), for retract(self). */
  readonly agentsOf: Map<string, Address[]>;
}

const states = new WeakMap<Runtime, DiscoveryState>();

/** Sets how `runtime` publishes and subscribes. Call before the first publish/subscribe. */
export function configureDiscovery(runtime: Runtime, options: DiscoveryOptions): void {
  const state = stateOf(runtime);
  if (state.links.size > 0 || state.cluster !== undefined) {
    // The links already connected with the old identity and address: refuse, do not ignore.
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      'configureDiscovery must come before the first publish() or subscribe() beyond process scope',
    );
  }
  state.options = resolve(options);
}

/** An agent ended: retract(owner) need not stop it any more. */
export function forgetAgent(runtime: Runtime, owner: Address, agent: Address): void {
  const state = stateOf(runtime);
  const key = owner.toString();
  const left = (state.agentsOf.get(key) ?? []).filter((a) => !a.equals(agent));
  if (left.length === 0) state.agentsOf.delete(key);
  else state.agentsOf.set(key, left);
}

export function stateOf(runtime: Runtime): DiscoveryState {
  let state = states.get(runtime);
  if (state === undefined) {
    runtime.catalogue.add(...discoveryMessages);
    const processRegistry = new MemoryRegistry();
    state = {
      options: resolve({}),
      processRegistry,
      processAgents: new Map(),
      links: new Map(),
      agentsOf: new Map(),
      cluster: undefined,
    };
    const links = state.links;
    const current = state;
    runtime.onClose(async () => {
      await Promise.all([...links.values()].map((link) => link.close()));
      await current.cluster?.then((scope) => scope.close()).catch(() => undefined);
      await processRegistry.close();
    });
    states.set(runtime, state);
  }
  return state;
}

function resolve(options: DiscoveryOptions): ResolvedOptions {
  const directory = options.directory ?? directoryFromEnvironment();
  if (
    typeof directory.host !== 'string' ||
    !Number.isInteger(directory.port) ||
    directory.port < 0 ||
    directory.port > 65_535
  ) {
    throw new DiscoveryError('HERALD_ERR_BAD_OPTION', `directory must be { host, port }`);
  }
  if (options.backoff !== undefined) validateBackoffPolicy(options.backoff);
  for (const key of ['promotionHoldMs', 'routeRetryMs'] as const) {
    const value = options[key];
    if (value !== undefined && (!Number.isFinite(value) || value < 0)) {
      throw new DiscoveryError('HERALD_ERR_BAD_OPTION', `${key} must be a number of ms >= 0`);
    }
  }
  return {
    directory,
    identity: options.identity,
    identityHex: options.identity === undefined ? undefined : keyToHex(options.identity.publicKey),
    directoryKey: options.directoryKey,
    backoff: options.backoff,
    promotionHoldMs: options.promotionHoldMs ?? DEFAULT_PROMOTION_HOLD_MS,
    routeRetryMs: options.routeRetryMs ?? DEFAULT_ROUTE_RETRY_MS,
    cluster: options.cluster,
  };
}

/** `HERALD_DIRECTORY=host:port`, else the loopback default. */
export function directoryFromEnvironment(): DirectoryAddress {
  const text = process.env['HERALD_DIRECTORY'];
  if (text !== undefined && text !== '') return parseHostPort(text);
  return { host: '127.0.0.1', port: DEFAULT_HOST_DIRECTORY_PORT };
}

/** `host:port` (or `[v6]:port`) to an address; throws HERALD_ERR_BAD_OPTION. */
export function parseHostPort(text: string): DirectoryAddress {
  const match = /^\[?([^\]]*?)\]?:(\d{1,5})$/u.exec(text);
  const port = Number(match?.[2]);
  if (match === null || match[1] === '' || port > 65_535) {
    throw new DiscoveryError('HERALD_ERR_BAD_OPTION', `not host:port: ${JSON.stringify(text)}`);
  }
  return { host: match[1]!, port };
}

/**
 * The runtime's link to the directory at `at` (its host directory unless told otherwise),
 * made on first use and shared by every agent of the runtime: one connection per directory.
 */
export function linkFor(runtime: Runtime, at?: DirectoryAddress): DirectoryLink {
  const state = stateOf(runtime);
  const where = at ?? state.options.directory;
  const key = `${where.host}:${where.port}`;
  let link = state.links.get(key) as DirectoryLink | undefined;
  if (link === undefined) {
    const { identity, directoryKey, backoff } = state.options;
    link = new DirectoryLink(runtime, where, { identity, peerKey: directoryKey, backoff });
    state.links.set(key, link);
  }
  return link;
}

/**
 * The runtime's cluster scope (made on first use), or undefined when none is configured. A
 * failure to reach NATS is logged and retried on the next call.
 */
export function clusterFor(runtime: Runtime): Promise<ClusterScope> | undefined {
  const state = stateOf(runtime);
  const options = state.options.cluster;
  if (options === undefined) return undefined;
  if (state.cluster === undefined) {
    const opening = openClusterScope(runtime, options);
    state.cluster = opening;
    opening.catch((error: unknown) => {
      runtime.logger.warn({ err: error }, 'cluster scope unavailable');
      if (state.cluster === opening) state.cluster = undefined;
    });
  }
  return state.cluster;
}
