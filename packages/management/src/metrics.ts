/**
 * Prometheus metrics for one runtime through prom-client (an optional peer dependency,
 * loaded only when this is called):
 *
 * | metric | type | labels |
 * | --- | --- | --- |
 * | `herald_messages_delivered_total` | counter | |
 * | `herald_dead_letters_total` | counter | `reason` |
 * | `herald_actors` | gauge | |
 * | `herald_mailbox_queued_messages` | gauge | (sum over actors) |
 * | `herald_mailbox_queued_max` | gauge | (the fullest mailbox) |
 * | `herald_connections` | gauge | `role` |
 * | `herald_connections_congested` | gauge | |
 * | `herald_connection_queued_bytes` | gauge | (sum over connections) |
 * | `herald_connection_bytes_total` | counter | `direction` = in, out |
 * | `herald_connection_messages_total` | counter | `direction` |
 *
 * Every metric carries the constant label `runtime` (the runtime's name). Counts of
 * messages and dead letters come from the diagnostics channels (from registration on);
 * gauges and the connection totals are read from the runtime at each scrape. Connection
 * byte and message totals include connections that have closed: each connection's last
 * counters are kept when it ends (read from the connection as the close is published).
 */
import { createRequire } from 'node:module';
import { connections, type ConnectionInfo } from '@herald/net';
import type { Runtime } from '@herald/runtime';
import type * as PromClient from 'prom-client';
import type { MetricsRegistry } from './inspector-server.js';

/**
 * What registerMetrics needs of a prom-client `Registry`, structurally, so this package's
 * declarations do not import prom-client (an optional peer: a user without it still
 * typechecks). A prom-client Registry is one.
 */
export interface PromRegistry extends MetricsRegistry {
  removeSingleMetric(name: string): void;
}
import { Activity } from './activity.js';
import { ManagementError } from './errors.js';
import diagnostics from 'node:diagnostics_channel';
import { CHANNEL_CONNECTION_CLOSED } from '@herald/net';

export interface MetricsOptions {
  /** Prefix of every metric name. Default `herald_`. */
  readonly prefix?: string;
}

/** What registerMetrics returns: unregister the metrics and stop counting. */
export interface RegisteredMetrics {
  close(): void;
}

/** The metric name prefix unless the options give another. */
export const DEFAULT_METRICS_PREFIX = 'herald_';

function loadPromClient(): typeof PromClient {
  try {
    return createRequire(import.meta.url)('prom-client') as typeof PromClient;
  } catch (error) {
    throw new ManagementError(
      'HERALD_ERR_MANAGEMENT_MISSING_PEER',
      'registerMetrics needs prom-client: npm install prom-client',
      { cause: error },
    );
  }
}

interface Totals {
  bytesIn: number;
  bytesOut: number;
  messagesIn: number;
  messagesOut: number;
}

/**
 * Registers Herald's metrics for `runtime` on `registry` (a prom-client Registry; pass it
 * to openManagement's `metrics` to serve `/metrics`).
 */
export function registerMetrics(
  runtime: Runtime,
  registry: PromRegistry,
  options: MetricsOptions = {},
): RegisteredMetrics {
  const prom = loadPromClient();
  const prefix = options.prefix ?? DEFAULT_METRICS_PREFIX;
  if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(prefix))
    throw new ManagementError(
      'HERALD_ERR_BAD_OPTION',
      `metrics prefix ${JSON.stringify(prefix)} is not a metric name`,
    );
  const activity = new Activity(runtime);
  const labels = { runtime: runtime.name };

  // Totals of connections that have ended, and the last counters of the live ones.
  const retired: Totals = { bytesIn: 0, bytesOut: 0, messagesIn: 0, messagesOut: 0 };
  let seen = new Map<string, ConnectionInfo>();
  const retire = (info: ConnectionInfo) => {
    retired.bytesIn += info.bytesIn;
    retired.bytesOut += info.bytesOut;
    retired.messagesIn += info.messagesIn;
    retired.messagesOut += info.messagesOut;
  };
  const onClosed = (message: unknown) => {
    const m = message as { runtime?: unknown; proxy?: { toString(): string } };
    if (m.runtime !== runtime || m.proxy === undefined) return;
    const key = m.proxy.toString();
    const last = connections(runtime).find((c) => c.address.toString() === key) ?? seen.get(key);
    if (last !== undefined) retire(last);
    seen.delete(key);
  };
  diagnostics.subscribe(CHANNEL_CONNECTION_CLOSED, onClosed);
  /** Live connections now, with the ones that vanished unseen by the channel retired. */
  const live = (): readonly ConnectionInfo[] => {
    const now = connections(runtime);
    const next = new Map(now.map((c) => [c.address.toString(), c] as const));
    for (const [key, info] of seen) if (!next.has(key)) retire(info);
    seen = next;
    return now;
  };

  const names: string[] = [];
  const add = (metric: unknown): void => {
    // Every prom-client metric has its name at run time; its typings do not say so.
    names.push((metric as { name: string }).name);
  };
  // prom-client's own Registry is what callers pass (PromRegistry is its structural outline).
  const registers = [registry as unknown as PromClient.Registry];
  try {
    add(
      new prom.Counter({
        name: `${prefix}messages_delivered_total`,
        help: 'Messages delivered to actors of this runtime',
        registers,
        collect() {
          this.reset();
          this.inc(labels, activity.delivered);
        },
        labelNames: ['runtime'],
      }),
    );
    add(
      new prom.Counter({
        name: `${prefix}dead_letters_total`,
        help: 'Messages that could not be delivered, by reason',
        labelNames: ['runtime', 'reason'],
        registers,
        collect() {
          this.reset();
          for (const [reason, count] of activity.deadLettersBy)
            this.inc({ ...labels, reason }, count);
        },
      }),
    );
    add(
      new prom.Gauge({
        name: `${prefix}actors`,
        help: 'Live actors',
        labelNames: ['runtime'],
        registers,
        collect() {
          this.set(labels, runtime.size);
        },
      }),
    );
    const depth = () => {
      let sum = 0;
      let max = 0;
      for (const actor of runtime.actors()) {
        sum += actor.mailbox;
        if (actor.mailbox > max) max = actor.mailbox;
      }
      return { sum, max };
    };
    add(
      new prom.Gauge({
        name: `${prefix}mailbox_queued_messages`,
        help: 'Messages waiting in mailboxes, summed over actors',
        labelNames: ['runtime'],
        registers,
        collect() {
          this.set(labels, depth().sum);
        },
      }),
    );
    add(
      new prom.Gauge({
        name: `${prefix}mailbox_queued_max`,
        help: 'Messages waiting in the fullest mailbox',
        labelNames: ['runtime'],
        registers,
        collect() {
          this.set(labels, depth().max);
        },
      }),
    );
    add(
      new prom.Gauge({
        name: `${prefix}connections`,
        help: 'Connections, by role',
        labelNames: ['runtime', 'role'],
        registers,
        collect() {
          const all = live();
          for (const role of ['connector', 'acceptor'] as const)
            this.set({ ...labels, role }, all.filter((c) => c.role === role).length);
        },
      }),
    );
    add(
      new prom.Gauge({
        name: `${prefix}connections_congested`,
        help: 'Connections whose outbound buffer is above high water',
        labelNames: ['runtime'],
        registers,
        collect() {
          this.set(labels, live().filter((c) => c.congested).length);
        },
      }),
    );
    add(
      new prom.Gauge({
        name: `${prefix}connection_queued_bytes`,
        help: 'Bytes queued for sockets, summed over connections',
        labelNames: ['runtime'],
        registers,
        collect() {
          this.set(
            labels,
            live().reduce((sum, c) => sum + c.queuedBytes, 0),
          );
        },
      }),
    );
    const totals = (): Totals => {
      const t = { ...retired };
      for (const c of live()) {
        t.bytesIn += c.bytesIn;
        t.bytesOut += c.bytesOut;
        t.messagesIn += c.messagesIn;
        t.messagesOut += c.messagesOut;
      }
      return t;
    };
    add(
      new prom.Counter({
        name: `${prefix}connection_bytes_total`,
        help: 'Bytes received and sent over connections (closed ones included)',
        labelNames: ['runtime', 'direction'],
        registers,
        collect() {
          const t = totals();
          this.reset();
          this.inc({ ...labels, direction: 'in' }, t.bytesIn);
          this.inc({ ...labels, direction: 'out' }, t.bytesOut);
        },
      }),
    );
    add(
      new prom.Counter({
        name: `${prefix}connection_messages_total`,
        help: 'Messages received and sent over connections (closed ones included)',
        labelNames: ['runtime', 'direction'],
        registers,
        collect() {
          const t = totals();
          this.reset();
          this.inc({ ...labels, direction: 'in' }, t.messagesIn);
          this.inc({ ...labels, direction: 'out' }, t.messagesOut);
        },
      }),
    );
  } catch (error) {
    for (const name of names) registry.removeSingleMetric(name);
    diagnostics.unsubscribe(CHANNEL_CONNECTION_CLOSED, onClosed);
    activity.close();
    throw new ManagementError(
      'HERALD_ERR_BAD_OPTION',
      `cannot register Herald's metrics on this registry (already registered? give another prefix): ${error instanceof Error ? error.message : String(error)}`,
      { cause: error },
    );
  }
  return {
    close() {
      for (const name of names) registry.removeSingleMetric(name);
      diagnostics.unsubscribe(CHANNEL_CONNECTION_CLOSED, onClosed);
      activity.close();
    },
  };
}
