import { defineMessage, t, type MessageOf } from '@herald/codec';
import {
  Aborted,
  herald,
  isFaulted,
  settle,
  TestClock,
  type DeadLetter,
  type Runtime,
  type Self,
} from '@herald/runtime';
import { assign, setup } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTestRuntimes, testRuntime } from '@herald/testing';

const Hello = defineMessage('Hello', { myName: t.string() });
const Welcome = defineMessage('Welcome', { yourName: t.string(), count: t.int() });
const Bye = defineMessage('Bye', {});
type Hello = MessageOf<typeof Hello>;

const greeter = setup({
  types: {} as {
    context: { count: number };
    events: Hello | MessageOf<typeof Bye>;
    output: { greeted: number };
  },
}).createMachine({
  id: 'greeter',
  context: { count: 0 },
  initial: 'serving',
  states: {
    serving: {
      on: {
        Hello: {
          actions: [
            assign({ count: ({ context }) => context.count + 1 }),
            herald.reply(({ context, event }) =>
              Welcome({ yourName: event.myName, count: context.count }),
            ),
          ],
        },
        Bye: 'done',
      },
    },
    done: { type: 'final' },
  },
  output: ({ context }) => ({ greeted: context.count }),
});

afterEach(closeTestRuntimes);
/** A runtime that logs into memory and is closed after each test. */
const rt = testRuntime;

describe('state-machine actors', () => {
  it('take messages as events, reply through herald.reply, and complete with the machine output', async () => {
    const r = rt();
    const m = r.spawn(greeter);
    expect(await r.ask(m, Hello({ myName: 'Gladys' }), [Welcome])).toEqual({
      type: 'Welcome',
      yourName: 'Gladys',
      count: 1,
    });
    expect(await r.ask(m, Hello({ myName: 'Buster' }), [Welcome])).toMatchObject({ count: 2 });
    r.send(m, Bye());
    expect(await r.completion(m)).toEqual({ greeted: 2 });
  });

  it('an event the current state cannot take becomes a dead letter, not a silent drop', async () => {
    const r = rt();
    const seen: DeadLetter[] = [];
    r.onDeadLetter((d) => seen.push(d));
    const m = r.spawn(greeter);
    r.send(m, Welcome({ yourName: 'x', count: 0 }));
    await settle();
    expect(seen.map((d) => [d.message.type, d.reason])).toEqual([['Welcome', 'unhandled']]);
  });

  it('a Stop the machine does not handle ends it with Aborted', async () => {
    const r = rt();
    const m = r.spawn(greeter);
    r.stop(m);
    expect(Aborted.is(await r.completion(m))).toBe(true);
  });

  it('delayed transitions run on the runtime clock', async () => {
    const clock = new TestClock();
    const r = rt({ clock });
    const waiter = setup({}).createMachine({
      initial: 'waiting',
      states: { waiting: { after: { 1000: 'done' } }, done: { type: 'final' } },
      output: () => 'woke',
    });
    const m = r.spawn(waiter);
    await settle();
    clock.advance(999);
    await settle();
    expect(r.isAlive(m)).toBe(true);
    clock.advance(1);
    expect(await r.completion(m)).toBe('woke');
  });

  it('machines send to addresses and are parents and children like any actor', async () => {
    const r = rt();
    const client = setup({
      types: {} as {
        input: { server: ReturnType<Runtime['spawn']> };
        context: { server: ReturnType<Runtime['spawn']> };
      },
    }).createMachine({
      context: ({ input }) => ({ server: input.server }),
      initial: 'asking',
      states: {
        asking: {
          entry: herald.send(({ context }) => context.server, Hello({ myName: 'machine' })),
          on: { Welcome: 'done' },
        },
        done: { type: 'final' },
      },
      output: () => 'welcomed',
    });
    const parent = r.spawn(async (self: Self) => {
      const server = self.spawn(greeter);
      self.spawn(client, { server });
      const done = await self.receive((await import('@herald/runtime')).Completed);
      return done.value;
    });
    expect(await r.completion(parent)).toBe('welcomed');
  });

  it('an error thrown in an action is a Faulted completion', async () => {
    const r = rt();
    const broken = setup({}).createMachine({
      initial: 'a',
      states: {
        a: {
          on: {
            Hello: {
              actions: () => {
                throw new Error('action failed');
              },
            },
          },
        },
      },
    });
    const m = r.spawn(broken);
    r.send(m, Hello({ myName: 'x' }));
    const value = await r.completion(m);
    expect(isFaulted(value)).toBe(true);
  });
});
