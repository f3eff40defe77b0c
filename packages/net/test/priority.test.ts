/**
 * Priorities on a connection (docs/priorities.md): a high-priority message is framed ahead
 * of held normal and low messages and between two chunks of a large message, so what it
 * waits behind in this process is at most one chunk. Measured on the frames the client
 * writes (support/outbound-tap.ts), as an ordering property, never as a time.
 */
import { defineMessage, t } from '@herald/codec';
import {
  Accepted,
  connect,
  Connected,
  connections,
  listen,
  Listening,
  type ConnectOptions,
} from '@herald/net';
import { settle, type DeadLetter } from '@herald/runtime';
import { closeTestRuntimes, spawnProbe, testRuntime, waitFor } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { FrameKind } from '../src/wire/index.js';
import {
  isBulkFrame,
  isSmallMessage,
  outboundTap,
  pausableRelay,
  type PausableRelay,
} from './support/outbound-tap.js';

const Big = defineMessage('prio.Big', { data: t.bytes() });
const Bulk = defineMessage('prio.Bulk', { n: t.int(), data: t.bytes() });
const Urgent = defineMessage('prio.Urgent', { n: t.int() });
const messages = [Big, Bulk, Urgent];

afterEach(closeTestRuntimes);

const relays: PausableRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close();
});

/** A client whose writes are tapped, connected to a server through a pausable relay. */
async function pair(options: ConnectOptions = {}) {
  const tap = outboundTap();
  const server = await spawnProbe(testRuntime({ name: 'server', messages }), 'server');
  listen(server.self, { port: 0 });
  const port = (await server.next(Listening)).message.listening.port;
  const relay = await pausableRelay(port);
  relays.push(relay);
  const clientRt = testRuntime({ name: 'client', messages });
  const client = await spawnProbe(clientRt, 'client');
  const dead: DeadLetter[] = [];
  clientRt.onDeadLetter((d) => dead.push(d));
  connect(
    client.self,
    { host: '127.0.0.1', port: relay.port },
    { ...options, transport: tap.transport },
  );
  const remote = (await client.next(Connected)).from;
  await server.next(Accepted);
  /** Waits until the peer has stopped taking bytes: the kernel is full, the stream holds some. */
  const backedUp = () =>
    waitFor(() => tap.mark().buffered > 0, {
      what: 'bytes waiting in the client stream',
      timeoutMs: LONG_WAIT_MS,
    });
  return { tap, relay, server, client, clientRt, remote, backedUp, dead };
}

const LONG_WAIT_MS = 30_000;

describe('priority on a connection', () => {
  it.each([false, true])(
    'a large low-priority message yields to a high-priority one between chunks: at most one chunk ahead (slow peer: %s)',
    async (slow) => {
      const { tap, relay, server, client, remote, backedUp } = await pair();
      if (slow) relay.pause();
      client.self.send(remote, Big({ data: new Uint8Array(32 * 1024 * 1024) }), {
        priority: 'low',
      });
      const chunks = () => tap.frames.filter((f) => f.kind === FrameKind.CHUNK).length;
      await waitFor(() => chunks() >= 8, { what: 'the large message under way' });
      if (slow) await backedUp();
      const mark = tap.mark();
      client.self.send(remote, Urgent({ n: 1 }), { priority: 'high' });
      relay.resume();
      await server.next(Urgent, () => true, LONG_WAIT_MS);
      const ahead = tap.ahead(mark, isSmallMessage, isBulkFrame);
      expect(ahead).toBeDefined();
      expect(ahead).toBeLessThanOrEqual(1);
      await server.next(Big, () => true, LONG_WAIT_MS);
      // Delivered before the large message it overtook.
      expect(server.types().filter((type) => type.startsWith('prio.'))).toEqual([
        Urgent.type,
        Big.type,
      ]);
      // It was still far from done: the urgent message did not just arrive at the end.
      expect(chunks()).toBeGreaterThan(ahead! + 16);
    },
  );

  it.each([false, true])(
    'held low-priority messages wait for a high one sent after them, and a normal one goes before them too (slow peer: %s)',
    async (slow) => {
      const { tap, relay, server, client, remote, backedUp } = await pair();
      if (slow) relay.pause();
      const data = new Uint8Array(60 * 1024);
      const count = 300;
      for (let n = 0; n < count; n++)
        client.self.send(remote, Bulk({ n, data }), { priority: 'low' });
      await waitFor(() => tap.frames.filter(isBulkFrame).length >= 8, {
        what: 'the bulk under way',
      });
      if (slow) await backedUp();
      const mark = tap.mark();
      client.self.send(remote, Urgent({ n: 1 }), { priority: 'high' });
      client.self.send(remote, Urgent({ n: 2 }));
      relay.resume();
      await server.next(Urgent, (m) => m.n === 2, LONG_WAIT_MS);
      expect(tap.ahead(mark, isSmallMessage, isBulkFrame)).toBeLessThanOrEqual(1);
      const received = server.inbox.map((r) => r.message);
      const bulkBefore = received.filter((m) => Bulk.is(m)).length;
      expect(received.filter((m) => Urgent.is(m)).map((m) => (m as Urgent).n)).toEqual([1, 2]);
      // Both went ahead of nearly all of the bulk; none of the bulk was lost or reordered.
      expect(bulkBefore).toBeLessThan(count / 2);
      const bulk = () => server.inbox.filter((r) => Bulk.is(r.message)).length;
      await waitFor(() => bulk() === count, { what: 'all the bulk', timeoutMs: LONG_WAIT_MS });
      const order = server.inbox.map((r) => r.message).filter((m) => Bulk.is(m));
      expect(order.map((m) => (m as Bulk).n)).toEqual(Array.from({ length: count }, (_, n) => n));
    },
  );

  it('a high-priority message is admitted past the outbound bound that refuses bulk (a reserve)', async () => {
    const maxPendingBytes = 1024 * 1024;
    const { clientRt, relay, server, client, remote, dead } = await pair({
      highWaterBytes: 256 * 1024,
      maxPendingBytes,
    });
    relay.pause();
    const data = new Uint8Array(60 * 1024);
    const queued = () => connections(clientRt)[0]?.queuedBytes ?? 0;
    // Bounded: the kernel takes a few MB at most before bytes pile up past the bound.
    for (let n = 0; n < 2_000 && queued() <= maxPendingBytes; n++) {
      client.self.send(remote, Bulk({ n, data }), { priority: 'low' });
      if (n % 8 === 7) await settle(1);
    }
    expect(queued()).toBeGreaterThan(maxPendingBytes);
    // In one go, so the connection sees them before it writes anything more: past the
    // bound, bulk and normal messages are refused, the high one is admitted.
    const refusedBefore = dead.length;
    client.self.send(remote, Bulk({ n: -1, data }), { priority: 'low' });
    client.self.send(remote, Urgent({ n: 8 }));
    client.self.send(remote, Urgent({ n: 7 }), { priority: 'high' });
    await settle(1);
    const refused = dead.slice(refusedBefore).map((d) => d.message as Bulk | Urgent);
    expect(refused.map((m) => `${m.type}:${m.n}`)).toEqual(['prio.Urgent:8', 'prio.Bulk:-1']);
    expect(dead[refusedBefore]?.detail).toMatch(/outbound buffer over/);
    relay.resume();
    const urgent = await server.next(Urgent, () => true, LONG_WAIT_MS);
    expect(urgent.message.n).toBe(7);
  });

  it('messages sent before the handshake completes keep their lanes: high first, then the held ones in order', async () => {
    const server = await spawnProbe(testRuntime({ name: 'server', messages }), 'server');
    listen(server.self, { port: 0 });
    const port = (await server.next(Listening)).message.listening.port;
    const client = await spawnProbe(testRuntime({ name: 'client', messages }), 'client');
    const remote = connect(client.self, { host: '127.0.0.1', port });
    const data = new Uint8Array(1024);
    for (let n = 0; n < 5; n++) client.self.send(remote, Bulk({ n, data }), { priority: 'low' });
    client.self.send(remote, Urgent({ n: 1 }), { priority: 'high' });
    client.self.send(remote, Urgent({ n: 2 }));
    await waitFor(() => server.inbox.filter((r) => Bulk.is(r.message)).length === 5, {
      what: 'all five',
    });
    const order = server.inbox
      .map((r) => r.message)
      .filter((m) => Bulk.is(m) || Urgent.is(m))
      .map((m) => `${m.type.slice(5)}${(m as Bulk | Urgent).n}`);
    expect(order).toEqual(['Urgent1', 'Urgent2', 'Bulk0', 'Bulk1', 'Bulk2', 'Bulk3', 'Bulk4']);
  });
});

type Urgent = ReturnType<typeof Urgent>;
type Bulk = ReturnType<typeof Bulk>;
