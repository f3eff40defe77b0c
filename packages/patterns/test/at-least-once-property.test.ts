/**
 * Property: over a link that loses and duplicates messages and acknowledgements in both
 * directions (driven by fast-check), every at-least-once message ends in exactly one of
 * Delivered or NotDelivered, the receiving application sees each message at most once,
 * and every Delivered message was seen exactly once.
 */
import type { Address, AnyMessage } from '@herald/codec';
import { TestClock, settle, type Handler } from '@herald/runtime';
import {
  closeTestRuntimes,
  propertyParameters,
  propertySeeds,
  spawnProbe,
  testRuntime,
} from '@herald/testing';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Ack, Delivered, NotDelivered, Reliable } from '../src/messages.js';
import { createOutlet, type Outlet } from '../src/outlet.js';
import { Job, spawnReceiver } from './support.js';

afterEach(closeTestRuntimes);

/** What the link does with the next message in one direction: 0 pass, 1 lose, 2 duplicate. */
type Fate = 0 | 1 | 2;

/** An actor between the outlet and the receiver that loses and duplicates in both directions. */
function lossyLink(receiver: Address, forward: Fate[], backward: Fate[]): Handler {
  let outlet: Address | undefined;
  let f = 0;
  let b = 0;
  return {
    receive(self, message: AnyMessage, envelope) {
      if (Reliable.is(message)) {
        outlet = envelope.from;
        const fate = forward[f++ % forward.length] ?? 0;
        if (fate !== 1) self.send(receiver, message);
        if (fate === 2) self.send(receiver, message);
      } else if (Ack.is(message) && outlet !== undefined) {
        const fate = backward[b++ % backward.length] ?? 0;
        if (fate !== 1) self.send(outlet, message);
        if (fate === 2) self.send(outlet, message);
      }
    },
  };
}

const fates = fc.array(fc.constantFrom<Fate>(0, 0, 0, 1, 2), { minLength: 1, maxLength: 40 });

describe('at-least-once over a lossy, duplicating link (property)', () => {
  for (const seed of propertySeeds()) {
    it(`each message ends once; the application never sees one twice (seed ${seed})`, async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.integer({ min: 1, max: 25 }),
          fates,
          fates,
          fc.integer({ min: 2, max: 6 }),
          async (count, forward, backward, maxAttempts) => {
            const runtime = testRuntime({ clock: new TestClock() });
            try {
              const receiver = await spawnReceiver(runtime);
              const link = runtime.spawn(lossyLink(receiver.address, forward, backward));
              let outlet: Outlet | undefined;
              const owner = await spawnProbe(runtime, {
                onStart: (self) => {
                  outlet = createOutlet(self, {
                    delivery: 'at-least-once',
                    confirm: true,
                    ackTimeoutMs: 100,
                    maxRetryDelayMs: 400,
                    maxAttempts,
                  });
                },
              });
              outlet!.addPeer(link);
              const ids = Array.from({ length: count }, (_, n) => outlet!.send(Job({ n })));
              for (let i = 0; i < 200 && outlet!.pending > 0; i++) {
                runtime.clock.advance(100);
                await settle();
              }
              await settle();
              expect(outlet!.pending).toBe(0);
              const delivered = owner.all(Delivered).map((d) => d.id);
              const failed = owner.all(NotDelivered).map((d) => d.id);
              expect([...delivered, ...failed].sort()).toEqual([...ids].sort());
              const seen = receiver.accepted.entries.map((m) => (Job.is(m) ? m.n : -1));
              expect(new Set(seen).size).toBe(seen.length);
              for (const id of delivered) expect(seen).toContain(ids.indexOf(id));
            } finally {
              await runtime.close();
            }
          },
        ),
        propertyParameters(seed, 60),
      );
    });
  }
});
