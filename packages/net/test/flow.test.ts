import {
  connect as tcpConnect,
  createServer,
  type AddressInfo,
  type Server,
  type Socket,
} from 'node:net';
import { defineMessage, t } from '@herald/codec';
import { settle, TestClock, type DeadLetter } from '@herald/runtime';
import {
  Abandoned,
  Accepted,
  Congested,
  connect,
  Connected,
  Drained,
  listen,
  Listening,
  type ConnectOptions,
} from '@herald/net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeTestRuntimes,
  memoryLogger,
  spawnProbe,
  startFaultRelay,
  testRuntime,
  type FaultRelay,
} from '@herald/testing';

const Big = defineMessage('Big', { data: t.bytes() });
const messages = [Big];

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
  await closeTestRuntimes();
});

describe('keep-alive', () => {
  it('a black-holed connection is Abandoned with keepalive-timeout on both ends, on the injected clock', async () => {
    const serverClock = new TestClock();
    const clientClock = new TestClock();
    const { logger, lines } = memoryLogger('info');
    const server = await spawnProbe(
      testRuntime({ clock: serverClock, logger, messages }),
      'server',
    );
    const keepalive = { keepaliveIdleMs: 5_000, keepaliveTimeoutMs: 2_000 };
    listen(server.self, { port: 0 }, keepalive);
    const port = (await server.next(Listening)).message.listening.port;
    const relay: FaultRelay = await startFaultRelay({ target: { host: '127.0.0.1', port } });
    cleanups.push(() => relay.close());
    const client = await spawnProbe(testRuntime({ clock: clientClock, messages }), 'client');
    connect(client.self, { host: '127.0.0.1', port: relay.port }, keepalive);
    await client.next(Connected);
    await server.next(Accepted);

    const remote = client.inbox.find((r) => Connected.is(r.message))!.from;
    const peer = server.inbox.find((r) => Accepted.is(r.message))!.from;
    // A round trip each way: TCP keeps order, so each side has had the PONG for its PING
    // (written before the reply) by the time the reply arrives.
    const roundTrips = async () => {
      for (let i = 0; i < 2; i++) {
        client.self.send(remote, Big({ data: new Uint8Array(1) }));
        await server.next(Big);
        server.self.send(peer, Big({ data: new Uint8Array(1) }));
        await client.next(Big);
      }
    };
    // While bytes flow, keep-alive pings are answered and nothing is abandoned.
    await clientClock.advanceAsync(5_000);
    await serverClock.advanceAsync(5_000);
    await roundTrips();
    await clientClock.advanceAsync(2_000);
    await serverClock.advanceAsync(2_000);
    await roundTrips();
    expect(client.inbox.some((r) => Abandoned.is(r.message))).toBe(false);
    expect(server.inbox.some((r) => Abandoned.is(r.message))).toBe(false);

    relay.blackhole();
    // Idle period, then the answer timeout, with no byte from the peer.
    for (let i = 0; i < 4; i++) {
      await clientClock.advanceAsync(2_500);
      await serverClock.advanceAsync(2_500);
    }
    const a = await client.next(Abandoned);
    const b = await server.next(Abandoned);
    expect(a.message.reason).toBe('keepalive-timeout');
    expect(b.message.reason).toBe('keepalive-timeout');
    expect(lines.some((l) => l.reason === 'keepalive-timeout' && typeof l.msg === 'string')).toBe(
      true,
    );
  });
});

/** A TCP relay whose reading from the client side can be paused (the peer stops reading). */
async function pausableRelay(targetPort: number) {
  const sockets: Socket[] = [];
  let clientSide: Socket | undefined;
  const server: Server = createServer((client) => {
    clientSide = client;
    const upstream = tcpConnect({ host: '127.0.0.1', port: targetPort });
    sockets.push(client, upstream);
    client.pipe(upstream);
    upstream.pipe(client);
    client.on('error', () => upstream.destroy());
    upstream.on('error', () => client.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    pause: () => clientSide?.pause(),
    resume: () => clientSide?.resume(),
    reset: () => clientSide?.resetAndDestroy(),
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}

/**
 * A server, and a client connected to it through a relay that has stopped reading: the
 * client's socket fills and its proxy's outbound buffer grows.
 */
async function slowPeer(options: ConnectOptions) {
  const server = await spawnProbe(testRuntime({ messages }), 'server');
  listen(server.self, { port: 0 });
  const port = (await server.next(Listening)).message.listening.port;
  const relay = await pausableRelay(port);
  cleanups.push(() => relay.close());
  const clientRt = testRuntime({ messages });
  const dead: DeadLetter[] = [];
  clientRt.onDeadLetter((d) => dead.push(d));
  const client = await spawnProbe(clientRt, 'client');
  connect(client.self, { host: '127.0.0.1', port: relay.port }, options);
  const { from: remote } = await client.next(Connected);
  await server.next(Accepted);
  relay.pause();
  return { server, client, relay, remote, dead };
}

describe('backpressure', () => {
  it('a slow peer makes the connection report Congested, refuse sends past the bound, then Drained', async () => {
    const flow = {
      highWaterBytes: 256 * 1024,
      lowWaterBytes: 64 * 1024,
      maxPendingBytes: 2 * 1024 * 1024,
    };
    const { server, client, relay, remote, dead } = await slowPeer(flow);

    const chunk = new Uint8Array(64 * 1024);
    let sent = 0;
    // Bounded: the kernel buffers a few MB at most before the outbound buffer must grow.
    for (let i = 0; i < 2_000 && dead.length === 0; i++) {
      client.self.send(remote, Big({ data: chunk }));
      sent++;
      if (i % 8 === 7) await settle(1);
    }
    const congested = await client.next(Congested);
    expect(congested.message.pendingBytes).toBeGreaterThan(flow.highWaterBytes);
    expect(dead.length).toBeGreaterThan(0);
    expect(dead[0]).toMatchObject({ reason: 'not-delivered' });
    expect(dead[0]?.detail).toMatch(/outbound buffer/);

    relay.resume();
    const drained = await client.next(Drained, () => true, 30_000);
    expect(drained.message.pendingBytes).toBeLessThanOrEqual(flow.lowWaterBytes);
    // Everything that was accepted for sending arrives.
    for (let i = 0; i < sent - dead.length; i++) await server.next(Big, () => true, 30_000);
  });

  it('messages still queued when the connection drops are reported as dead letters', async () => {
    const { client, relay, remote, dead } = await slowPeer({ highWaterBytes: 128 * 1024 });
    const chunk = new Uint8Array(32 * 1024);
    let sent = 0;
    for (let i = 0; i < 2_000 && !client.inbox.some((r) => Congested.is(r.message)); i++) {
      client.self.send(remote, Big({ data: chunk }));
      sent++;
      if (i % 8 === 7) await settle(1);
    }
    await client.next(Congested);
    // These stay in the proxy's writer: the socket is waiting for 'drain'.
    for (let i = 0; i < 5; i++) client.self.send(remote, Big({ data: chunk }));
    relay.reset();
    const abandoned = await client.next(Abandoned);
    expect(abandoned.message.reason).toMatch(/^(ECONNRESET|EPIPE|connection-lost)$/);
    const lost = dead.filter((d) => d.reason === 'not-delivered' && d.message.type === 'Big');
    expect(lost.length).toBeGreaterThanOrEqual(5);
    expect(lost[0]?.detail).toMatch(/before the message was sent/);
    expect(lost.every((d) => d.to.equals(remote))).toBe(true);
    expect(sent).toBeGreaterThan(0);
  });
});
