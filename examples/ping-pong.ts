/**
 * Ping-pong: two function actors exchange Ping and Pong messages.
 *
 * Shows: declaring messages, `self.spawn`, `self.send`, `self.receive`, `self.reply`,
 * handling Stop, and a child's return value coming back to its parent as Completed.
 * The main actor (the pinger) runs under the process runner `run()`, which prints its
 * return value on stdout.
 *
 * Run it:
 *
 *   node --import tsx examples/ping-pong.ts
 *   node --import tsx examples/ping-pong.ts --count=3 --debug-level=DEBUG
 *   node --import tsx examples/ping-pong.ts --help
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { Completed, Stop, run, type Self } from '@herald/runtime';

export const Ping = defineMessage('Ping', { n: t.int() });
export type Ping = MessageOf<typeof Ping>;
export const Pong = defineMessage('Pong', { n: t.int() });
export type Pong = MessageOf<typeof Pong>;

/** Answers every Ping with a Pong until asked to stop; returns how many it answered. */
export async function ponger(self: Self): Promise<{ served: number }> {
  let served = 0;
  for (;;) {
    const message = await self.receive(Ping, Stop);
    switch (message.type) {
      case 'Ping':
        served++;
        // reply() sends to the return address of the message received last: the pinger.
        self.reply(Pong({ n: message.n }));
        break;
      case Stop.type:
        // Matching Stop means we choose how to end; without it, Stop ends us with Aborted.
        return { served };
    }
  }
}

/** The main actor: spawns a ponger, plays `count` rounds, stops it and reports. */
async function pinger(self: Self, settings: { count: number }) {
  const partner = self.spawn(ponger);
  self.log.info({ partner: partner.toString() }, 'spawned ponger');
  let rounds = 0;
  for (let n = 1; n <= settings.count; n++) {
    self.send(partner, Ping({ n }));
    const pong = await self.receive(Pong);
    if (pong.n !== n) throw new Error(`expected Pong ${n}, got Pong ${pong.n}`);
    rounds++;
  }
  self.stop(partner);
  // The child's return value arrives as Completed from the child's address.
  const done = await self.receive(Completed);
  return { rounds, ponger: done.value };
}

await run(pinger, {
  name: 'ping-pong',
  description: 'Two function actors exchanging Ping and Pong.',
  settings: { count: 10 },
  help: { count: 'rounds of Ping and Pong to play' },
});
