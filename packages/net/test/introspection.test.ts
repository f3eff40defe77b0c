/**
 * Introspection for management tools: connections(runtime) with its counters,
 * disconnect(runtime, proxy, reason), groups(runtime), and the connection channels of
 * node:diagnostics_channel. Two runtimes over real loopback sockets.
 */
import diagnostics from 'node:diagnostics_channel';
import { createServer, type AddressInfo, type Socket } from 'node:net';
import { Address, defineMessage, t } from '@herald/codec';
import type { Runtime } from '@herald/runtime';
import {
  Abandoned,
  Accepted,
  CHANNEL_CONNECTION_CLOSED,
  CHANNEL_CONNECTION_CONGESTED,
  CHANNEL_CONNECTION_DRAINED,
  CHANNEL_CONNECTION_OPENED,
  Closed,
  Congested,
  connect,
  Connected,
  connections,
  connectTo,
  disconnect,
  Drained,
  groups,
  groupTable,
  listen,
  Listening,
  NotConnected,
  Ready,
  type ConnectOptions,
  type ListenOptions,
} from '@herald/net';
import {
  closeTestRuntimes,
  spawnProbe,
  testRuntime,
  waitFor,
  welcomingServer,
} from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { createIdentity, formatPublicKey } from '../src/wire/index.js';
import { startOwner } from './group/support.js';

const Note = defineMessage('test.Note', { text: t.string() });
const Blob = defineMessage('test.Blob', { data: t.bytes() });
const messages = [Note, Blob];

const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await closeTestRuntimes();
});

/** Records what a channel publishes for `runtime` (channels are process-wide). */
function record(name: string, runtime: Runtime): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  const listener = (message: unknown): void => {
    const m = message as Record<string, unknown>;
    if (m['runtime'] === runtime) seen.push(m);
  };
  diagnostics.subscribe(name, listener);
  cleanups.push(() => diagnostics.unsubscribe(name, listener));
  return seen;
}

/** A client and a server runtime connected once; both probes and both proxies. */
async function pair(listenOptions: ListenOptions = {}, connectOptions: ConnectOptions = {}) {
  const serverRt = testRuntime({ name: 'server', messages });
  const clientRt = testRuntime({ name: 'client', messages });
  const server = await spawnProbe(serverRt, 'server');
  listen(server.self, { port: 0 }, listenOptions);
  const port = (await server.next(Listening)).message.listening.port;
  const client = await spawnProbe(clientRt, 'client');
  connect(client.self, { host: '127.0.0.1', port }, connectOptions);
  const remote = (await client.next(Connected)).from;
  const accepted = await server.next(Accepted);
  return { serverRt, clientRt, server, client, port, remote, peer: accepted.from };
}

describe('connections(runtime)', () => {
  it('lists each connection with its role, peer, identity and counters that follow the traffic', async () => {
    const serverId = createIdentity();
    const clientId = createIdentity();
    const { serverRt, clientRt, server, client, port, remote } = await pair(
      { identity: serverId, encrypted: true },
      { identity: clientId, peerKey: formatPublicKey(serverId.publicKey), encrypted: true },
    );
    const [mine] = connections(clientRt);
    expect(connections(clientRt)).toHaveLength(1);
    expect(mine).toMatchObject({
      role: 'connector',
      peer: { host: '127.0.0.1', port },
      identity: formatPublicKey(serverId.publicKey),
      encrypted: true,
      state: 'open',
      congested: false,
    });
    expect(mine?.address.equals(remote)).toBe(true);
    expect(mine?.openedAt).toBeGreaterThan(0);
    const [theirs] = connections(serverRt);
    expect(theirs).toMatchObject({
      role: 'acceptor',
      identity: formatPublicKey(clientId.publicKey),
      encrypted: true,
    });

    const before = mine!;
    for (let i = 0; i < 5; i++) client.self.send(remote, Note({ text: `note ${i}` }));
    for (let i = 0; i < 5; i++) await server.next(Note);
    const after = connections(clientRt)[0]!;
    expect(after.messagesOut - before.messagesOut).toBe(5);
    expect(after.bytesOut).toBeGreaterThan(before.bytesOut);
    const received = connections(serverRt)[0]!;
    expect(received.messagesIn).toBeGreaterThanOrEqual(5);
    // Every byte the client handed to its socket has arrived (the messages did).
    expect(received.bytesIn).toBe(after.bytesOut);
    expect(after.queuedBytes).toBe(0);
  });

  it('is empty for a runtime that never used the network', () => {
    expect(connections(testRuntime({ name: 'quiet' }))).toEqual([]);
  });

  it('shows queued bytes and congestion while a peer does not keep up', async () => {
    const { clientRt, client, remote } = await pair({}, { highWaterBytes: 64 * 1024 });
    const congested = record(CHANNEL_CONNECTION_CONGESTED, clientRt);
    const drained = record(CHANNEL_CONNECTION_DRAINED, clientRt);
    // One message far over the high-water mark: queued at once, written chunk by chunk.
    client.self.send(remote, Blob({ data: new Uint8Array(4 * 1024 * 1024) }));
    await client.next(Congested);
    expect(congested).toEqual([{ runtime: clientRt, proxy: remote }]);
    const info = connections(clientRt)[0]!;
    expect(info.congested).toBe(true);
    expect(info.queuedBytes).toBeGreaterThan(64 * 1024);
    await client.next(Drained, () => true, 20_000);
    expect(drained).toEqual([{ runtime: clientRt, proxy: remote }]);
    expect(connections(clientRt)[0]?.congested).toBe(false);
  });
});

describe('disconnect(runtime, proxy, reason)', () => {
  it('closes the connection: the controller gets Closed with the reason, the peer Abandoned', async () => {
    const { clientRt, serverRt, client, server, remote } = await pair();
    const closed = record(CHANNEL_CONNECTION_CLOSED, clientRt);
    expect(disconnect(clientRt, remote, 'maintenance')).toBe(true);
    const notice = await client.next(Closed);
    expect(notice.message.reason).toBe('maintenance');
    expect((await server.next(Abandoned)).message.reason).toBe('normal');
    expect(closed).toEqual([{ runtime: clientRt, proxy: remote, reason: 'maintenance' }]);
    await waitFor(() => connections(clientRt).length === 0 && connections(serverRt).length === 0, {
      what: 'both proxies gone',
    });
    // Gone now, and never a connection: false.
    expect(disconnect(clientRt, remote)).toBe(false);
    expect(disconnect(clientRt, client.address)).toBe(false);
    expect(disconnect(clientRt, new Address([remote.local, 7]))).toBe(false);
  });
});

describe('disconnect before the handshake completes', () => {
  it('lists the connection as handshaking, and disconnect ends it: NotConnected with the reason', async () => {
    // A peer that accepts and never speaks: the handshake waits.
    const accepted: Socket[] = [];
    const silent = createServer((socket) => accepted.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    cleanups.push(() => {
      for (const socket of accepted) socket.destroy();
      silent.close();
    });
    const port = (silent.address() as AddressInfo).port;
    const clientRt = testRuntime({ name: 'client', messages });
    const closed = record(CHANNEL_CONNECTION_CLOSED, clientRt);
    const client = await spawnProbe(clientRt, 'client');
    const proxy = connect(client.self, { host: '127.0.0.1', port });
    await waitFor(() => connections(clientRt)[0]?.state === 'handshaking', {
      what: 'the handshake under way',
    });
    expect(connections(clientRt)[0]).toMatchObject({
      role: 'connector',
      peer: { host: '127.0.0.1', port },
      identity: undefined,
      openedAt: 0,
      messagesIn: 0,
    });
    expect(disconnect(clientRt, proxy, 'changed my mind')).toBe(true);
    const refused = await client.next(NotConnected);
    expect(refused.message.reason).toBe('changed my mind');
    expect(closed).toEqual([{ runtime: clientRt, proxy, reason: 'changed my mind' }]);
    await waitFor(() => connections(clientRt).length === 0, { what: 'the proxy gone' });
  });
});

describe('connection channels', () => {
  it('opened carries the role, peer and identity on each side', async () => {
    const serverRt = testRuntime({ name: 'server', messages });
    const clientRt = testRuntime({ name: 'client', messages });
    const onServer = record(CHANNEL_CONNECTION_OPENED, serverRt);
    const onClient = record(CHANNEL_CONNECTION_OPENED, clientRt);
    const clientId = createIdentity();
    const server = await spawnProbe(serverRt, 'server');
    listen(server.self, { port: 0 }, { encrypted: true });
    const port = (await server.next(Listening)).message.listening.port;
    const client = await spawnProbe(clientRt, 'client');
    connect(client.self, { host: '127.0.0.1', port }, { identity: clientId, encrypted: true });
    const remote = (await client.next(Connected)).from;
    const peer = (await server.next(Accepted)).from;
    expect(onClient).toEqual([
      {
        runtime: clientRt,
        proxy: remote,
        role: 'connector',
        peer: { host: '127.0.0.1', port },
        identity: undefined,
      },
    ]);
    expect(onServer).toHaveLength(1);
    expect(onServer[0]).toMatchObject({
      proxy: peer,
      role: 'acceptor',
      identity: formatPublicKey(clientId.publicKey),
    });
  });
});

describe('groups(runtime)', () => {
  it('lists each group with its members, their state and address, and whether it is ready', async () => {
    const { port } = await welcomingServer(testRuntime({ name: 'server' }));
    const clientRt = testRuntime({ name: 'client' });
    expect(groups(clientRt)).toEqual([]);
    const owner = await startOwner(
      clientRt,
      groupTable({
        server: connectTo(
          { host: '127.0.0.1', port },
          { backoff: { steps: [20], regular: 50, jitter: 0, jitterQuantumMs: 10 } },
        ),
      }),
    );
    await owner.next(Ready);
    const [group] = groups(clientRt);
    expect(groups(clientRt)).toHaveLength(1);
    expect(group?.address.equals(owner.group.address)).toBe(true);
    expect(group?.ready).toBe(true);
    expect(group?.members).toHaveLength(1);
    expect(group?.members[0]).toMatchObject({ name: 'server', state: 'up' });
    expect(group?.members[0]?.address?.equals(owner.group.server as Address)).toBe(true);
    owner.group.stop();
    await waitFor(() => groups(clientRt).length === 0, { what: 'the group gone from the list' });
  });
});
