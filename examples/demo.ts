/**
 * A short tour of Herald's actor runtime. It finishes by itself in a second or two.
 *
 * Sections (each a function below, run in order by the main actor):
 *   1. spawn       - the three kinds of actor: function, handler, xstate machine
 *   2. ping-pong   - send, receive, reply between two function actors
 *   3. machine     - an xstate machine whose `after` delays run on the runtime's clock
 *   4. timer       - a repeating timer, then cancelTimer
 *   5. dead letter - a message to an actor that has ended, seen through onDeadLetter
 *   6. network     - a second runtime (standing in for another process) listens on
 *                    127.0.0.1; the main actor connects over real TCP, encrypted, talks to
 *                    a session actor and closes the connection with a value
 *
 * Run it:
 *
 *   pnpm demo
 *   node --import tsx examples/demo.ts --debug-level=DEBUG   (every actor's life on stderr)
 *   node --import tsx examples/demo.ts --help
 *
 * The tour's narration goes to stdout; the runner prints the main actor's return value
 * last. Expected dead letters are reported by the runtime as warnings; the demo's default
 * log level is 'error' so they do not clutter the narration (section 5 shows them instead).
 */
import { defineMessage, t, type AnyMessage, type MessageOf } from '@herald/codec';
import {
  Completed,
  createLogger,
  createRuntime,
  parseLogLevel,
  Stop,
  Timer,
  herald,
  run,
  type Handler,
  type Self,
} from '@herald/runtime';
import {
  Abandoned,
  Accepted,
  close,
  Closed,
  connect,
  Connected,
  listen,
  Listening,
  NotConnected,
  sessionOf,
  type SessionContext,
} from '@herald/net';
import { assign, setup } from 'xstate';

const Greet = defineMessage('Greet', { name: t.string() });
const Greeting = defineMessage('Greeting', { text: t.string() });
type Greeting = MessageOf<typeof Greeting>;
const Ping = defineMessage('Ping', { n: t.int() });
const Pong = defineMessage('Pong', { n: t.int() });
const Count = defineMessage('Count', {});
const Report = defineMessage('Report', {});
const Total = defineMessage('Total', { count: t.int() });

const demoSettings = {
  /** Ping-Pong rounds in section 2. */
  rounds: 3,
  /** Milliseconds per traffic-light phase in section 3. */
  phase: 40,
  /** Milliseconds between ticks in section 4. */
  tick: 25,
};
type DemoSettings = typeof demoSettings;

type Say = (line: string) => void;

export interface Section {
  readonly title: string;
  readonly run: (self: Self, say: Say, settings: DemoSettings) => Promise<void>;
}

// ---- 1. spawn ---------------------------------------------------------------------------

/** A function actor: runs once, its return value is its completion value. */
async function greeter(self: Self) {
  const greet = await self.receive(Greet);
  self.reply(Greeting({ text: `hello, ${greet.name}` }));
  return 'greeted';
}

/** A handler actor: a synchronous callback per message, ended by self.complete(). */
function counter(): Handler {
  let count = 0;
  return {
    name: 'counter',
    receive(self: Self, message: AnyMessage) {
      if (Count.is(message)) count++;
      else if (Report.is(message)) self.reply(Total({ count }));
    },
    onStop(self: Self) {
      self.complete(count);
    },
  };
}

/** A machine actor: events are Herald messages; `output` is its completion value. */
const echoMachine = setup({
  types: { events: {} as Greet, output: {} as string, context: {} as { last: string } },
}).createMachine({
  id: 'echo',
  context: { last: '' },
  initial: 'waiting',
  states: {
    waiting: {
      on: {
        Greet: {
          target: 'done',
          actions: [
            assign({ last: ({ event }) => event.name }),
            herald.reply(({ event }) => Greeting({ text: `echo ${event.name}` })),
          ],
        },
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => `echoed ${context.last}`,
});
type Greet = MessageOf<typeof Greet>;

async function spawnSection(self: Self, say: Say): Promise<void> {
  const fn = self.spawn(greeter);
  const greeting = await self.ask(fn, Greet({ name: 'Herald' }), Greeting);
  if (!Greeting.is(greeting)) throw new Error(greeting.explanation); // Unanswered
  say(`function actor ${fn} replied "${greeting.text}"`);
  const fnDone = await self.receive(Completed);
  say(`  and completed with ${JSON.stringify(fnDone.value)}`);

  const handler = self.spawn(counter());
  for (let i = 0; i < 3; i++) self.send(handler, Count());
  const total = await self.ask(handler, Report(), Total);
  if (!Total.is(total)) throw new Error(total.explanation);
  say(`handler actor ${handler} counted ${total.count} messages`);
  self.stop(handler);
  const handlerDone = await self.receive(Completed);
  say(`  and completed with ${JSON.stringify(handlerDone.value)} when stopped`);

  const machine = self.spawn(echoMachine);
  const echo = await self.ask(machine, Greet({ name: 'xstate' }), Greeting);
  if (!Greeting.is(echo)) throw new Error(echo.explanation);
  say(`machine actor ${machine} replied "${echo.text}"`);
  const machineDone = await self.receive(Completed);
  say(`  and reached its final state with output ${JSON.stringify(machineDone.value)}`);
}

// ---- 2. ping-pong -----------------------------------------------------------------------

async function ponger(self: Self) {
  let served = 0;
  for (;;) {
    const message = await self.receive(Ping, Stop);
    if (Stop.is(message)) return served;
    served++;
    self.reply(Pong({ n: message.n }));
  }
}

async function pingPongSection(self: Self, say: Say, settings: DemoSettings): Promise<void> {
  const partner = self.spawn(ponger);
  for (let n = 1; n <= settings.rounds; n++) {
    self.send(partner, Ping({ n }));
    const pong = await self.receive(Pong);
    say(`sent Ping ${n} to ${partner}, got Pong ${pong.n} back from ${self.returnAddress}`);
  }
  self.stop(partner);
  const done = await self.receive(Completed);
  say(`ponger served ${String(done.value)} pings and ended on Stop`);
}

// ---- 3. machine -------------------------------------------------------------------------

/** A traffic light that runs through its phases on delayed transitions, then finishes. */
const trafficLight = setup({
  types: {
    context: {} as { path: string[]; phase: number },
    input: {} as { phase: number },
    output: {} as string[],
  },
  delays: { phase: ({ context }) => context.phase },
}).createMachine({
  id: 'traffic-light',
  context: ({ input }) => ({ path: ['green'], phase: input.phase }),
  initial: 'green',
  states: {
    green: {
      after: {
        phase: {
          target: 'amber',
          actions: assign({ path: ({ context }) => [...context.path, 'amber'] }),
        },
      },
    },
    amber: {
      after: {
        phase: {
          target: 'red',
          actions: assign({ path: ({ context }) => [...context.path, 'red'] }),
        },
      },
    },
    red: { type: 'final' },
  },
  output: ({ context }) => context.path,
});

async function machineSection(self: Self, say: Say, settings: DemoSettings): Promise<void> {
  const started = self.runtime.clock.now();
  const light = self.spawn(trafficLight, { phase: settings.phase });
  say(`traffic light ${light} started; its 'after' delays use the runtime's clock`);
  const done = await self.receive(Completed);
  const took = Math.round(self.runtime.clock.now() - started);
  say(`it went ${(done.value as string[]).join(' -> ')} in about ${took} ms and finished`);
}

// ---- 4. timer ---------------------------------------------------------------------------

async function timerSection(self: Self, say: Say, settings: DemoSettings): Promise<void> {
  self.startTimer('tick', settings.tick, { repeat: true });
  for (let i = 1; i <= 3; i++) {
    const tick = await self.receive(Timer);
    say(`tick ${i} (timer "${tick.key}", every ${settings.tick} ms)`);
  }
  self.cancelTimer('tick');
  const after = await self.receive(Timer, { timeout: settings.tick * 3 });
  say(`cancelled; listening ${settings.tick * 3} ms more gave ${after.type}`);
}

// ---- 5. dead letter ---------------------------------------------------------------------

async function deadLetterSection(self: Self, say: Say): Promise<void> {
  const seen: string[] = [];
  const unsubscribe = self.runtime.onDeadLetter((d) => {
    seen.push(`${d.message.type} to ${d.to} (${d.reason})`);
  });
  try {
    const shortLived = self.spawn(async () => 'done');
    await self.receive(Completed);
    say(`actor ${shortLived} has ended; sending it a Greet anyway`);
    const delivered = self.send(shortLived, Greet({ name: 'nobody' }));
    say(`send() returned ${delivered}; onDeadLetter saw: ${seen.join(', ') || 'nothing'}`);
  } finally {
    unsubscribe();
  }
}

// ---- 6. network --------------------------------------------------------------------------

/** One of these runs per accepted connection, on the server runtime. */
async function greetingSession(self: Self, ctx: SessionContext) {
  let served = 0;
  for (;;) {
    const m = await self.receive(Greet, Stop);
    if (Stop.is(m)) return served;
    served++;
    self.reply(
      Greeting({
        text: `hello, ${m.name}, from ${ctx.encrypted ? 'an encrypted' : 'a plain'} session`,
      }),
    );
  }
}

async function networkSection(self: Self, say: Say): Promise<void> {
  // A second runtime stands in for another process: it shares nothing with this one
  // but the TCP connection.
  const server = createRuntime({
    name: 'demo-server',
    logger: createLogger(parseLogLevel(self.runtime.logger.level)),
    messages: [Greet, Greeting],
  });
  self.runtime.catalogue.add(Greet, Greeting);
  try {
    const listening = new Promise<number>((resolve) => {
      server.spawn(async function serverController(s: Self) {
        listen(s, { port: 0 }, { encrypted: true, session: sessionOf(greetingSession) });
        const l = await s.receive(Listening);
        resolve(l.listening.port);
        // The controller hears of every connection; the sessions do the talking.
        for (;;) {
          const m = await s.receive(Accepted, Abandoned, Closed, Stop);
          if (Stop.is(m)) return;
        }
      });
    });
    const port = await listening;
    say(`server runtime listening on 127.0.0.1:${port} (encrypted, a session per connection)`);
    connect(self, { host: '127.0.0.1', port }, { encrypted: true });
    const c = await self.receive(Connected, NotConnected, { timeout: 5_000 });
    if (!Connected.is(c)) throw new Error(`could not connect: ${c.explanation}`);
    say(`connected: the peer is the proxy ${c.remote}; encrypted=${c.encrypted}`);
    self.send(c.remote, Greet({ name: 'Herald' }));
    const reply = await self.receive(Greeting, { timeout: 5_000 });
    if (!Greeting.is(reply)) throw new Error('no greeting');
    say(`"${reply.text}" from ${self.returnAddress} (a hop stack: session id, then our proxy)`);
    close(self, c.remote, 'thanks');
    const closed = await self.receive(Closed, { timeout: 5_000 });
    if (Closed.is(closed)) say(`closed with value "${String(closed.value)}" (${closed.reason})`);
  } finally {
    await server.close();
  }
}

// ---- the tour ---------------------------------------------------------------------------

export const sections: readonly Section[] = [
  { title: 'spawn: function, handler and machine actors', run: spawnSection },
  { title: 'ping-pong: send, receive, reply', run: pingPongSection },
  { title: 'machine: xstate with delays on the runtime clock', run: machineSection },
  { title: 'timer: repeating ticks and cancelTimer', run: timerSection },
  { title: 'dead letter: nothing vanishes', run: deadLetterSection },
  { title: 'network: the same send() across a TCP connection', run: networkSection },
];

async function demo(self: Self, settings: DemoSettings) {
  const say: Say = (line) => process.stdout.write(`   ${line}\n`);
  process.stdout.write(`Herald demo: main actor ${self.address}\n`);
  for (const [index, section] of sections.entries()) {
    process.stdout.write(`\n${index + 1}. ${section.title}\n`);
    await section.run(self, say, settings);
  }
  process.stdout.write('\n');
  return `demo finished: ${sections.length} sections, ${self.runtime.deadLetterCount} dead letter(s)`;
}

await run(demo, {
  name: 'demo',
  description: "A short tour of Herald's actor runtime and networking.",
  settings: demoSettings,
  help: {
    rounds: 'Ping-Pong rounds in section 2',
    phase: 'milliseconds per traffic-light phase in section 3',
    tick: 'milliseconds between ticks in section 4',
  },
  logLevel: 'error',
});
