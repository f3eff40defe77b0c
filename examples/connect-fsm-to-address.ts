/**
 * The client as a state machine: an xstate v5 machine connects, sends Hello and waits for
 * Welcome, bounded by an `after` delay on the runtime's clock.
 *
 * Shows: calling `connect()` from a machine (an `entry` action, with `herald.self(args)`
 * for the Self it needs), Connected / NotConnected / Abandoned as xstate events,
 * `herald.reply` sending to the return address of Connected (the proxy, so the server),
 * and the outcome as the machine's `output`: Welcome, or a fault (NotConnected, Abandoned,
 * TimedOut) that makes the process exit non-zero. States: `connecting` → `greeting` →
 * `done`.
 *
 * Start a server first (any of the three), then run this:
 *
 *   node --import tsx examples/listen-fsm-at-address.ts
 *   node --import tsx examples/connect-fsm-to-address.ts
 *
 * Flags: --host=127.0.0.1 --port=32011 --encrypted (must match the server) --name=Gladys
 * --timeout=5000 (ms to wait for Welcome) --debug-level=DEBUG.
 */
import {
  Hello as HelloMessage,
  clientHelp,
  plainClientSettings,
  helloWelcome,
  type PlainClientSettings,
  type Welcome,
} from './hello-welcome.js';
import { connect, type Abandoned, type Connected, type NotConnected } from '@herald/net';
import { Completed, Stop, TimedOut, herald, run, type Self } from '@herald/runtime';
import { assign, setup } from 'xstate';

type ClientEvent = Connected | NotConnected | Welcome | Abandoned;
type Outcome = Welcome | NotConnected | Abandoned | TimedOut;

interface ClientContext extends PlainClientSettings {
  outcome?: Outcome;
}

export const connectToAddress = setup({
  types: {
    input: {} as PlainClientSettings,
    context: {} as ClientContext,
    events: {} as ClientEvent,
    output: {} as Outcome | undefined,
  },
  actions: {
    // The machine is the controller: Connected and the server's replies come to it.
    connect: (args) => {
      const { context } = args;
      connect(
        herald.self(args),
        { host: context.host, port: context.port },
        { encrypted: context.encrypted },
      );
    },
    // Connected comes from the proxy, so replying to it sends Hello to the server.
    sayHello: herald.reply(({ context }) => HelloMessage({ myName: context.name })),
    keep: assign({ outcome: (_, outcome: Outcome) => outcome }),
  },
  delays: {
    welcomeTimeout: ({ context }) => context.timeout,
  },
}).createMachine({
  id: 'connect-to-address',
  context: ({ input }) => ({ ...input }),
  entry: 'connect',
  initial: 'connecting',
  states: {
    connecting: {
      on: {
        'herald.Connected': { target: 'greeting', actions: 'sayHello' },
        'herald.NotConnected': {
          target: 'done',
          actions: { type: 'keep', params: ({ event }) => event },
        },
      },
    },
    greeting: {
      on: {
        Welcome: { target: 'done', actions: { type: 'keep', params: ({ event }) => event } },
        'herald.Abandoned': {
          target: 'done',
          actions: { type: 'keep', params: ({ event }) => event },
        },
      },
      after: {
        welcomeTimeout: {
          target: 'done',
          actions: {
            type: 'keep',
            params: ({ context }) =>
              TimedOut({
                after: context.timeout,
                explanation: `no Welcome within ${context.timeout} ms`,
              }),
          },
        },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => context.outcome,
});

/** Hosts the machine: Ctrl-C (Stop) is passed on, and the machine's output is the result. */
async function main(self: Self, settings: PlainClientSettings) {
  const machine = self.spawn(connectToAddress, settings);
  const first = await self.receive(Completed, Stop);
  if (Completed.is(first)) return first.value;
  self.stop(machine);
  return (await self.receive(Completed)).value;
}

await run(main, {
  name: 'connect-fsm-to-address',
  description: 'An xstate machine connects, sends Hello and returns the Welcome that comes back.',
  settings: plainClientSettings,
  help: clientHelp,
  messages: helloWelcome,
});
