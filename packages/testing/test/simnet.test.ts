/**
 * The simulated network at the byte level: latency on the TestClock, partitions (held and
 * dropped), a black hole, dropped connections, a restarting peer, backpressure through a
 * stalled link, and the same seed giving the same run.
 */
import { TestClock, settle } from '@herald/runtime';
import type { TransportConnection } from '@herald/net';
import { describe, expect, it } from 'vitest';
import { createSimNetwork, type SimEvent, type SimNetwork } from '../src/simnet.js';

/** Everything a stream has delivered so far (read synchronously as it arrives). */
function collector(connection: TransportConnection): { text: () => string; errors: Error[] } {
  const chunks: Buffer[] = [];
  const errors: Error[] = [];
  connection.stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  connection.stream.on('error', (error: Error) => errors.push(error));
  return { text: () => Buffer.concat(chunks).toString(), errors };
}

interface Topology {
  sim: SimNetwork;
  clock: TestClock;
  accepted: TransportConnection[];
}

async function serverAt(
  port: number,
  options: {
    seed?: number;
    latency?: number | { min: number; max: number };
    events?: SimEvent[];
  } = {},
): Promise<Topology> {
  const clock = new TestClock();
  const events = options.events;
  const sim = createSimNetwork({
    clock,
    seed: options.seed ?? 1,
    ...(options.latency !== undefined && { latency: options.latency }),
    ...(events !== undefined && { onEvent: (event: SimEvent) => events.push(event) }),
  });
  const accepted: TransportConnection[] = [];
  await sim.node('server').transport.listen({ host: 'server', port }, (connection) => {
    connection.stream.on('error', () => {});
    accepted.push(connection);
  });
  return { sim, clock, accepted };
}

/** Dials and steps the clock until the dial settles (bounded: fails after `limitMs`). */
async function dialThrough(
  topology: Topology,
  from: string,
  port: number,
  limitMs = 10_000,
): Promise<TransportConnection> {
  let result: TransportConnection | Error | undefined;
  topology.sim
    .node(from)
    .transport.dial({ host: 'server', port })
    .then(
      (connection) => (result = connection),
      (error: unknown) => (result = error as Error),
    );
  for (let waited = 0; result === undefined && waited <= limitMs; waited++)
    await topology.clock.advanceAsync(1);
  if (result === undefined) throw new Error(`dial from ${from} did not settle in ${limitMs} ms`);
  if (result instanceof Error) throw result;
  // Resets are asserted through collector(); an unobserved one must not fail the run.
  result.stream.on('error', () => {});
  return result;
}

describe('simulated network', () => {
  it('simnet - bytes arrive after the link latency on the TestClock, not before', async () => {
    const topology = await serverAt(80, { latency: 50 });
    const { clock, accepted } = topology;
    const client = await dialThrough(topology, 'alice', 80);
    // SYN out, SYN-ACK back: one round trip.
    expect(clock.now()).toBe(100);
    const server = collector(accepted[0]!);
    client.stream.write('hello');
    await clock.advanceAsync(49);
    expect(server.text()).toBe('');
    await clock.advanceAsync(1);
    expect(server.text()).toBe('hello');
  });

  it('simnet - with a latency range, bytes arrive in order within the range', async () => {
    const topology = await serverAt(80, { latency: { min: 5, max: 40 } });
    const client = await dialThrough(topology, 'alice', 80);
    const server = collector(topology.accepted[0]!);
    const sentAt = topology.clock.now();
    const expected: string[] = [];
    for (let i = 0; i < 50; i++) {
      expected.push(`<${i}>`);
      client.stream.write(`<${i}>`);
    }
    await topology.clock.advanceAsync(4);
    expect(server.text()).toBe('');
    await topology.clock.advanceAsync(36);
    expect(server.text()).toBe(expected.join(''));
    expect(topology.clock.now() - sentAt).toBe(40);
  });

  it('simnet - a held partition delivers nothing until healed, then everything in order; a dial across it waits', async () => {
    const topology = await serverAt(80);
    const { sim, clock, accepted } = topology;
    const client = await dialThrough(topology, 'alice', 80);
    const server = collector(accepted[0]!);
    const partition = sim.partition(['alice'], ['server']);
    client.stream.write('one ');
    client.stream.write('two');
    accepted[0]!.stream.write('back');
    const back = collector(client);
    let bobConnected = false;
    void sim
      .node('bob')
      .transport.dial({ host: 'server', port: 80 })
      .then(() => (bobConnected = true));
    await clock.advanceAsync(60_000);
    await settle();
    expect(server.text()).toBe('');
    expect(back.text()).toBe('');
    expect(bobConnected).toBe(true); // bob is not in the partition
    const carol = sim.node('carol');
    const cut = sim.partition(['carol'], 'rest');
    let carolConnected = false;
    void carol.transport.dial({ host: 'server', port: 80 }).then(() => (carolConnected = true));
    await clock.advanceAsync(60_000);
    expect(carolConnected).toBe(false);
    partition.heal();
    cut.heal();
    await settle(10);
    expect(server.text()).toBe('one two');
    expect(back.text()).toBe('back');
    expect(carolConnected).toBe(true);
    expect(partition.active).toBe(false);
  });

  it('simnet - a dropping partition loses the bytes: the old connection stays stalled after heal, a new one works', async () => {
    const topology = await serverAt(80);
    const { sim, accepted } = topology;
    const client = await dialThrough(topology, 'alice', 80);
    const old = collector(accepted[0]!);
    const partition = sim.partition(['alice'], ['server'], 'drop');
    client.stream.write('lost');
    await settle(10);
    partition.heal();
    client.stream.write(' and after');
    await settle(10);
    expect(old.text()).toBe('');
    const fresh = await dialThrough(topology, 'alice', 80);
    const now = collector(accepted[1]!);
    fresh.stream.write('new');
    await settle(10);
    expect(now.text()).toBe('new');
  });

  it('simnet - a black hole swallows a host: its connections stall, dials to it wait until aborted, others are untouched', async () => {
    const topology = await serverAt(80);
    const { sim, accepted } = topology;
    const alice = await dialThrough(topology, 'alice', 80);
    const bob = await dialThrough(topology, 'bob', 80);
    const atServerFromAlice = collector(accepted[0]!);
    const atServerFromBob = collector(accepted[1]!);
    sim.blackHole('alice');
    alice.stream.write('into the void');
    bob.stream.write('fine');
    await settle(10);
    expect(atServerFromAlice.text()).toBe('');
    expect(atServerFromBob.text()).toBe('fine');
    await sim.node('alice').transport.listen({ host: 'alice', port: 9 }, () => {});
    const controller = new AbortController();
    const dialing = sim
      .node('bob')
      .transport.dial({ host: 'alice', port: 9 }, { signal: controller.signal });
    await topology.clock.advanceAsync(120_000);
    controller.abort();
    await expect(dialing).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('simnet - a writer to a black-holed peer is held to its window: write() turns false and no drain comes', async () => {
    const topology = await serverAt(80);
    const client = await dialThrough(topology, 'alice', 80);
    topology.sim.blackHole('server', 'hold');
    let written = 0;
    let drained = false;
    client.stream.on('drain', () => (drained = true));
    for (let more = true; more;) {
      more = client.stream.write(Buffer.alloc(4096, 1));
      written += 4096;
      await settle(1);
      if (written > 1024 * 1024) throw new Error('the writer was never held back');
    }
    await topology.clock.advanceAsync(60_000);
    expect(drained).toBe(false);
    const server = collector(topology.accepted[0]!);
    topology.sim.heal();
    await new Promise<void>((resolve) => client.stream.once('drain', resolve));
    client.stream.end();
    await new Promise<void>((resolve) => topology.accepted[0]!.stream.once('end', resolve));
    expect(server.text().length).toBe(written);
  });

  it('simnet - dropConnections resets both ends with ECONNRESET', async () => {
    const topology = await serverAt(80);
    const client = await dialThrough(topology, 'alice', 80);
    await dialThrough(topology, 'bob', 80);
    const atClient = collector(client);
    const atServer = collector(topology.accepted[0]!);
    expect(topology.sim.dropConnections('alice', 'server')).toBe(1);
    await settle();
    expect(atClient.errors[0]).toMatchObject({ code: 'ECONNRESET' });
    expect(atServer.errors[0]).toMatchObject({ code: 'ECONNRESET' });
    expect(client.stream.destroyed).toBe(true);
    expect(topology.accepted[1]!.stream.destroyed).toBe(false);
  });

  it('simnet - a restarting peer resets its connections, refuses while down, and listens again on the same port after downMs', async () => {
    const topology = await serverAt(80);
    const { sim, clock, accepted } = topology;
    const client = await dialThrough(topology, 'alice', 80);
    const atClient = collector(client);
    const server = sim.node('server');
    const back = server.restart({ downMs: 5000 });
    expect(server.down).toBe(true);
    await settle();
    expect(atClient.errors[0]).toMatchObject({ code: 'ECONNRESET' });
    await expect(dialThrough(topology, 'alice', 80)).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
    await clock.advanceAsync(5000);
    await back;
    expect(server.down).toBe(false);
    const again = await dialThrough(topology, 'alice', 80);
    expect(again.remote).toEqual({ host: 'server', port: 80 });
    expect(accepted).toHaveLength(2);
  });

  it('simnet - the same seed gives the same run, event for event; another seed gives another', async () => {
    async function run(seed: number): Promise<SimEvent[]> {
      const events: SimEvent[] = [];
      const topology = await serverAt(80, { seed, latency: { min: 1, max: 30 }, events });
      for (const connection of topology.accepted) connection.stream.resume();
      const alice = await dialThrough(topology, 'alice', 80);
      const bob = await dialThrough(topology, 'bob', 80);
      for (let i = 0; i < 20; i++) {
        alice.stream.write(`a${i}`);
        bob.stream.write(`b${i}`.repeat(1 + (i % 3)));
        if (i === 10) topology.sim.partition(['bob'], ['server']);
        await topology.clock.advanceAsync(7);
      }
      topology.sim.heal();
      topology.sim.dropConnections('alice');
      await topology.clock.advanceAsync(100);
      for (const connection of topology.accepted) connection.stream.resume();
      return events;
    }
    const first = await run(42);
    const second = await run(42);
    const other = await run(43);
    expect(first.length).toBeGreaterThan(50);
    expect(second).toEqual(first);
    expect(other).not.toEqual(first);
    expect(first.some((event) => event.type === 'hold')).toBe(true);
    expect(first.some((event) => event.type === 'reset')).toBe(true);
  });

  it('simnet - a latency that is negative, fractional or an inverted range is HERALD_ERR_BAD_OPTION', () => {
    const clock = new TestClock();
    for (const latency of [-1, 1.5, { min: 5, max: 2 }])
      expect(() => createSimNetwork({ clock, seed: 1, latency })).toThrow(
        expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
      );
    const sim = createSimNetwork({ clock, seed: 1 });
    expect(() => sim.setLatency('a', 'b', { min: -2, max: 3 })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
    );
  });
});
