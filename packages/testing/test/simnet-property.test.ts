/**
 * The simulated network under random conditions: whatever the latency range, held
 * partitions, reader pauses and write sizes, every byte arrives exactly once and in order,
 * the writer's backpressure is obeyed, and the same network seed replays the same events.
 */
import { createHash } from 'node:crypto';
import { TestClock, settle } from '@herald/runtime';
import type { TransportConnection } from '@herald/net';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters, propertySeeds } from '../src/property.js';
import { createSimNetwork, type SimEvent } from '../src/simnet.js';

interface Scenario {
  readonly netSeed: number;
  readonly minMs: number;
  readonly spreadMs: number;
  readonly writes: readonly number[];
  /** Step at which a held partition starts, and for how many steps it lasts. */
  readonly holds: readonly (readonly [number, number])[];
  /** Pause the reader on every step divisible by this (0: never). */
  readonly pauseEvery: number;
}

const scenario: fc.Arbitrary<Scenario> = fc.record({
  netSeed: fc.integer(),
  minMs: fc.nat(20),
  spreadMs: fc.nat(40),
  writes: fc.array(fc.integer({ min: 1, max: 40_000 }), { minLength: 1, maxLength: 30 }),
  holds: fc.array(fc.tuple(fc.nat(30), fc.integer({ min: 1, max: 10 })), { maxLength: 3 }),
  pauseEvery: fc.nat(4),
});

/**
 * Runs the network until `done()`: lets zero-latency deliveries (event-loop turns) happen,
 * then jumps the clock to the next timer. Fails at once when nothing is left to happen.
 */
async function until(clock: TestClock, done: () => boolean, what: string): Promise<void> {
  for (let idle = 0; !done();) {
    await settle();
    if (done()) return;
    const due = clock.nextDue();
    if (due !== undefined) {
      idle = 0;
      await clock.advanceAsync(due - clock.now());
    } else if (++idle > 50) {
      throw new Error(`the network went quiet at ${clock.now()} ms before ${what}`);
    }
  }
}

/** Runs one scenario; returns the event log and whether the bytes arrived intact. */
async function run(s: Scenario): Promise<{ events: SimEvent[]; intact: boolean; sent: number }> {
  const clock = new TestClock();
  const events: SimEvent[] = [];
  const sim = createSimNetwork({
    clock,
    seed: s.netSeed,
    latency: { min: s.minMs, max: s.minMs + s.spreadMs },
    onEvent: (event) => events.push(event),
  });
  let server: TransportConnection | undefined;
  await sim.node('server').transport.listen({ host: 'server', port: 1 }, (c) => (server = c));
  let client: TransportConnection | undefined;
  void sim
    .node('client')
    .transport.dial({ host: 'server', port: 1 })
    .then((c) => (client = c));
  await until(clock, () => client !== undefined && server !== undefined, 'the connection');
  const writer = client!.stream;
  const reader = server!.stream;
  const sentHash = createHash('sha256');
  const receivedHash = createHash('sha256');
  let received = 0;
  let ended = false;
  reader.on('data', (chunk: Buffer) => {
    receivedHash.update(chunk);
    received += chunk.length;
  });
  reader.on('end', () => (ended = true));

  const partitions = new Map<number, () => void>();
  let sent = 0;
  for (let step = 0; step < s.writes.length; step++) {
    for (const [start, length] of s.holds) {
      if (start === step) {
        const fault = sim.partition(['client'], ['server']);
        partitions.set(step + length, () => fault.heal());
      }
    }
    partitions.get(step)?.();
    if (s.pauseEvery > 0 && step % s.pauseEvery === 0) reader.pause();
    else reader.resume();
    const bytes = Buffer.alloc(s.writes[step]!, step % 251);
    sentHash.update(bytes);
    sent += bytes.length;
    if (!writer.write(bytes)) {
      let drained = false;
      writer.once('drain', () => (drained = true));
      reader.resume();
      sim.heal();
      await until(clock, () => drained, "'drain'");
    }
    await clock.advanceAsync(1 + (step % 7));
  }
  sim.heal();
  reader.resume();
  writer.end();
  await until(clock, () => ended, "the reader's 'end'");
  const intact = received === sent && receivedHash.digest('hex') === sentHash.digest('hex');
  return { events, intact, sent };
}

describe('simulated network - properties', () => {
  it('simnet - every byte arrives once and in order, whatever the latency, held partitions and pauses; a seed replays its run', async () => {
    for (const seed of propertySeeds()) {
      await fc.assert(
        fc.asyncProperty(scenario, async (s) => {
          const first = await run(s);
          expect(first.intact).toBe(true);
          const again = await run(s);
          expect(again.events).toEqual(first.events);
        }),
        propertyParameters(seed, 15),
      );
    }
  });
});
