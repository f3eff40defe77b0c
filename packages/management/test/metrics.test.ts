/**
 * Prometheus metrics: registerMetrics fills a prom-client registry from a runtime's
 * diagnostics channels and introspection, served on the endpoint's /metrics with the
 * token; connection totals survive the connection's end.
 */
import { Address, defineMessage, t } from '@herald/codec';
import { Connected, connect, connections, disconnect } from '@herald/net';
import { withOptions, type Self } from '@herald/runtime';
import {
  Hello,
  Welcome,
  closeTestRuntimes,
  testMessages,
  testRuntime,
  waitFor,
  welcomingServer,
} from '@herald/testing';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import {
  ManagementError,
  openManagement,
  registerMetrics,
  type ManagementEndpoint,
  type RegisteredMetrics,
} from '../src/index.js';

const Tick = defineMessage('test.Tick', { n: t.int() });
const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) await c();
  await closeTestRuntimes();
});

/** The value of one sample line of the exposition text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('registerMetrics', () => {
  it('counts messages, dead letters, actors, queue depth, connections and bytes, served on /metrics', async () => {
    const rt = testRuntime({ name: 'm', messages: [Tick, ...testMessages] });
    const registry = new Registry();
    const metrics: RegisteredMetrics = registerMetrics(rt, registry);
    cleanups.push(() => metrics.close());
    const endpoint: ManagementEndpoint = await openManagement(rt, { metrics: registry });
    cleanups.push(() => endpoint.close());

    const { port } = await welcomingServer(rt);
    const client = testRuntime({ name: 'c' });
    client.spawn(
      withOptions(
        async (self: Self) => {
          connect(self, { host: '127.0.0.1', port });
          const { remote } = await self.receive(Connected);
          for (let i = 0; i < 5; i++) await self.ask(remote, Hello({ myName: 'c' }), Welcome);
          await self.receive(Tick);
        },
        { name: 'client' },
      ),
    );
    // A worker busy elsewhere that does not read: its mailbox is the queue depth.
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    cleanups.push(() => release());
    const idle = rt.spawn(withOptions(async () => busy, { name: 'idle' }));
    for (let n = 0; n < 7; n++) rt.send(idle, Tick({ n }));
    rt.send(new Address([999_999]), Tick({ n: 0 })); // no such actor
    await waitFor(() => connections(rt).some((c) => c.messagesIn >= 5), { what: 'five hellos' });

    const scrape = async () => {
      const res = await fetch(new URL('/metrics', endpoint.url), {
        headers: { authorization: `Bearer ${endpoint.token}` },
      });
      expect(res.status).toBe(200);
      expect(res.headers.get('content-type')).toContain('text/plain');
      return res.text();
    };
    const text = await scrape();
    expect(sample(text, 'herald_messages_delivered_total{runtime="m"}')).toBeGreaterThanOrEqual(12);
    expect(sample(text, 'herald_dead_letters_total{runtime="m",reason="no-such-actor"}')).toBe(1);
    expect(sample(text, 'herald_actors{runtime="m"}')).toBe(rt.size);
    expect(sample(text, 'herald_mailbox_queued_max{runtime="m"}')).toBe(7);
    expect(sample(text, 'herald_mailbox_queued_messages{runtime="m"}')).toBeGreaterThanOrEqual(7);
    expect(sample(text, 'herald_connections{runtime="m",role="acceptor"}')).toBe(1);
    expect(sample(text, 'herald_connections{runtime="m",role="connector"}')).toBe(0);
    expect(sample(text, 'herald_connection_messages_total{runtime="m",direction="in"}')).toBe(5);
    const bytesIn = sample(text, 'herald_connection_bytes_total{runtime="m",direction="in"}')!;
    expect(bytesIn).toBeGreaterThan(0);

    const conn = connections(rt)[0]!;
    expect(disconnect(rt, conn.address)).toBe(true);
    await waitFor(() => connections(rt).length === 0, { what: 'the connection to end' });
    const after = await scrape();
    expect(sample(after, 'herald_connections{runtime="m",role="acceptor"}')).toBe(0);
    expect(sample(after, 'herald_connection_messages_total{runtime="m",direction="in"}')).toBe(5);
    expect(
      sample(after, 'herald_connection_bytes_total{runtime="m",direction="in"}'),
    ).toBeGreaterThanOrEqual(bytesIn);
    expect((await fetch(new URL('/metrics', endpoint.url).href.replace(/\?.*/, ''))).status).toBe(
      401,
    );
  });

  it('refuses to register twice on one registry, and registers again after close', () => {
    const rt = testRuntime({ name: 'twice' });
    const registry = new Registry();
    const first = registerMetrics(rt, registry);
    const error = (() => {
      try {
        registerMetrics(rt, registry);
      } catch (e) {
        return e;
      }
    })();
    expect(error).toBeInstanceOf(ManagementError);
    expect((error as ManagementError).code).toBe('HERALD_ERR_BAD_OPTION');
    first.close();
    expect(registry.getMetricsAsArray()).toHaveLength(0);
    registerMetrics(rt, registry, { prefix: 'app_herald_' }).close();
  });
});
