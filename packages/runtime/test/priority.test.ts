/**
 * Priorities (docs/priorities.md): mailbox lanes served high, normal, low, FIFO within a
 * lane; a send's option wins over its type's declared priority; bad options are refused.
 */
import { Address, defineMessage, t } from '@herald/codec';
import { settle, type Envelope, type Priority, type Self } from '@herald/runtime';
import { Envelope as MakeEnvelope, priorityLevel, priorityName } from '@herald/runtime/internal';
import { closeTestRuntimes, propertyParameters, propertySeeds, testRuntime } from '@herald/testing';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import { Mailbox } from '../src/envelope.js';

const Job = defineMessage('prio.Job', { n: t.int() });
const Alarm = defineMessage('prio.Alarm', { n: t.int() }, { priority: 'high' });
const Chore = defineMessage('prio.Chore', { n: t.int() }, { priority: 'low' });
const Ack = defineMessage('prio.Ack', {});

afterEach(closeTestRuntimes);

/** A handler that records (type, n) of every message, in the order it handles them. */
function recorder(seen: string[]) {
  return {
    name: 'recorder',
    receive: (_self: Self, m: { type: string; n?: number }) => {
      seen.push(`${m.type.slice(5)}${m.n ?? ''}`);
    },
  };
}

describe('mailbox lanes', () => {
  it('an actor takes every waiting high message before normal ones, normal before low, FIFO within each', async () => {
    const runtime = testRuntime();
    const seen: string[] = [];
    const actor = runtime.spawn(recorder(seen));
    // All queued in one go, before the actor's turn.
    runtime.send(actor, Job({ n: 1 }), undefined, { priority: 'low' });
    runtime.send(actor, Job({ n: 2 }));
    runtime.send(actor, Job({ n: 3 }), undefined, { priority: 'high' });
    runtime.send(actor, Job({ n: 4 }), undefined, { priority: 'low' });
    runtime.send(actor, Job({ n: 5 }), undefined, { priority: 'normal' });
    runtime.send(actor, Job({ n: 6 }), undefined, { priority: 'high' });
    await settle();
    expect(seen).toEqual(['Job3', 'Job6', 'Job2', 'Job5', 'Job1', 'Job4']);
  });

  it("a type's declared priority is its default, and a send's option wins over it", async () => {
    const runtime = testRuntime();
    const seen: string[] = [];
    const actor = runtime.spawn(recorder(seen));
    runtime.send(actor, Chore({ n: 1 }));
    runtime.send(actor, Job({ n: 2 }));
    runtime.send(actor, Alarm({ n: 3 }));
    runtime.send(actor, Alarm({ n: 4 }), undefined, { priority: 'low' });
    runtime.send(actor, Chore({ n: 5 }), undefined, { priority: 'high' });
    await settle();
    expect(seen).toEqual(['Alarm3', 'Chore5', 'Job2', 'Chore1', 'Alarm4']);
  });

  it('self.send and ask carry the priority too (a busy function actor takes the high one first)', async () => {
    const runtime = testRuntime();
    const order: number[] = [];
    let open!: () => void;
    const gate = new Promise<void>((resolve) => (open = resolve));
    const sink = runtime.spawn(async (self: Self) => {
      // Busy (not in receive) while the sender queues: everything waits in the mailbox.
      await gate;
      for (let i = 0; i < 3; i++) {
        const job = await self.receive(Job);
        order.push(job.n);
        if (job.n === 3) self.reply(Ack());
      }
    });
    const asker = runtime.spawn(async (self: Self) => {
      self.send(sink, Job({ n: 1 }), { priority: 'low' });
      self.send(sink, Job({ n: 2 }));
      return self.ask(sink, Job({ n: 3 }), Ack, { priority: 'high', timeout: 5_000 });
    });
    await settle();
    open();
    expect(await runtime.completion(asker)).toEqual(Ack());
    await runtime.completion(sink);
    expect(order).toEqual([3, 2, 1]);
  });

  it('an answer or a forward keeps the priority of the message it answers or passes on, unless its type declares one', async () => {
    const runtime = testRuntime();
    const seen: string[] = [];
    const note = (self: Self, m: { type: string }, envelope: Envelope) => {
      seen.push(`${self.name} ${m.type.slice(5)} ${priorityName(envelope.priority)}`);
    };
    const last = runtime.spawn({ name: 'last', receive: note });
    const middle = runtime.spawn({
      name: 'middle',
      receive: (self: Self, m: { type: string }, envelope: Envelope) => {
        note(self, m, envelope);
        if (Job.is(m)) {
          self.reply(Ack());
          self.reply(Chore({ n: 0 })); // declared low: stays low
          self.forward(last, m, envelope.from);
        }
      },
    });
    const first = runtime.spawn({
      name: 'first',
      start: (self: Self) => {
        self.send(middle, Job({ n: 1 }), { priority: 'high' });
      },
      receive: note,
    });
    void first;
    await settle();
    expect(seen.sort()).toEqual([
      'first Ack high',
      'first Chore low',
      'last Job high',
      'middle Job high',
    ]);
  });

  it('refuses a priority or trace that is not one (HERALD_ERR_BAD_OPTION)', () => {
    const runtime = testRuntime();
    const to = runtime.spawn(recorder([]));
    expect(() =>
      runtime.send(to, Job({ n: 1 }), undefined, { priority: 'urgent' as Priority }),
    ).toThrow(expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }));
    expect(() => runtime.send(to, Job({ n: 1 }), undefined, { trace: 'not-a-trace' })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
    );
    expect(() => defineMessage('prio.Bad', {}, { priority: 'top' as Priority })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
    );
  });

  it('Mailbox: any mix of pushes, shifts and removals serves lanes in order, FIFO within each (property)', () => {
    const to = new Address([1]);
    const priorities: Priority[] = ['high', 'normal', 'low'];
    const op = fc.oneof(
      fc.record({ k: fc.constant('push' as const), p: fc.constantFrom(...priorities) }),
      fc.record({ k: fc.constant('shift' as const) }),
      fc.record({ k: fc.constant('remove' as const), mod: fc.integer({ min: 2, max: 5 }) }),
    );
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(fc.array(op, { maxLength: 300 }), (ops) => {
          const box = new Mailbox();
          const model: Record<Priority, number[]> = { high: [], normal: [], low: [] };
          const number = new Map<Envelope, number>();
          let next = 0;
          for (const o of ops) {
            if (o.k === 'push') {
              const e = new MakeEnvelope(to, to, Job({ n: next }), 0, priorityLevel(o.p));
              number.set(e, next);
              model[o.p].push(next++);
              box.push(e);
            } else if (o.k === 'shift') {
              const lane = priorities.find((p) => model[p].length > 0);
              const e = box.shift();
              if (lane === undefined) expect(e).toBeUndefined();
              else expect(number.get(e as Envelope)).toBe(model[lane].shift());
            } else {
              const drop = (e: Envelope) => (number.get(e) as number) % o.mod === 0;
              const before = priorities.reduce((n, p) => n + model[p].length, 0);
              for (const p of priorities) model[p] = model[p].filter((n) => n % o.mod !== 0);
              const after = priorities.reduce((n, p) => n + model[p].length, 0);
              expect(box.remove(drop)).toBe(before - after);
            }
            expect(box.length).toBe(priorities.reduce((n, p) => n + model[p].length, 0));
            const lane = priorities.find((p) => model[p].length > 0);
            const head = box.peek();
            expect(head === undefined ? undefined : number.get(head)).toBe(
              lane === undefined ? undefined : model[lane][0],
            );
          }
          expect(box.drain().map((e) => number.get(e))).toEqual([
            ...model.high,
            ...model.normal,
            ...model.low,
          ]);
          expect(box.length).toBe(0);
        }),
        propertyParameters(seed, 200),
      );
    }
  });
});
