/**
 * The cluster scope of one runtime: the NATS registry its agents put listings in and watch
 * (createNatsRegistry, src/cluster/), and the relay transport (natsRelayTransport) through
 * which a publisher can also be reached when no direct connection opens. Made on first use
 * from `configureDiscovery(runtime, { cluster })`, closed with the runtime.
 */
import { randomBytes } from 'node:crypto';
import type { Runtime } from '@herald/runtime';
import { connect as natsConnect, type NatsConnection } from 'nats';
import {
  createNatsRegistry,
  natsRelayTransport,
  type NatsRegistryOptions,
  type NatsRelayTransport,
} from './cluster/index.js';
import type { Registry } from './registry.js';

/** The subject prefix of every runtime's relay transport (then 16 random hex digits). */
export const RELAY_PREFIX = /^herald\.relay\./u;

/** `configureDiscovery(runtime, { cluster })`: NATS settings, or a factory for any registry. */
export type ClusterOptions =
  | (NatsRegistryOptions & {
      /**
       * Offer and use the relay route through NATS subjects (publishers listen on it too;
       * subscribers try it when the direct connection fails). Default true.
       */
      readonly relay?: boolean;
    })
  | (() => Promise<Registry>);

export interface ClusterScope {
  readonly registry: Registry;
  /** The relay transport, when the relay route is on. */
  readonly relay: NatsRelayTransport | undefined;
  close(): Promise<void>;
}

/** Connects the cluster scope (rejects when NATS cannot be reached or set up). */
export async function openClusterScope(
  runtime: Runtime,
  options: ClusterOptions,
): Promise<ClusterScope> {
  if (typeof options === 'function') {
    const registry = await options();
    return { registry, relay: undefined, close: () => registry.close() };
  }
  let nc: NatsConnection | undefined = options.connection;
  const own = nc === undefined;
  if (nc === undefined) {
    const servers = options.servers ?? [];
    nc = await natsConnect({
      servers: typeof servers === 'string' ? servers : [...servers],
      maxReconnectAttempts: -1,
      name: `herald ${runtime.name}`,
    });
  }
  const connection = nc;
  const registry = await createNatsRegistry({ ...options, connection });
  const relay =
    options.relay === false
      ? undefined
      : natsRelayTransport(connection, `herald.relay.${randomBytes(8).toString('hex')}`);
  return {
    registry,
    relay,
    close: async () => {
      await registry.close();
      await relay?.close();
      if (own) await connection.close();
    },
  };
}
