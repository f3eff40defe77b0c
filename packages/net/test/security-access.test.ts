/**
 * Access control per listener (allow and deny lists, connection caps, refusals logged at a
 * bounded rate) and options checked at the call, before anything is opened.
 */
import { BlockList } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { HeraldError } from '@herald/codec';
import type { Self } from '@herald/runtime';
import { closeTestRuntimes, testRuntime, waitFor } from '@herald/testing';
import {
  connect,
  connectTo,
  listen,
  listenAt,
  type ConnectOptions,
  type ListenOptions,
} from '../src/index.js';
import { networkOf } from '../src/internal.js';
import { createRuntime, Terminated } from '@herald/runtime';
import {
  Accepted,
  Connected,
  NotConnected,
  roundTrip,
  startClient,
  startServer,
  type TestServer,
} from './support/harness.js';

afterEach(closeTestRuntimes);

const servers: TestServer[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await s.close();
});

async function server(options: ListenOptions): Promise<TestServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}

function refusalLines(s: TestServer): Record<string, unknown>[] {
  return s.log.lines.filter((l) => /^refused connection/.test(l.msg)) as Record<string, unknown>[];
}

/** Connects and resolves with what the client's controller heard first. */
async function attempt(port: number, options: ConnectOptions = {}): Promise<string> {
  const client = await startClient(port, options);
  const { message } = await client.controller.recorder.waitFor(
    (r) => Connected.is(r.message) || NotConnected.is(r.message),
    { what: 'the outcome of a connect' },
  );
  if (Connected.is(message)) {
    // Refused after accept: the connection is dropped before the handshake completes, so
    // a Connected here means admitted.
    return 'connected';
  }
  return 'refused';
}

describe('access control - allow and deny lists', () => {
  it('a denied address is refused at accept and the refusal is logged with the peer', async () => {
    const s = await server({ deny: ['127.0.0.1'] });
    expect(await attempt(s.port)).toBe('refused');
    const line = await waitFor(() => refusalLines(s)[0], { what: 'the refusal line' });
    expect(line).toMatchObject({ reason: 'denied' });
    expect(String(line.peer)).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it('only allowed subnets get in', async () => {
    const outside = await server({ allow: ['10.0.0.0/8'] });
    expect(await attempt(outside.port)).toBe('refused');
    const inside = await server({ allow: ['127.0.0.0/8', '::1'] });
    expect((await roundTrip(inside.port, {}, 5)).n).toBe(5);
  });

  it('takes a node:net BlockList; deny wins over allow', async () => {
    const allow = new BlockList();
    allow.addSubnet('127.0.0.0', 8, 'ipv4');
    const s = await server({ allow, deny: ['127.0.0.1/32'] });
    expect(await attempt(s.port)).toBe('refused');
  });

  it('refusals are logged at a bounded rate, with how many were suppressed', async () => {
    const s = await server({ deny: ['127.0.0.0/8'] });
    for (let i = 0; i < 10; i++) expect(await attempt(s.port)).toBe('refused');
    expect(refusalLines(s).length).toBe(1);
  });
});

describe('access control - connection caps', () => {
  it('maxConnections: one more is refused until one ends', async () => {
    const s = await server({ maxConnections: 2 });
    const a = await startClient(s.port);
    await a.controller.next(Connected);
    const first = (await s.controller.next(Accepted)).message.remote;
    const b = await startClient(s.port);
    await b.controller.next(Connected);
    expect(await attempt(s.port)).toBe('refused');
    expect(refusalLines(s)[0]).toMatchObject({ reason: 'too-many-connections' });
    // The listener hears of the end through the same watch; awaiting ours orders after it.
    s.controller.self.watch(first);
    await a.close();
    await s.controller.next(Terminated, (m) => m.address.equals(first));
    expect((await roundTrip(s.port, {}, 6)).n).toBe(6);
  });

  it('maxConnectionsPerAddress caps one remote address', async () => {
    const s = await server({ maxConnectionsPerAddress: 1 });
    const a = await startClient(s.port);
    await a.controller.next(Connected);
    expect(await attempt(s.port)).toBe('refused');
    expect(refusalLines(s)[0]).toMatchObject({ reason: 'too-many-from-address' });
  });
});

describe('options are checked at the call', () => {
  const cases: [string, (self: Self) => unknown][] = [
    [
      'listen maxFrameBytes below the minimum',
      (self) => listen(self, { port: 0 }, { maxFrameBytes: 1000 }),
    ],
    ['listen port out of range', (self) => listen(self, { port: 70_000 })],
    ['listen a bad deny rule', (self) => listen(self, { port: 0 }, { deny: ['nonsense'] })],
    ['listen maxConnections 0', (self) => listen(self, { port: 0 }, { maxConnections: 0 })],
    ['connect port 0', (self) => connect(self, { host: '127.0.0.1', port: 0 })],
    ['connect empty host', (self) => connect(self, { host: '', port: 1 })],
    [
      'connect keepaliveTimeoutMs negative',
      (self) => connect(self, { host: '127.0.0.1', port: 1 }, { keepaliveTimeoutMs: -1 }),
    ],
    [
      'connect maxFrameBytes huge',
      (self) => connect(self, { host: '127.0.0.1', port: 1 }, { maxFrameBytes: 2 ** 30 }),
    ],
    [
      'connect a transport without dial',
      (self) => connect(self, { host: '127.0.0.1', port: 1 }, { transport: {} as never }),
    ],
  ];
  for (const [name, call] of cases) {
    it(`${name}: HERALD_ERR_BAD_OPTION before anything is opened`, async () => {
      const runtime = testRuntime();
      const outcome = await runtime.run(async (self: Self) => {
        const before = runtime.size;
        try {
          call(self);
          return 'no error';
        } catch (error) {
          expect(error).toBeInstanceOf(HeraldError);
          expect((error as HeraldError).code).toBe('HERALD_ERR_BAD_OPTION');
          expect(runtime.size).toBe(before);
          expect(networkOf(runtime).streams.size).toBe(0);
          return 'thrown';
        }
      });
      expect(outcome).toBe('thrown');
    });
  }
});

describe('options are checked at the call - groups and runtimes', () => {
  it('connectTo and listenAt check their connection options when the table is declared', () => {
    for (const make of [
      () => connectTo({ host: '127.0.0.1', port: 1 }, { maxFrameBytes: 10 }),
      () => connectTo({ host: '', port: 1 }),
      () => listenAt({ port: 0 }, { maxConnections: -1 }),
      () => listenAt({ port: 0 }, { allow: ['300.1.1.1'] }),
    ]) {
      expect(make).toThrow(HeraldError);
      try {
        make();
      } catch (error) {
        expect((error as HeraldError).code).toBe('HERALD_ERR_BAD_OPTION');
      }
    }
  });

  it('createRuntime checks its options', () => {
    for (const options of [
      { mailboxCapacity: 0 },
      { turnBudget: 1.5 },
      { clock: {} as never },
      { random: 3 as never },
      { logLevel: 'loud' },
    ]) {
      expect(() => createRuntime(options)).toThrow(HeraldError);
    }
  });
});
