/**
 * Herald itself over the simulated network: listen() and connect() given a sim node's
 * transport, a round trip with link latency on the runtimes' shared TestClock, and a black
 * hole that only the keep-alive can notice. The topologies (groups, relay chains, restarts)
 * are the net package's tests; this one shows that the pieces fit.
 */
import { TestClock } from '@herald/runtime';
import { Abandoned, Accepted, Connected, Listening, connect, listen } from '@herald/net';
import { afterEach, describe, expect, it } from 'vitest';
import { Hello, Welcome, closeTestRuntimes, spawnProbe, testRuntime } from '../src/index.js';
import { createSimNetwork } from '../src/simnet.js';

afterEach(closeTestRuntimes);

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

describe('Herald over the simulated network', () => {
  it('simnet - a client says Hello across a 20 ms link and the Welcome takes one more round trip', async () => {
    const clock = new TestClock();
    const sim = createSimNetwork({ clock, seed: 7 });
    sim.setLatency('alice', 'server', 20);
    const server = await spawnProbe(testRuntime({ clock }), {
      name: 'server',
      onStart: (self) =>
        listen(self, { host: 'server', port: 80 }, { transport: sim.node('server').transport }),
      onMessage: (message, self) => {
        if (Hello.is(message)) self.reply(Welcome({ yourName: message.myName, myName: 'server' }));
      },
    });
    await drive(clock, server.next(Listening));
    const client = await spawnProbe(testRuntime({ clock }), 'client');
    connect(client.self, { host: 'server', port: 80 }, { transport: sim.node('alice').transport });
    const { message, from } = await drive(clock, client.next(Connected));
    expect(message.peer).toEqual({ host: 'server', port: 80 });
    await drive(clock, server.next(Accepted));
    const sentAt = clock.now();
    client.self.send(from, Hello({ myName: 'alice' }));
    const welcome = await drive(clock, client.next(Welcome));
    expect(welcome.message.yourName).toBe('alice');
    expect(clock.now() - sentAt).toBeGreaterThanOrEqual(40);
  });

  it('simnet - a black-holed server is noticed by the keep-alive: Abandoned after idle + timeout on the clock', async () => {
    const clock = new TestClock();
    const sim = createSimNetwork({ clock, seed: 7 });
    const server = await spawnProbe(testRuntime({ clock }), {
      name: 'server',
      onStart: (self) =>
        listen(self, { host: 'server', port: 80 }, { transport: sim.node('server').transport }),
    });
    await drive(clock, server.next(Listening));
    const client = await spawnProbe(testRuntime({ clock }), 'client');
    connect(
      client.self,
      { host: 'server', port: 80 },
      { transport: sim.node('alice').transport, keepaliveIdleMs: 1000, keepaliveTimeoutMs: 500 },
    );
    await drive(clock, client.next(Connected));
    sim.blackHole('server');
    const start = clock.now();
    await drive(clock, client.next(Abandoned));
    const took = clock.now() - start;
    expect(took).toBeGreaterThanOrEqual(1000);
    expect(took).toBeLessThanOrEqual(3000);
  });
});
