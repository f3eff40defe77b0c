/**
 * Whole topologies in one process on the simulated network (@herald/testing's simnet):
 * every runtime shares one TestClock, links have latency drawn from a seeded source, and
 * faults are steps of the test. The same seed gives the same run, event for event.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineMessage, t } from '@herald/codec';
import { TestClock } from '@herald/runtime';
import {
  closeTestRuntimes,
  createSimNetwork,
  Hello,
  spawnProbe,
  testRuntime,
  Welcome,
  type Probe,
  type SimEvent,
  type SimNetwork,
} from '@herald/testing';
import {
  Accepted,
  connect,
  connectTo,
  Connected,
  groupTable,
  listen,
  Listening,
  NotReady,
  Ready,
} from '../src/index.js';
import { startOwner } from './group/support.js';

afterEach(closeTestRuntimes);

/** B tells A where C is: an address inside a body, which B thereby gives to A. */
const Route = defineMessage('test.Route', { to: t.address() });
const messages = [Hello, Welcome, Route];

/** Advances the shared clock a millisecond at a time until `promise` settles (bounded). */
async function drive<T>(clock: TestClock, promise: Promise<T>, limitMs = 120_000): Promise<T> {
  let done = false;
  const settled = promise.finally(() => (done = true));
  settled.catch(() => {});
  for (let ms = 0; !done; ms++) {
    if (ms > limitMs) throw new Error(`nothing settled within ${limitMs} ms of simulated time`);
    await clock.advanceAsync(1);
  }
  return settled;
}

/** A server on `host`:80 that answers Hello with Welcome. */
async function welcoming(sim: SimNetwork, clock: TestClock, host: string): Promise<Probe> {
  const server = await spawnProbe(testRuntime({ clock, messages, name: host }), {
    name: host,
    onStart: (self) =>
      listen(self, { host, port: 80 }, { transport: sim.node(host).transport, messages }),
    onMessage: (message, self) => {
      if (Hello.is(message)) self.reply(Welcome({ yourName: message.myName, myName: host }));
    },
  });
  await drive(clock, server.next(Listening));
  return server;
}

/**
 * A → B → C: A reaches C's server through B, knowing only what B gave it. Returns the
 * simulated time the round trip took and every network event.
 */
async function relayChain(seed: number): Promise<{ rtt: number; events: SimEvent[] }> {
  const clock = new TestClock();
  const events: SimEvent[] = [];
  const sim = createSimNetwork({ clock, seed, onEvent: (e) => events.push(e) });
  sim.setLatency('a', 'b', { min: 5, max: 15 });
  sim.setLatency('b', 'c', { min: 5, max: 15 });
  await welcoming(sim, clock, 'c');
  // B: connects to C, listens for A, and tells each A where C is.
  const b = await spawnProbe(testRuntime({ clock, messages, name: 'b' }), {
    name: 'b',
    onStart: (self) => {
      connect(self, { host: 'c', port: 80 }, { transport: sim.node('b').transport, messages });
      listen(self, { host: 'b', port: 80 }, { transport: sim.node('b').transport, messages });
    },
  });
  // Either may come first: look, do not walk.
  const toC = (await drive(clock, b.waitFor(Connected))).remote;
  await drive(clock, b.waitFor(Listening));
  const a = await spawnProbe(testRuntime({ clock, messages, name: 'a' }), 'a');
  connect(a.self, { host: 'b', port: 80 }, { transport: sim.node('a').transport, messages });
  const toB = (await drive(clock, a.next(Connected))).from;
  const accepted = await drive(clock, b.next(Accepted));
  b.self.send(accepted.from, Route({ to: toC }));
  const route = await drive(clock, a.next(Route));
  // On A's side the address is a path through B: two hops.
  expect(route.message.to.hops).toEqual([toC.local, toB.local]);
  const sentAt = clock.now();
  a.self.send(route.message.to, Hello({ myName: 'a' }));
  const welcome = await drive(clock, a.next(Welcome));
  expect(welcome.message.myName).toBe('c');
  return { rtt: clock.now() - sentAt, events };
}

describe('simulated network - whole topologies, deterministic', () => {
  it('a relay chain A → B → C: A reaches C through what B gave it, and the reply retraces the path', async () => {
    const { rtt } = await relayChain(11);
    // Two links each way, each 5..15 ms.
    expect(rtt).toBeGreaterThanOrEqual(20);
    expect(rtt).toBeLessThanOrEqual(60);
  });

  it('the same seed gives the same run, event for event; another seed another run', async () => {
    const first = await relayChain(42);
    const again = await relayChain(42);
    expect(again.events).toEqual(first.events);
    expect(again.rtt).toBe(first.rtt);
    const other = await relayChain(43);
    expect(other.events).not.toEqual(first.events);
  });

  it('a group of three: Ready when all are up, NotReady when one restarts, Ready again when it is back', async () => {
    const clock = new TestClock();
    const sim = createSimNetwork({ clock, seed: 3, latency: { min: 1, max: 4 } });
    for (const host of ['s1', 's2', 's3']) await welcoming(sim, clock, host);
    const quick = { steps: [100, 200], regular: 500, jitter: 0, jitterQuantumMs: 250 };
    const transport = sim.node('client').transport;
    const member = (host: string) =>
      connectTo({ host, port: 80 }, { transport, messages, backoff: quick });
    const owner = await startOwner(
      testRuntime({ clock, messages, name: 'client' }),
      groupTable({ s1: member('s1'), s2: member('s2'), s3: member('s3') }),
    );
    await drive(clock, owner.next(Ready));
    const restarted = sim.node('s2').restart({ downMs: 1_000 });
    const down = await drive(clock, owner.next(NotReady));
    expect(down.message.type).toBe(NotReady.type);
    await drive(clock, restarted);
    await drive(clock, owner.next(Ready));
    // Traffic goes through the member that came back.
    owner.self.send(owner.group.s2 as never, Hello({ myName: 'after' }));
    const welcome = await drive(clock, owner.next(Welcome));
    expect(welcome.message.myName).toBe('s2');
  });
});
