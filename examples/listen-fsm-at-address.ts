/**
 * The server as a state machine: an xstate v5 machine is the network controller. It
 * listens, then answers every Hello with a Welcome until it is stopped.
 *
 * Shows: calling `listen()` from a machine (an `entry` action, with `herald.self(args)`
 * for the Self it needs), Herald's session messages used directly as xstate events
 * (`'herald.Listening'`, `'herald.Accepted'`, ...), `herald.reply` answering across the
 * network, Stop as an ordinary event leading to a final state, and the machine's `output`
 * as its completion value. States: `pending` (waiting for Listening) → `normal` (serving)
 * → `stopped`, or `failed` on NotListening. With `--debug-level=DEBUG` each "received"
 * line carries the machine's state.
 *
 * The process runner runs a function as the main actor, so a few lines of `main` host the
 * machine: they spawn it, pass Ctrl-C (Stop) on, and return its output.
 *
 * Run it (from the repository root), then any client in another terminal:
 *
 *   node --import tsx examples/listen-fsm-at-address.ts
 *   node --import tsx examples/connect-fsm-to-address.ts
 *
 * Flags: --host=127.0.0.1 --port=32011 (0: any free port, printed) --encrypted --name=Buster
 * --debug-level=DEBUG. It runs until Ctrl-C, then prints a summary.
 */
import {
  Welcome as WelcomeMessage,
  announceListening,
  helloWelcome,
  serverHelp,
  plainServerSettings,
  type Hello,
  type PlainServerSettings,
} from './hello-welcome.js';
import {
  listen,
  type Abandoned,
  type Accepted,
  type Closed,
  type Listening,
  type NotListening,
} from '@herald/net';
import { Completed, Stop, herald, run, type Self } from '@herald/runtime';
import { assign, setup } from 'xstate';

type ServerEvent = Listening | NotListening | Accepted | Hello | Closed | Abandoned | Stop;

interface ServerContext extends PlainServerSettings {
  accepted: number;
  welcomed: number;
  failure?: NotListening;
}

export const listenAtAddress = setup({
  types: {
    input: {} as PlainServerSettings,
    context: {} as ServerContext,
    events: {} as ServerEvent,
    output: {} as { accepted: number; welcomed: number } | NotListening,
  },
  actions: {
    // The machine is the controller: Listening, Accepted, Hello... all come to it.
    listen: (args) => {
      const { context } = args;
      listen(
        herald.self(args),
        { host: context.host, port: context.port },
        { encrypted: context.encrypted },
      );
    },
    announce: (_, listening: Listening) =>
      announceListening(listening.listening.host, listening.listening.port),
    logEnded: (args, ended: Closed | Abandoned) =>
      herald.self(args).log.info({ peer: ended.peer, reason: ended.reason }, 'connection ended'),
  },
}).createMachine({
  id: 'listen-at-address',
  context: ({ input }) => ({ ...input, accepted: 0, welcomed: 0 }),
  entry: 'listen',
  initial: 'pending',
  states: {
    pending: {
      on: {
        'herald.Listening': {
          target: 'normal',
          actions: { type: 'announce', params: ({ event }) => event },
        },
        'herald.NotListening': {
          target: 'failed',
          actions: assign({ failure: ({ event }) => event }),
        },
        [Stop.type]: { target: 'stopped' },
      },
    },
    normal: {
      on: {
        'herald.Accepted': {
          actions: assign({ accepted: ({ context }) => context.accepted + 1 }),
        },
        Hello: {
          actions: [
            assign({ welcomed: ({ context }) => context.welcomed + 1 }),
            // The return address of Hello is the client actor, through its proxy.
            herald.reply(({ context, event }) =>
              WelcomeMessage({ yourName: event.myName, myName: context.name }),
            ),
          ],
        },
        'herald.Closed': { actions: { type: 'logEnded', params: ({ event }) => event } },
        'herald.Abandoned': { actions: { type: 'logEnded', params: ({ event }) => event } },
        [Stop.type]: { target: 'stopped' },
      },
    },
    stopped: { type: 'final' },
    failed: { type: 'final' },
  },
  output: ({ context }) =>
    context.failure ?? { accepted: context.accepted, welcomed: context.welcomed },
});

/** Hosts the machine: Ctrl-C (Stop) is passed on, and the machine's output is the result. */
async function main(self: Self, settings: PlainServerSettings) {
  const machine = self.spawn(listenAtAddress, settings);
  const first = await self.receive(Completed, Stop);
  if (Completed.is(first)) return first.value;
  self.stop(machine);
  return (await self.receive(Completed)).value;
}

await run(main, {
  name: 'listen-fsm-at-address',
  description: 'An xstate machine listens for clients and answers every Hello with a Welcome.',
  settings: plainServerSettings,
  help: serverHelp,
  messages: helloWelcome,
});
