/**
 * The runtime's and the network layer's own messages have namespaced wire names
 * (`herald.Stop`, `herald.Timer`, `herald.Listening`, ...), so an application may declare
 * messages called Start, Stop, Timer, Completed or Watch: they sit beside the runtime's in
 * one catalogue, are delivered as ordinary messages (never taken for lifecycle control),
 * and cross a real connection.
 */
import { createCatalogue, defineMessage, t, type AnyMessageType } from '@herald/codec';
import {
  Abandoned,
  Accepted,
  AwaitDrain,
  Close,
  Closed,
  Congested,
  Connected,
  Drained,
  GroupUpdate,
  Listening,
  NoAddress,
  NotConnected,
  NotDelivered,
  NotListening,
  NotReady,
  Ready,
  StopListening,
  UseAddress,
  connect,
  listen,
} from '@herald/net';
import {
  Aborted,
  Completed,
  Exhausted,
  Faulted,
  Start,
  Stop,
  Terminated,
  TimedOut,
  Timer,
  Unwatch,
  Watch,
  type Runtime,
  type Self,
} from '@herald/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTestRuntimes, testRuntime } from '@herald/testing';

/** The application's own messages, named like the runtime's lifecycle messages. */
const UserStart = defineMessage('Start', { at: t.int() });
const UserStop = defineMessage('Stop', { reason: t.string() });
const UserTimer = defineMessage('Timer', { key: t.string(), n: t.int() });
const UserCompleted = defineMessage('Completed', { job: t.string() });
const UserWatch = defineMessage('Watch', { what: t.string() });
const userMessages = [UserStart, UserStop, UserTimer, UserCompleted, UserWatch] as const;

const WAIT_MS = 5_000;

afterEach(closeTestRuntimes);

function runtime(name: string): Runtime {
  return testRuntime({ name, messages: [...userMessages] });
}

describe('namespaced wire names', () => {
  it('every runtime and net control message has a herald.* wire name', () => {
    const own: AnyMessageType[] = [
      Start,
      Stop,
      Completed,
      Terminated,
      Watch,
      Unwatch,
      Timer,
      Faulted,
      Aborted,
      TimedOut,
      Exhausted,
      Listening,
      NotListening,
      Accepted,
      Connected,
      NotConnected,
      Close,
      Closed,
      Abandoned,
      StopListening,
      Congested,
      Drained,
      AwaitDrain,
      GroupUpdate,
      Ready,
      NotReady,
      UseAddress,
      NoAddress,
      NotDelivered,
    ];
    for (const def of own) expect(def.type).toMatch(/^herald\.[A-Z]\w+$/);
  });

  it('so is every message type the runtime and net entries export (new ones included)', async () => {
    const isMessageType = (value: unknown): value is AnyMessageType =>
      typeof value === 'function' &&
      typeof (value as { type?: unknown }).type === 'string' &&
      typeof (value as { fields?: unknown }).fields === 'object';
    const exported = [
      ...Object.values(await import('@herald/runtime')),
      ...Object.values(await import('@herald/net')),
    ].filter(isMessageType);
    expect(exported).toEqual(expect.arrayContaining([Stop, Timer, Listening, GroupUpdate]));
    // `Any` is a matcher ('*'), not a message.
    for (const def of exported.filter((d) => d.type !== '*')) {
      expect(def.type).toMatch(/^herald\.[A-Z]\w+$/);
    }
  });

  it('a user catalogue with Start, Stop, Timer, Completed and Watch sits beside the runtime’s', () => {
    const catalogue = createCatalogue([Start, Stop, Timer, Completed, Watch]);
    expect(() => catalogue.add(...userMessages)).not.toThrow();
    expect(catalogue.get('Stop')).toBe(UserStop);
    expect(catalogue.get(Stop.type)).toBe(Stop);
    // A runtime takes them too (its catalogue already holds the lifecycle messages).
    expect(() => runtime('local')).not.toThrow();
  });

  it('user messages named like lifecycle messages are delivered as ordinary messages', async () => {
    const r = runtime('local');
    const echo = r.spawn(async (self: Self) => {
      const got: string[] = [];
      // A user Stop does not stop this actor, a user Watch registers no watch, and so on:
      // each is just a message this actor receives.
      for (const def of userMessages) got.push((await self.receive(def)).type);
      const last = await self.receive(Stop, { timeout: WAIT_MS });
      return { got, endedBy: last.type };
    });
    r.send(echo, UserStart({ at: 1 }));
    r.send(echo, UserStop({ reason: 'not a lifecycle stop' }));
    r.send(echo, UserTimer({ key: 'k', n: 2 }));
    r.send(echo, UserCompleted({ job: 'j' }));
    r.send(echo, UserWatch({ what: 'w' }));
    r.stop(echo);
    expect(await r.completion(echo)).toEqual({
      got: ['Start', 'Stop', 'Timer', 'Completed', 'Watch'],
      endedBy: 'herald.Stop',
    });
  });

  it('user messages named Start, Stop, Timer, Completed and Watch cross a real connection', async () => {
    const serverSide = runtime('server');
    const clientSide = runtime('client');

    // The server echoes every user message back to its sender, then waits for the real Stop.
    const server = async (self: Self, onPort: (port: number) => void) => {
      listen(self, { port: 0 }, { messages: [...userMessages] });
      const listening = await self.receive(Listening, NotListening, { timeout: WAIT_MS });
      if (!Listening.is(listening)) return listening;
      onPort(listening.listening.port);
      for (;;) {
        const m = await self.receive(...userMessages, Accepted, Abandoned, Closed, Stop);
        if (Stop.is(m)) return 'stopped';
        if (userMessages.some((def) => def.is(m))) self.reply(m);
      }
    };
    const port = await new Promise<number>((resolve, reject) => {
      const address = serverSide.spawn(server, resolve);
      void serverSide.completion(address).then((value) => reject(new Error(String(value))));
    });

    const client = async (self: Self) => {
      connect(self, { host: '127.0.0.1', port }, { messages: [...userMessages] });
      const connected = await self.receive(Connected, NotConnected, { timeout: WAIT_MS });
      if (!Connected.is(connected)) return connected;
      const sent = [
        UserStart({ at: 1 }),
        UserStop({ reason: 'just a name' }),
        UserTimer({ key: 'k', n: 2 }),
        UserCompleted({ job: 'j' }),
        UserWatch({ what: 'w' }),
      ];
      // Sent one by one, each echo awaited, so the order of the answers is the order sent.
      const echoed = [];
      for (const [i, message] of sent.entries()) {
        const def = userMessages[i] as (typeof userMessages)[number];
        self.send(connected.remote, message);
        echoed.push(await self.receive(def, { timeout: WAIT_MS }));
      }
      return echoed;
    };
    const echoed = await clientSide.completion(clientSide.spawn(client));
    expect(echoed).toEqual([
      { type: 'Start', at: 1 },
      { type: 'Stop', reason: 'just a name' },
      { type: 'Timer', key: 'k', n: 2 },
      { type: 'Completed', job: 'j' },
      { type: 'Watch', what: 'w' },
    ]);
  });
});
