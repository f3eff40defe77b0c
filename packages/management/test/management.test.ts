/**
 * The management endpoint over real loopback sockets: an operator with an allowed key
 * lists actors and connections, changes the log level and disconnects a peer; a stranger
 * is refused during the handshake; bad options throw before anything opens.
 */
import { defineMessage, t } from '@herald/codec';
import {
  Connected,
  GroupUpdate,
  NotConnected,
  Ready,
  connect,
  connectTo,
  connections,
  createGroup,
  createIdentity,
  formatPublicKey,
  groupTable,
  groups,
  type GroupTable,
  type GroupView,
} from '@herald/net';
import type { Self } from '@herald/runtime';
import {
  closeTestRuntimes,
  spawnProbe,
  testRuntime,
  waitFor,
  welcomingServer,
} from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Actors,
  Connections,
  DisconnectPeer,
  Failed,
  GetActors,
  GetConnections,
  GetGroups,
  GetSnapshot,
  Groups,
  GetStatus,
  GetSubscriptions,
  LogLevelSet,
  ManagementError,
  PeerDisconnected,
  SetLogLevel,
  Snapshot,
  Status,
  Subscriptions,
  askManagement,
  connectManagement,
  managementMessages,
  openManagement,
  type ManagementEndpoint,
} from '../src/index.js';

const endpoints: ManagementEndpoint[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
  await closeTestRuntimes();
});

const Nap = defineMessage('test.Nap', { ms: t.int() });

/** A server runtime with a worker tree, one client connection, and a management endpoint. */
async function managedProcess() {
  const identity = createIdentity();
  const operator = createIdentity();
  const rt = testRuntime({ name: 'managed', messages: [Nap] });
  const parent = rt.spawn(async function supervisor(self: Self) {
    self.spawn(async function worker(child: Self) {
      await child.receive(Nap);
    });
    await self.receive(Nap);
  });
  const { port } = await welcomingServer(rt);
  const clientRt = testRuntime({ name: 'client' });
  clientRt.spawn(async function client(self: Self) {
    connect(self, { host: '127.0.0.1', port });
    await self.receive(Connected);
    await self.receive(Nap);
  });
  await waitFor(() => connections(rt).some((c) => c.state === 'open'), {
    what: 'the client connection to open',
  });
  const endpoint = await openManagement(rt, {
    identity,
    operators: [formatPublicKey(operator.publicKey)],
    http: false,
  });
  endpoints.push(endpoint);
  return { rt, endpoint, operator, parent };
}

describe('management endpoint', () => {
  it('answers an authenticated operator: status, actor tree, connections, subscriptions, snapshot', async () => {
    const { endpoint, operator, parent } = await managedProcess();
    const herald = endpoint.herald!;
    expect(herald.host).toBe('127.0.0.1');
    expect(herald.publicKey).toMatch(/^herald-x25519:/);
    const opRt = testRuntime({ name: 'operator', messages: managementMessages });
    const answers = await opRt.run(async function operatorActor(self: Self) {
      const at = await connectManagement(self, herald, {
        identity: operator,
        peerKey: herald.publicKey,
      });
      if (NotConnected.is(at)) return at;
      return {
        status: await askManagement(self, at, GetStatus()),
        actors: await askManagement(self, at, GetActors({})),
        connections: await askManagement(self, at, GetConnections({ limit: 1 })),
        subscriptions: await askManagement(self, at, GetSubscriptions({})),
        snapshot: await askManagement(self, at, GetSnapshot({})),
      };
    });
    const {
      status,
      actors,
      connections: conns,
      subscriptions,
      snapshot,
    } = answers as {
      status: Status;
      actors: Actors;
      connections: Connections;
      subscriptions: Subscriptions;
      snapshot: Snapshot;
    };
    expect(Status.is(status)).toBe(true);
    expect(status.name).toBe('managed');
    expect(status.pid).toBe(process.pid);
    expect(status.connections).toBe(2); // the client, and the operator itself

    expect(Actors.is(actors)).toBe(true);
    const supervisor = actors.actors.find((a) => a.address === parent.toString());
    expect(supervisor).toMatchObject({ name: 'supervisor', kind: 'function', parent: null });
    const worker = actors.actors.find((a) => a.name === 'worker');
    expect(worker?.parent).toBe(parent.toString());
    expect(actors.actors.some((a) => a.address === endpoint.actor.toString())).toBe(true);
    expect(actors.total).toBe(actors.actors.length);

    expect(Connections.is(conns)).toBe(true);
    expect(conns.total).toBe(2);
    expect(conns.connections).toHaveLength(1); // cut at limit 1
    const operatorConn = snapshot.connections.find((c) => c.identity !== null);
    expect(operatorConn).toMatchObject({ role: 'acceptor', encrypted: true, host: '127.0.0.1' });
    expect(snapshot.connections.find((c) => c.identity === null)).toMatchObject({
      encrypted: false,
    });
    expect(snapshot.totals.actors).toBe(snapshot.actors.length);
    expect(subscriptions.subscriptions).toEqual([]);
  });

  it('changes the log level live and refuses an unknown one with Failed', async () => {
    const { rt, endpoint, operator } = await managedProcess();
    const herald = endpoint.herald!;
    const opRt = testRuntime({ name: 'operator', messages: managementMessages });
    const [set, bad] = (await opRt.run(async function operatorActor(self: Self) {
      const at = await connectManagement(self, herald, {
        identity: operator,
        peerKey: herald.publicKey,
      });
      if (NotConnected.is(at)) throw new Error(at.reason);
      return [
        await askManagement(self, at, SetLogLevel({ level: 'DEBUG' })),
        await askManagement(self, at, SetLogLevel({ level: 'chatty' })),
      ];
    })) as [LogLevelSet, Failed];
    expect(set).toMatchObject({ type: LogLevelSet.type, level: 'debug', previous: 'info' });
    expect(rt.logger.level).toBe('debug');
    expect(Failed.is(bad)).toBe(true);
    expect(bad.code).toBe('HERALD_MANAGEMENT_BAD_LEVEL');
    expect(rt.logger.level).toBe('debug');
  });

  it('disconnects a peer named by its connection address, and says false for one that is gone', async () => {
    const { rt, endpoint, operator } = await managedProcess();
    const herald = endpoint.herald!;
    const plain = connections(rt).find((c) => c.identity === undefined)!;
    const opRt = testRuntime({ name: 'operator', messages: managementMessages });
    const [first, again] = (await opRt.run(async function operatorActor(self: Self) {
      const at = await connectManagement(self, herald, {
        identity: operator,
        peerKey: herald.publicKey,
      });
      if (NotConnected.is(at)) throw new Error(at.reason);
      const request = DisconnectPeer({
        connection: plain.address.toString(),
        reason: 'maintenance',
      });
      const first = await askManagement(self, at, request);
      await waitFor(() => !connections(rt).some((c) => c.address.equals(plain.address)), {
        what: 'the disconnected connection to end',
      });
      return [first, await askManagement(self, at, request)];
    })) as [PeerDisconnected, PeerDisconnected];
    expect(first).toMatchObject({ connection: plain.address.toString(), disconnected: true });
    expect(again.disconnected).toBe(false);
  });

  it('refuses an operator key it does not know, during the handshake', async () => {
    const { endpoint } = await managedProcess();
    const herald = endpoint.herald!;
    const stranger = createIdentity();
    const opRt = testRuntime({ name: 'stranger', messages: managementMessages });
    const result = await opRt.run(async function strangerActor(self: Self) {
      return connectManagement(self, herald, { identity: stranger, peerKey: herald.publicKey });
    });
    expect(NotConnected.is(result)).toBe(true);
    expect((result as NotConnected).reason).toBe('not-authorized');
  });

  it('refuses to connect to an endpoint whose key is not the pinned one', async () => {
    const { endpoint, operator } = await managedProcess();
    const herald = endpoint.herald!;
    const opRt = testRuntime({ name: 'operator', messages: managementMessages });
    const result = await opRt.run(async function operatorActor(self: Self) {
      const wrong = formatPublicKey(createIdentity().publicKey);
      return connectManagement(self, herald, { identity: operator, peerKey: wrong });
    });
    expect((result as NotConnected).reason).toBe('peer-key-mismatch');
  });

  it('lists groups with their members and readiness', async () => {
    const { port } = await welcomingServer(testRuntime({ name: 'server' }));
    const rt = testRuntime({ name: 'grouped' });
    const endpoint = await openManagement(rt, { http: false });
    endpoints.push(endpoint);
    const table = groupTable({ billing: connectTo({ host: '127.0.0.1', port }) });
    let group: GroupView<typeof table extends GroupTable<infer T> ? T : never> | undefined;
    const owner = await spawnProbe(rt, {
      name: 'owner',
      onStart: (self) => {
        group = createGroup(self, table);
      },
      onMessage: (message) => {
        if (GroupUpdate.is(message)) group?.update(message);
      },
    });
    await owner.next(Ready);
    const answer = await rt.ask(endpoint.actor, GetGroups({}), [Groups], { timeout: 5_000 });
    expect(Groups.is(answer)).toBe(true);
    const [listed] = (answer as Groups).groups;
    expect((answer as Groups).total).toBe(1);
    expect(listed).toMatchObject({ address: groups(rt)[0]!.address.toString(), ready: true });
    expect(listed!.members).toEqual([
      { name: 'billing', state: 'up', address: expect.stringMatching(/^<[0-9a-f]+>$/) as unknown },
    ]);
  });

  it('answers local actors without any listener when there are no operators', async () => {
    const rt = testRuntime({ name: 'local' });
    const topic = { kind: 'topic', subject: 'orders.*', subscriber: '<00000005>' };
    const endpoint = await openManagement(rt, { http: false, subscriptions: () => [topic] });
    endpoints.push(endpoint);
    expect(endpoint.herald).toBeUndefined();
    expect(endpoint.url).toBeUndefined();
    const status = await rt.ask(endpoint.actor, GetStatus(), [Status], { timeout: 5_000 });
    expect(status).toMatchObject({ type: Status.type, name: 'local', connections: 0 });
    const listed = await rt.ask(endpoint.actor, GetSubscriptions({}), [Subscriptions], {
      timeout: 5_000,
    });
    expect(listed).toMatchObject({ subscriptions: [topic], total: 1 });
  });

  it('checks its options before opening anything', async () => {
    const rt = testRuntime();
    const key = formatPublicKey(createIdentity().publicKey);
    const cases: Parameters<typeof openManagement>[1][] = [
      { operators: [key] }, // no identity
      { operators: [], identity: createIdentity() },
      { port: 70_000 },
      { httpPort: -1 },
      { token: 'short' },
      { updatesPerSecond: 0 },
    ];
    for (const options of cases) {
      const error = await openManagement(rt, options).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(ManagementError);
      expect((error as ManagementError).code).toBe('HERALD_ERR_BAD_OPTION');
    }
    expect(rt.size).toBe(0);
  });

  it('closes with the runtime', async () => {
    const rt = testRuntime();
    const endpoint = await openManagement(rt, { http: false });
    expect(rt.isAlive(endpoint.actor)).toBe(true);
    await rt.close();
    expect(rt.isAlive(endpoint.actor)).toBe(false);
    await endpoint.close();
  });
});
