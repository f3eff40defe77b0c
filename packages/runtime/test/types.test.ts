/**
 * Type-level tests: what `receive`, `ask` and the xstate helpers give the compiler.
 *
 * `expectTypeOf` does nothing at run time; these assertions are checked by the typecheck
 * (`tsc -p tsconfig.json --noEmit`, run in CI), where a wrong type is a compile error. Each
 * `@ts-expect-error` line is a call the types must refuse: if it ever compiles, the
 * directive itself becomes the error. The actors and machines also run, so the values
 * behind the types are checked too.
 */
import { Address, defineMessage, t, type AnyMessage, type MessageOf } from '@herald/codec';
import {
  Any,
  completedOf,
  herald,
  isFaulted,
  Stop,
  terminatedOf,
  TimedOut,
  Unanswered,
  type CompletionOf,
  type Fault,
  type Runtime,
  type Self,
  type Timer,
} from '@herald/runtime';
import { afterEach, describe, expect, expectTypeOf, it } from 'vitest';
import { assign, enqueueActions, setup } from 'xstate';
import { closeTestRuntimes, testRuntime } from '@herald/testing';

const Ping = defineMessage('Ping', { n: t.int() });
type Ping = MessageOf<typeof Ping>;
const Pong = defineMessage('Pong', { n: t.int() });
type Pong = MessageOf<typeof Pong>;
const Bye = defineMessage('Bye', { reason: t.string() });
type Bye = MessageOf<typeof Bye>;

afterEach(closeTestRuntimes);
/** A runtime that logs into memory and is closed after each test. */
const rt = (): Runtime => testRuntime();

/** Answers each Ping with a Pong of the same n, until Bye. */
async function echo(self: Self) {
  for (;;) {
    const m = await self.receive(Ping, Bye);
    if (Bye.is(m)) return m.reason;
    self.reply(Pong({ n: m.n }));
  }
}

describe('types - receive', () => {
  it('narrows to the union of the given types', async () => {
    const r = rt();
    const value = await r.run(async (self: Self) => {
      self.send(self.address, Bye({ reason: 'done' }));
      const m = await self.receive(Ping, Bye);
      expectTypeOf(m).toEqualTypeOf<Ping | Bye>();
      // @ts-expect-error -- a Ping | Bye may be a Bye, which has no n
      void m.n;
      if (Ping.is(m)) expectTypeOf(m).toEqualTypeOf<Ping>();
      else expectTypeOf(m).toEqualTypeOf<Bye>();
      return m;
    });
    expect(value).toEqual({ type: 'Bye', reason: 'done' });
  });

  it('adds TimedOut when the options carry a timeout', async () => {
    const r = rt();
    const value = await r.run(async (self: Self) => {
      const m = await self.receive(Ping, Bye, { timeout: 1 });
      expectTypeOf(m).toEqualTypeOf<Ping | Bye | TimedOut>();
      // Options whose timeout is not known to be absent may time out too (typed, not run).
      const maybeTimed = (options: { timeout?: number }) => self.receive(Ping, options);
      expectTypeOf(maybeTimed).returns.resolves.toEqualTypeOf<Ping | TimedOut>();
      return m;
    });
    expect(TimedOut.is(value)).toBe(true);
  });

  it('leaves TimedOut out when the options only save', async () => {
    const r = rt();
    const value = await r.run(async (self: Self) => {
      self.send(self.address, Bye({ reason: 'kept' }));
      self.send(self.address, Ping({ n: 1 }));
      const ping = await self.receive(Ping, { save: [Bye] });
      expectTypeOf(ping).toEqualTypeOf<Ping>();
      const bye = await self.receive(Bye, { save: 'all' });
      expectTypeOf(bye).toEqualTypeOf<Bye>();
      return [ping, bye];
    });
    expect(value).toEqual([Ping({ n: 1 }), Bye({ reason: 'kept' })]);
  });

  it('Any gives any message; non-matchers are refused', () => {
    const typesOnly = async (self: Self) => {
      expectTypeOf(await self.receive(Any)).toEqualTypeOf<AnyMessage>();
      // @ts-expect-error -- a string is not a message type
      await self.receive('Ping');
      // @ts-expect-error -- a message is not a message type
      await self.receive(Ping({ n: 1 }));
    };
    expectTypeOf(typesOnly).parameter(0).toEqualTypeOf<Self>();
  });
});

describe('types - ask', () => {
  it('self.ask narrows to the reply types and Unanswered, with TimedOut only when timed', async () => {
    const r = rt();
    const value = await r.run(async (self: Self) => {
      const server = self.spawn(echo);
      const pong = await self.ask(server, Ping({ n: 3 }), Pong);
      expectTypeOf(pong).toEqualTypeOf<Pong | Unanswered>();
      const timed = await self.ask(server, Ping({ n: 4 }), Pong, Bye, { timeout: 1_000 });
      expectTypeOf(timed).toEqualTypeOf<Pong | Bye | Unanswered | TimedOut>();
      self.send(server, Bye({ reason: 'done' }));
      return [Pong.is(pong) ? pong.n : 0, Pong.is(timed) || Bye.is(timed) ? timed.type : 0];
    });
    expect(value).toEqual([3, 'Pong']);
  });

  it('runtime.ask narrows to the reply types and TimedOut', async () => {
    const r = rt();
    const server = r.spawn(echo);
    const answer = await r.ask(server, Ping({ n: 5 }), [Pong]);
    expectTypeOf(answer).toEqualTypeOf<Pong | Unanswered | TimedOut>();
    // @ts-expect-error -- TimedOut has no n: the answer must be narrowed first
    void answer.n;
    expect(Pong.is(answer) && answer.n).toBe(5);
    r.send(server, Bye({ reason: 'done' }));
    expect(await r.completion(server)).toBe('done');
  });
});

interface Ctx {
  served: number;
  peer: Address;
}
type Ev = Ping | Bye | Stop | Timer;

describe('types - xstate helpers', () => {
  it('infer the context and the narrowed event of a transition without annotation', async () => {
    const machine = setup({
      types: {
        context: {} as Ctx,
        events: {} as Ev,
        input: {} as { peer: Address },
        output: {} as number,
      },
    }).createMachine({
      context: ({ input }) => ({ served: 0, peer: input.peer }),
      initial: 'serving',
      states: {
        serving: {
          on: {
            Ping: {
              actions: [
                assign({ served: ({ context }) => context.served + 1 }),
                herald.reply(({ context, event }) => {
                  expectTypeOf(context).toEqualTypeOf<Ctx>();
                  expectTypeOf(event).toEqualTypeOf<Ping>();
                  return Pong({ n: event.n });
                }),
              ],
            },
            Bye: {
              target: 'done',
              // A single action (not in an array) is inferred the same way.
              actions: herald.send(
                ({ context }) => context.peer,
                ({ event }) => {
                  expectTypeOf(event).toEqualTypeOf<Bye>();
                  // @ts-expect-error -- a Bye has no n
                  void event.n;
                  return Pong({ n: event.reason.length });
                },
              ),
            },
          },
        },
        done: { type: 'final' },
      },
      output: ({ context }) => context.served,
    });
    const r = rt();
    const peer = r.spawn(async (self: Self) => (await self.receive(Pong)).n);
    const m = r.spawn(machine, { peer });
    expect(await r.ask(m, Ping({ n: 8 }), [Pong])).toEqual(Pong({ n: 8 }));
    r.send(m, Bye({ reason: 'four' }));
    expect(await r.completion(m)).toBe(1);
    expect(await r.completion(peer)).toBe(4);
  });

  it('give entry actions, delays, enqueueActions and setup actions the right event', () => {
    const peer = new Address([1]);
    setup({
      types: { context: {} as Ctx, events: {} as Ev },
      actions: {
        // In setup, an action may handle any of the machine's events.
        greet: herald.send(
          ({ context }) => context.peer,
          ({ context, event }) => {
            expectTypeOf(context).toEqualTypeOf<Ctx>();
            expectTypeOf(event).toEqualTypeOf<Ev>();
            return Pong({ n: context.served });
          },
        ),
        // Params are typed by the action and checked where the action is used.
        pong: herald.reply((_, params: { n: number }) => Pong({ n: params.n })),
      },
    }).createMachine({
      context: { served: 0, peer },
      entry: [
        'greet',
        herald.forward(
          ({ context }) => context.peer,
          ({ event }) => {
            expectTypeOf(event).toEqualTypeOf<Ev>();
            return Pong({ n: 0 });
          },
          ({ context }) => context.peer,
        ),
      ],
      on: {
        Ping: {
          actions: [
            { type: 'pong', params: ({ event }) => ({ n: event.n }) },
            enqueueActions(({ enqueue, context }) => {
              if (context.served > 0) {
                enqueue(
                  herald.reply(({ event }) => {
                    expectTypeOf(event).toEqualTypeOf<Ping>();
                    return Pong({ n: event.n });
                  }),
                );
              }
            }),
          ],
        },
        // @ts-expect-error -- pong's params are { n: number }
        Bye: { actions: { type: 'pong', params: { n: 'one' } } },
        // @ts-expect-error -- pong cannot be named without its params
        'herald.Stop': { actions: 'pong' },
        'herald.Timer': {
          actions: herald.reply(({ event }) => {
            expectTypeOf(event).toEqualTypeOf<Timer>();
            return Pong({ n: event.key.length });
          }),
        },
      },
      after: {
        1_000: {
          actions: herald.reply(({ event }) => {
            expectTypeOf(event).toEqualTypeOf<Ev>();
            return Pong({ n: 0 });
          }),
        },
      },
    });
  });

  it('refuse what is not a message or an address', () => {
    setup({ types: { context: {} as Ctx, events: {} as Ev } }).createMachine({
      context: { served: 0, peer: new Address([1]) },
      on: {
        Ping: {
          // @ts-expect-error -- a number is not a message
          actions: herald.reply(({ event }) => event.n),
        },
        Bye: {
          // @ts-expect-error -- the context's served is not an address
          actions: herald.send(({ context }) => context.served, Pong({ n: 1 })),
        },
      },
    });
  });
});

describe('types - typed completion values', () => {
  it('completedOf / terminatedOf type the value by the behaviour (return value or a fault)', async () => {
    const r = rt();
    async function worker(_self: Self, n: number) {
      return { doubled: n * 2 };
    }
    const value = await r.run(async (self: Self) => {
      const child = self.spawn(worker, 4);
      self.watch(child);
      const done = await self.receive(completedOf(worker));
      expectTypeOf(done.value).toEqualTypeOf<{ doubled: number } | Fault>();
      const gone = await self.receive(terminatedOf(worker));
      expectTypeOf(gone.value).toEqualTypeOf<{ doubled: number } | Fault>();
      return isFaulted(done.value) ? 0 : done.value.doubled;
    });
    expect(value).toBe(8);
    const machine = setup({ types: { output: {} as { served: number } } }).createMachine({
      type: 'final',
      output: { served: 1 },
    });
    expectTypeOf<CompletionOf<typeof machine>>().toEqualTypeOf<{ served: number } | Fault>();
    expect(await r.run(machine)).toEqual({ served: 1 });
  });
});
