/**
 * Group semantics in one process: two runtimes (client and server) over real loopback
 * sockets. Schedules are driven with a TestClock on the client, so "no attempt before the
 * step has elapsed" is exact: only the clock can start an attempt.
 */
import { Address, defineMessage, t } from '@herald/codec';
import {
  Completed,
  Exhausted,
  Stop,
  TestClock,
  TimedOut,
  type DeadLetter,
  type Runtime,
  type Self,
} from '@herald/runtime';
import {
  BadGroupError,
  BadPolicyError,
  connectTo,
  GroupUpdate,
  groupTable,
  listenAt,
  NotDelivered,
  NotReady,
  Ready,
  Accepted,
  connect,
  Connected,
  listen,
  Listening,
  sessionOf,
  type BackoffPolicy,
  type GroupSessionContext,
} from '@herald/net';
import { afterEach, describe, expect, it } from 'vitest';
import { freePort, Hello, testRuntime, waitFor, welcomingServer, Welcome } from '@herald/testing';
import { AttemptCounter, cleanup, slammingServer, startOwner } from './support.js';

afterEach(cleanup);

/** An exact schedule: 1 s, 2 s, then 4 s, no jitter. */
const EXACT: BackoffPolicy = {
  steps: [1000, 2000],
  regular: 4000,
  jitter: 0,
  jitterQuantumMs: 250,
};
/** A short real-time schedule for tests on the system clock. */
const QUICK: BackoffPolicy = { steps: [20], regular: 50, jitter: 0, jitterQuantumMs: 10 };

const local = (port: number) => ({ host: '127.0.0.1', port });

describe('group tables', () => {
  it('group - rejects reserved, non-identifier and empty member names', () => {
    const member = connectTo(local(1));
    expect(() => groupTable({ update: member })).toThrow(BadGroupError);
    expect(() => groupTable({ address: member })).toThrow(BadGroupError);
    expect(() => groupTable({ constructor: member })).toThrow(BadGroupError);
    expect(() => groupTable({ 'a-b': member })).toThrow(BadGroupError);
    expect(() => groupTable({})).toThrow(BadGroupError);
    expect(() => groupTable({ server: member, backup: member })).not.toThrow();
  });

  it('group - rejects a bad policy or buffer limit when the member is declared', () => {
    expect(() => connectTo(local(1), { backoff: { ...EXACT, regular: -1 } })).toThrow(
      BadPolicyError,
    );
    expect(() => connectTo(local(1), { bufferLimit: -1 })).toThrow(BadGroupError);
    expect(() => connectTo(local(1), { bufferLimit: 1.5 })).toThrow(BadGroupError);
    expect(() => connectTo(local(70000))).toThrow(BadGroupError);
    expect(() => listenAt({ port: 0 }, { backoff: { ...EXACT, jitterQuantumMs: 0 } })).toThrow(
      BadPolicyError,
    );
  });
});

describe('connect-to members', () => {
  it('group - reports GroupUpdate then Ready, and traffic through the member reaches the server and back', async () => {
    const { port } = await welcomingServer(testRuntime({ name: 'server' }));
    const owner = await startOwner(
      testRuntime({ name: 'client' }),
      groupTable({ server: connectTo(local(port), { backoff: QUICK }) }),
    );
    const update = await owner.next(GroupUpdate);
    expect(update.message.name).toBe('server');
    expect(update.from.equals(owner.group.address)).toBe(true);
    await owner.next(Ready);
    expect(owner.types()).toEqual([GroupUpdate.type, Ready.type]);
    expect(owner.group.ready).toBe(true);
    expect(owner.group.endpointOf('server')).toEqual({ host: '127.0.0.1', port });
    const server = owner.group.server;
    expect(server).toBeDefined();
    owner.self.send(server as Address, Hello({ myName: 'Gladys' }));
    const welcome = await owner.next(Welcome);
    expect(welcome.message).toMatchObject({ yourName: 'Gladys', myName: 'server' });
  });

  it('group - a message the server sends unprompted reaches the owner, with a return address that answers the server', async () => {
    const serverRt = testRuntime({ name: 'server' });
    const hellos: string[] = [];
    const port = await new Promise<number>((resolve) => {
      serverRt.spawn(async (self: Self) => {
        listen(self, { port: 0 });
        resolve((await self.receive(Listening)).listening.port);
        for (;;) {
          const m = await self.receive(Accepted, Hello);
          // Greet every new client first, without being asked.
          if (Accepted.is(m))
            self.send(m.remote, Welcome({ yourName: 'client', myName: 'server' }));
          else hellos.push(m.myName);
        }
      });
    });
    const owner = await startOwner(
      testRuntime({ name: 'client' }),
      groupTable({ server: connectTo(local(port), { backoff: QUICK }) }),
    );
    const pushed = await owner.next(Welcome);
    expect(pushed.message).toMatchObject({ yourName: 'client', myName: 'server' });
    // The return address leads to the server's controller: a reply reaches it.
    owner.self.send(pushed.from, Hello({ myName: 'thanks' }));
    await waitFor(() => hellos.includes('thanks'), { what: 'the thanks at the server' });
  });

  it('group - goes NotReady when the server goes away and Ready again on the same member address when it returns', async () => {
    let serverRuntime = testRuntime({ name: 'server' });
    const { port } = await welcomingServer(serverRuntime);
    const owner = await startOwner(
      testRuntime({ name: 'client' }),
      groupTable({ server: connectTo(local(port), { backoff: QUICK }) }),
    );
    await owner.next(Ready);
    const first = owner.group.server as Address;

    await serverRuntime.close();
    const notReady = await owner.next(NotReady);
    // NotReady names the member that went down, and why.
    expect(notReady.message.member).toBe('server');
    expect(notReady.message.reason).toEqual(expect.any(String));
    const lost = await owner.next(GroupUpdate);
    expect(lost.message.address).toBeUndefined();
    expect(owner.group.server).toBeUndefined();
    expect(owner.group.ready).toBe(false);

    serverRuntime = testRuntime({ name: 'server-again' });
    await welcomingServer(serverRuntime, { port });
    await owner.next(Ready);
    expect(owner.group.server?.equals(first)).toBe(true);
    owner.self.send(first, Hello({ myName: 'again' }));
    expect((await owner.next(Welcome)).message.yourName).toBe('again');
    const sequence = owner.types().filter((t) => t !== Welcome.type);
    expect(sequence).toEqual([
      GroupUpdate.type,
      Ready.type,
      NotReady.type,
      GroupUpdate.type,
      GroupUpdate.type,
      Ready.type,
    ]);
  });

  it('group - holds messages sent while disconnected and delivers them in order on reconnect', async () => {
    let serverRuntime = testRuntime({ name: 'server' });
    const { port } = await welcomingServer(serverRuntime);
    const owner = await startOwner(
      testRuntime({ name: 'client' }),
      groupTable({ server: connectTo(local(port), { backoff: QUICK }) }),
    );
    await owner.next(Ready);
    const server = owner.group.server as Address;
    await serverRuntime.close();
    await owner.next(NotReady);
    for (const name of ['one', 'two', 'three']) owner.self.send(server, Hello({ myName: name }));

    serverRuntime = testRuntime({ name: 'server-again' });
    await welcomingServer(serverRuntime, { port });
    await owner.next(Ready);
    const names = [];
    for (let i = 0; i < 3; i++) names.push((await owner.next(Welcome)).message.yourName);
    expect(names).toEqual(['one', 'two', 'three']);
  });

  it('group - answers messages beyond the buffer limit with NotDelivered and reports them as dead letters', async () => {
    const serverRuntime = testRuntime({ name: 'server' });
    const { port } = await welcomingServer(serverRuntime);
    const client = testRuntime({ name: 'client' });
    const dead: DeadLetter[] = [];
    client.onDeadLetter((d) => dead.push(d));
    const owner = await startOwner(
      client,
      groupTable({
        server: connectTo(local(port), { backoff: { ...QUICK, steps: [60_000] }, bufferLimit: 2 }),
      }),
    );
    await owner.next(Ready);
    const server = owner.group.server as Address;
    await serverRuntime.close();
    await owner.next(NotReady);
    for (const name of ['one', 'two', 'three']) owner.self.send(server, Hello({ myName: name }));
    const refused = await owner.next(NotDelivered);
    expect(refused.message).toMatchObject({
      reason: 'buffer-full',
      messageType: Hello.type,
      member: 'server',
      code: 'HERALD_NOT_DELIVERED',
    });
    const lost = dead.filter((d) => d.reason === 'not-delivered');
    expect(lost).toHaveLength(1);
    expect(lost[0]?.message).toEqual(Hello({ myName: 'three' }));

    // Stopping the group fails the two still held: nothing is lost silently, and the owner
    // hears of them before the group's Completed (an owner that ends at Completed sees them).
    owner.group.stop();
    await owner.next(NotDelivered, (m) => m.reason === 'member-ended');
    await owner.next(NotDelivered, (m) => m.reason === 'member-ended');
    await owner.next(Completed);
    const order = owner.inbox
      .map((r) => r.message)
      .filter((m) => Completed.is(m) || (NotDelivered.is(m) && m.reason === 'member-ended'))
      .map((m) => m.type);
    expect(order).toEqual([NotDelivered.type, NotDelivered.type, Completed.type]);
    expect(dead.filter((d) => d.reason === 'not-delivered')).toHaveLength(3);
  });

  it('group - reaches Ready when the server starts after the client', async () => {
    const port = await freePort();
    const client = testRuntime({ name: 'client' });
    const attempts = new AttemptCounter(client);
    const owner = await startOwner(
      client,
      groupTable({ server: connectTo(local(port), { backoff: QUICK }) }),
    );
    await attempts.untilEnded(2);
    expect(owner.count(Ready)).toBe(0);
    await welcomingServer(testRuntime({ name: 'server' }), { port });
    await owner.next(Ready);
  });
});

describe('backoff through a member (TestClock on the client)', () => {
  async function clocked(name = 'client') {
    const clock = new TestClock();
    const runtime = testRuntime({ name, clock, random: () => 0 });
    return { clock, runtime, attempts: new AttemptCounter(runtime) };
  }

  /** Steps the clock to just before `ms`, checks nothing started, then to `ms`. */
  async function expectNextAttemptAfter(
    clock: TestClock,
    attempts: AttemptCounter,
    ms: number,
    { ends = true }: { ends?: boolean } = {},
  ): Promise<void> {
    const before = attempts.started;
    await clock.advanceAsync(ms - 1);
    expect(attempts.started).toBe(before);
    await clock.advanceAsync(1);
    expect(attempts.started).toBe(before + 1);
    if (ends) await attempts.untilEnded(before + 1);
  }

  it('group - uses the loopback schedule (2 s, 4 s, then 8 s) by default for 127.0.0.1', async () => {
    const port = await freePort();
    const { clock, runtime, attempts } = await clocked();
    await startOwner(runtime, groupTable({ server: connectTo(local(port)) }));
    await attempts.untilEnded(1);
    for (const ms of [2000, 4000, 8000, 8000]) await expectNextAttemptAfter(clock, attempts, ms);
  });

  it('group - a server that accepts and closes at once costs one attempt per backoff step (no hot loop)', async () => {
    const slam = await slammingServer();
    const { clock, runtime, attempts } = await clocked();
    const owner = await startOwner(
      runtime,
      groupTable({ server: connectTo(local(slam.port), { backoff: EXACT }) }),
    );
    await attempts.untilEnded(1);
    for (const ms of [1000, 2000, 4000, 4000]) await expectNextAttemptAfter(clock, attempts, ms);
    expect(slam.accepted()).toBe(5);
    expect(owner.count(Ready)).toBe(0);
  });

  it('group - a connection that is established and dropped at once waits the next step before reconnecting', async () => {
    const serverRuntime = testRuntime({ name: 'server' });
    // A server whose session ends at once: the handshake completes, then it closes.
    const { port } = await welcomingServer(serverRuntime, {
      listen: { session: sessionOf(async () => 'bye') },
    });
    const { clock, runtime, attempts } = await clocked();
    const owner = await startOwner(
      runtime,
      groupTable({ server: connectTo(local(port), { backoff: EXACT }) }),
    );
    await attempts.untilEnded(1);
    await owner.next(Ready);
    await owner.next(NotReady);
    for (const ms of [1000, 2000, 4000]) {
      await expectNextAttemptAfter(clock, attempts, ms);
      await owner.next(Ready);
      await owner.next(NotReady);
    }
    expect(attempts.started).toBe(4);
  });

  it('group - restarts the schedule only after a connection stayed up for stableAfterMs', async () => {
    let serverRuntime = testRuntime({ name: 'server' });
    const { port } = await welcomingServer(serverRuntime);
    const { clock, runtime, attempts } = await clocked();
    const owner = await startOwner(
      runtime,
      groupTable({ server: connectTo(local(port), { backoff: EXACT, stableAfterMs: 1500 }) }),
    );
    await owner.next(Ready);
    // Two quick drops walk the schedule forward: 1 s, then 2 s.
    for (const ms of [1000, 2000]) {
      await serverRuntime.close();
      await owner.next(NotReady);
      serverRuntime = testRuntime({ name: 'server' });
      await welcomingServer(serverRuntime, { port });
      await expectNextAttemptAfter(clock, attempts, ms, { ends: false });
      await owner.next(Ready);
    }
    // Up for 1.5 s: the next drop starts again from the first step.
    await clock.advanceAsync(1500);
    await serverRuntime.close();
    await owner.next(NotReady);
    serverRuntime = testRuntime({ name: 'server' });
    await welcomingServer(serverRuntime, { port });
    await expectNextAttemptAfter(clock, attempts, 1000, { ends: false });
    await owner.next(Ready);
  });

  it('group - a member whose step limit runs out ends the group with Exhausted', async () => {
    const port = await freePort();
    const { clock, runtime, attempts } = await clocked();
    const owner = await startOwner(
      runtime,
      groupTable({ server: connectTo(local(port), { backoff: { ...EXACT, stepLimit: 2 } }) }),
    );
    await attempts.untilEnded(1);
    await expectNextAttemptAfter(clock, attempts, 1000);
    await expectNextAttemptAfter(clock, attempts, 2000);
    const done = await owner.next(Completed);
    expect(Exhausted.is(done.message.value)).toBe(true);
    expect(done.message.value).toMatchObject({ attempts: 3, code: 'HERALD_EXHAUSTED' });
    expect(done.from.equals(owner.group.address)).toBe(true);
    expect(runtime.isAlive(owner.group.address)).toBe(false);
  });

  it('group - sends TimedOut and ends when Ready does not come within getReadyMs', async () => {
    const port = await freePort();
    const { clock, runtime, attempts } = await clocked();
    const owner = await startOwner(runtime, groupTable({ server: connectTo(local(port)) }), {
      getReadyMs: 5000,
    });
    await attempts.untilEnded(1);
    await clock.advanceAsync(4999);
    expect(owner.count(TimedOut)).toBe(0);
    await clock.advanceAsync(1);
    const timedOut = await owner.next(TimedOut);
    expect(timedOut.message.after).toBe(5000);
    const done = await owner.next(Completed);
    expect(TimedOut.is(done.message.value)).toBe(true);
  });
});

const SessionStarted = defineMessage('test.SessionStarted', {
  previous: t.unknown(),
  server: t.address(),
});

/** A group session: announces itself with the previous session's value, counts lives. */
async function countingSession(self: Self, context: GroupSessionContext) {
  self.send(
    context.owner,
    SessionStarted({ previous: context.previous, server: context.members['server'] as Address }),
  );
  await self.receive(Stop);
  return typeof context.previous === 'number' ? context.previous + 1 : 1;
}

describe('group sessions', () => {
  it('group - creates the session at Ready, stops it at NotReady and creates it again with the previous value', async () => {
    let serverRuntime = testRuntime({ name: 'server' });
    const { port } = await welcomingServer(serverRuntime);
    const owner = await startOwner(
      testRuntime({ name: 'client' }),
      groupTable({ server: connectTo(local(port), { backoff: QUICK }) }),
      { session: sessionOf(countingSession) },
    );
    await owner.next(Ready);
    const first = await owner.next(SessionStarted);
    expect(first.message.previous).toBeUndefined();
    expect(first.message.server.equals(owner.group.server as Address)).toBe(true);

    await serverRuntime.close();
    await owner.next(NotReady);
    serverRuntime = testRuntime({ name: 'server' });
    await welcomingServer(serverRuntime, { port });
    await owner.next(Ready);
    expect((await owner.next(SessionStarted)).message.previous).toBe(1);

    // Stopping the group ends it with the running session's value.
    owner.group.stop();
    expect((await owner.next(Completed)).message.value).toBe(2);
  });

  it('group - ends with the value of a session that completes by itself', async () => {
    const { port } = await welcomingServer(testRuntime({ name: 'server' }));
    const owner = await startOwner(
      testRuntime({ name: 'client' }),
      groupTable({ server: connectTo(local(port), { backoff: QUICK }) }),
      { session: sessionOf(async () => 'done') },
    );
    await owner.next(Ready);
    await owner.next(NotReady);
    expect((await owner.next(Completed)).message.value).toBe('done');
  });
});

describe('listen-at members', () => {
  it('group - a listen-at member reports its endpoint and relays connections and client messages to the owner', async () => {
    const owner = await startOwner(
      testRuntime({ name: 'server' }),
      groupTable({ listener: listenAt({ port: 0 }) }),
    );
    const update = await owner.next(GroupUpdate);
    await owner.next(Ready);
    const port = update.message.endpoint?.port as number;
    expect(port).toBeGreaterThan(0);

    const client = testRuntime({ name: 'client' });
    const reply = new Promise<unknown>((resolve) => {
      client.spawn(async (self: Self) => {
        connect(self, local(port));
        await self.receive(Connected);
        self.reply(Hello({ myName: 'Gladys' }));
        resolve(await self.receive(Welcome));
      });
    });
    await owner.next(Accepted);
    const hello = await owner.next(Hello);
    owner.self.send(hello.from, Welcome({ yourName: hello.message.myName, myName: 'group' }));
    expect(await reply).toMatchObject({ yourName: 'Gladys', myName: 'group' });
  });

  it('group - retries a failed listen every 4 s by default until the port is free', async () => {
    const busy = await slammingServer();
    const clock = new TestClock();
    const runtime: Runtime = testRuntime({ name: 'server', clock });
    // The listener actor ends after each failed listen.
    const failed = new Promise<void>((resolve) => {
      runtime.inspect((event) => {
        if (event.kind === 'destroyed' && event.name === 'Listener') resolve();
      });
    });
    const owner = await startOwner(
      runtime,
      groupTable({ listener: listenAt({ port: busy.port }) }),
    );
    await failed;
    await busy.close();
    await clock.advanceAsync(3999);
    expect(owner.count(Ready)).toBe(0);
    await clock.advanceAsync(1);
    await owner.next(Ready);
    expect(owner.group.endpointOf('listener')?.port).toBe(busy.port);
  });
});
