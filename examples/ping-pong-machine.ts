/**
 * Ping-pong with a state machine: the ponger is an xstate v5 machine.
 *
 * Shows: a machine spawned with `self.spawn(machine, input)`, Herald messages used
 * directly as xstate events, the `herald.reply` action helper, Stop handled as an
 * ordinary event that moves the machine to a final state, and the machine's `output`
 * coming back to the parent as the value of Completed. The pinger is a function actor
 * run by the process runner `run()`, which prints its return value on stdout.
 *
 * Run it:
 *
 *   node --import tsx examples/ping-pong-machine.ts
 *   node --import tsx examples/ping-pong-machine.ts --count=3 --debug-level=DEBUG
 *   node --import tsx examples/ping-pong-machine.ts --help
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { Completed, Stop, herald, run, type Self } from '@herald/runtime';
import { assign, setup } from 'xstate';

export const Ping = defineMessage('Ping', { n: t.int() });
export type Ping = MessageOf<typeof Ping>;
export const Pong = defineMessage('Pong', { n: t.int() });
export type Pong = MessageOf<typeof Pong>;

/**
 * Serves Pings until Stop. The state is shown in debug logs (`"state":"serving"`).
 * Its output, `{ served, lastPing }`, is its completion value.
 */
export const pongerMachine = setup({
  types: {
    context: {} as { served: number; lastPing: number; label: string },
    events: {} as Ping | Stop,
    input: {} as { label: string },
    output: {} as { label: string; served: number; lastPing: number },
  },
}).createMachine({
  id: 'ponger',
  context: ({ input }) => ({ served: 0, lastPing: 0, label: input.label }),
  initial: 'serving',
  states: {
    serving: {
      on: {
        Ping: {
          actions: [
            assign({
              served: ({ context }) => context.served + 1,
              lastPing: ({ event }) => event.n,
            }),
            // Replies go to the return address of the event being handled.
            herald.reply(({ event }) => Pong({ n: event.n })),
          ],
        },
        // A machine that does not take Stop is ended with Aborted; this one finishes cleanly.
        [Stop.type]: { target: 'finished' },
      },
    },
    finished: { type: 'final' },
  },
  output: ({ context }) => ({
    label: context.label,
    served: context.served,
    lastPing: context.lastPing,
  }),
});

/** The main actor: spawns the machine, plays `count` rounds, stops it and reports. */
async function pinger(self: Self, settings: { count: number; label: string }) {
  const partner = self.spawn(pongerMachine, { label: settings.label });
  let rounds = 0;
  for (let n = 1; n <= settings.count; n++) {
    // ask() = send, then receive one of the given types (other arrivals are saved).
    const pong = await self.ask(partner, Ping({ n }), Pong);
    if (!Pong.is(pong)) throw new Error(pong.explanation); // Unanswered: the machine ended
    if (pong.n !== n) throw new Error(`expected Pong ${n}, got Pong ${pong.n}`);
    rounds++;
  }
  self.stop(partner);
  const done = await self.receive(Completed);
  return { rounds, machine: done.value };
}

await run(pinger, {
  name: 'ping-pong-machine',
  description: 'A function actor playing Ping-Pong against an xstate machine.',
  settings: { count: 10, label: 'ponger' },
  help: {
    count: 'rounds of Ping and Pong to play',
    label: "a label echoed in the machine's output",
  },
});
