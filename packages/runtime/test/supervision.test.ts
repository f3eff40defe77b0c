/**
 * Supervision on a TestClock: restart with backoff at the same address with the state the
 * behaviour saved, stop, escalate, one-for-one and one-for-all, and the restart intensity
 * (max restarts within a window).
 */
import { defineMessage, t } from '@herald/codec';
import {
  Completed,
  herald,
  settle,
  Stop,
  TestClock,
  withOptions,
  type Handler,
  type Self,
  type SupervisionPolicy,
} from '@herald/runtime';
import { closeTestRuntimes, testRuntime } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { assign, setup } from 'xstate';

const Add = defineMessage('Add', { n: t.int() });
const Boom = defineMessage('Boom', {});
const Total = defineMessage('Total', { total: t.int(), incarnation: t.int() });
const Get = defineMessage('Get', {});

afterEach(closeTestRuntimes);

/** A counter that keeps its total across restarts (saveState) and throws on Boom. */
async function counter(self: Self) {
  let total = (self.restart?.state as number | undefined) ?? 0;
  for (;;) {
    const m = await self.receive(Add, Boom, Get);
    if (Boom.is(m)) throw new Error('boom');
    if (Get.is(m)) self.reply(Total({ total, incarnation: self.restart?.count ?? 0 }));
    else {
      total += m.n;
      self.saveState(total);
    }
  }
}

const RESTART: SupervisionPolicy = {
  onFault: 'restart',
  backoff: { initialMs: 100, factor: 2, maxMs: 1_000 },
  maxRestarts: 3,
  withinMs: 10_000,
};

/** A parent that spawns `children` with policies and reports each Completed it gets. */
function parentOf(
  children: [behaviour: Parameters<Self['spawn']>[0], policy: SupervisionPolicy][],
  ready: (addresses: ReturnType<Self['spawn']>[]) => void,
) {
  return async (self: Self) => {
    const addresses = children.map(([b, policy]) =>
      self.spawn(withOptions(b as typeof counter, { supervision: policy })),
    );
    ready(addresses);
    const completed = await self.receive(Completed, Stop);
    return Completed.is(completed) ? completed.value : 'stopped';
  };
}

describe('supervision', () => {
  it('restarts a faulted child after its backoff, at the same address, with the state it saved', async () => {
    const r = testRuntime({ clock: new TestClock() });
    let child!: ReturnType<Self['spawn']>;
    r.spawn(parentOf([[counter, RESTART]], ([a]) => (child = a!)));
    await settle();
    r.send(child, Add({ n: 5 }));
    r.send(child, Boom());
    r.send(child, Add({ n: 2 })); // sent during the backoff: waits for the new incarnation
    await settle();
    expect(r.isAlive(child)).toBe(true);
    await r.clock.advanceAsync(99);
    const early = r.ask(child, Get(), [Total]);
    await settle();
    await r.clock.advanceAsync(1);
    expect(await early).toEqual({ type: 'Total', total: 7, incarnation: 1 });
    expect(r.deadLetters.entries).toEqual([]);
  });

  it('backs off longer on each restart within the window, then gives up: the parent gets Completed with the fault', async () => {
    const r = testRuntime({ clock: new TestClock() });
    let child!: ReturnType<Self['spawn']>;
    const parent = r.spawn(parentOf([[counter, RESTART]], ([a]) => (child = a!)));
    await settle();
    for (const delay of [100, 200, 400]) {
      r.send(child, Boom());
      await settle();
      await r.clock.advanceAsync(delay - 1);
      expect(r.clock.pending).toBe(1); // still waiting to restart
      await r.clock.advanceAsync(1);
      expect(r.clock.pending).toBe(0);
    }
    r.send(child, Boom()); // the fourth fault within the window
    const value = (await r.completion(parent)) as { code: string; explanation: string };
    expect(value.code).toBe('HERALD_ACTOR_THREW');
    expect(r.isAlive(child)).toBe(false);
  });

  it('counts restarts only within the window', async () => {
    const r = testRuntime({ clock: new TestClock() });
    let child!: ReturnType<Self['spawn']>;
    r.spawn(
      parentOf(
        [
          [
            counter,
            { onFault: 'restart', maxRestarts: 1, withinMs: 1_000, backoff: { initialMs: 0 } },
          ],
        ],
        ([a]) => (child = a!),
      ),
    );
    await settle();
    for (let i = 0; i < 3; i++) {
      r.send(child, Boom());
      await settle();
      await r.clock.advanceAsync(0);
      expect(r.isAlive(child)).toBe(true);
      await r.clock.advanceAsync(1_000); // the window moves on
    }
    const answer = await r.ask(child, Get(), [Total]);
    expect(answer).toMatchObject({ incarnation: 3 });
  });

  it('stop: the child ends with its fault and the parent gets Completed (as without a policy)', async () => {
    const r = testRuntime({ clock: new TestClock() });
    let child!: ReturnType<Self['spawn']>;
    const parent = r.spawn(parentOf([[counter, { onFault: 'stop' }]], ([a]) => (child = a!)));
    await settle();
    r.send(child, Boom());
    expect(await r.completion(parent)).toMatchObject({ code: 'HERALD_ACTOR_THREW' });
  });

  it('escalate: the parent faults with HERALD_ESCALATED', async () => {
    const r = testRuntime({ clock: new TestClock() });
    let child!: ReturnType<Self['spawn']>;
    const parent = r.spawn(async (self: Self) => {
      child = self.spawn(withOptions(counter, { supervision: { onFault: 'escalate' } }));
      await self.receive(Stop);
      return 'not reached';
    });
    await settle();
    r.send(child, Boom());
    expect(await r.completion(parent)).toMatchObject({ code: 'HERALD_ESCALATED' });
  });

  it('a Stop is not a fault: a stopped child is not restarted', async () => {
    const r = testRuntime({ clock: new TestClock() });
    let child!: ReturnType<Self['spawn']>;
    const parent = r.spawn(parentOf([[counter, RESTART]], ([a]) => (child = a!)));
    await settle();
    r.stop(child);
    expect(await r.completion(parent)).toMatchObject({ type: 'herald.Aborted' });
  });

  it('a Stop during the backoff ends the child at once', async () => {
    const r = testRuntime({ clock: new TestClock() });
    let child!: ReturnType<Self['spawn']>;
    const parent = r.spawn(parentOf([[counter, RESTART]], ([a]) => (child = a!)));
    await settle();
    r.send(child, Boom());
    await settle();
    r.stop(child);
    expect(await r.completion(parent)).toMatchObject({ type: 'herald.Aborted' });
    expect(r.clock.pending).toBe(0);
  });

  it('one-for-one restarts the faulted child alone; one-for-all restarts its one-for-all siblings too', async () => {
    const r = testRuntime({ clock: new TestClock() });
    const all: SupervisionPolicy = { ...RESTART, strategy: 'one-for-all' };
    let kids: ReturnType<Self['spawn']>[] = [];
    r.spawn(
      parentOf(
        [
          [counter, all],
          [counter, all],
          [counter, RESTART],
        ],
        (a) => (kids = a),
      ),
    );
    await settle();
    const [a, b, c] = kids as [
      ReturnType<Self['spawn']>,
      ReturnType<Self['spawn']>,
      ReturnType<Self['spawn']>,
    ];
    r.send(a, Boom());
    await settle();
    await r.clock.advanceAsync(100);
    const incarnations = async () =>
      Promise.all(
        [a, b, c].map(
          async (k) => ((await r.ask(k, Get(), [Total])) as { incarnation: number }).incarnation,
        ),
      );
    expect(await incarnations()).toEqual([1, 1, 0]);
    r.send(c, Boom());
    await settle();
    await r.clock.advanceAsync(100);
    expect(await incarnations()).toEqual([1, 1, 1]);
  });

  it('handler and machine children restart in place too', async () => {
    const r = testRuntime({ clock: new TestClock() });
    const Ping = defineMessage('Ping', {});
    let starts = 0;
    const handler: Handler = {
      start() {
        starts++;
      },
      receive(self, message) {
        if (Boom.is(message)) throw new Error('handler boom');
        self.reply(Total({ total: starts, incarnation: self.restart?.count ?? 0 }));
      },
    };
    const machine = setup({
      types: { context: {} as { n: number }, events: {} as { type: 'Boom' } | { type: 'Ping' } },
    }).createMachine({
      context: { n: 0 },
      on: {
        Boom: {
          actions: () => {
            throw new Error('machine boom');
          },
        },
        Ping: {
          actions: [
            assign({ n: ({ context }) => context.n + 1 }),
            herald.reply((args) =>
              Total({
                total: args.context.n,
                incarnation: herald.self(args).restart?.count ?? 0,
              }),
            ),
          ],
        },
      },
    });
    const policy = { onFault: 'restart', backoff: { initialMs: 10 } } as const;
    const h = r.spawn(withOptions(handler, { supervision: policy }));
    const m = r.spawn(withOptions(machine, { supervision: policy }));
    await settle();
    expect(await r.ask(m, Ping(), [Total])).toEqual({ type: 'Total', total: 1, incarnation: 0 });
    r.send(h, Boom());
    r.send(m, Boom());
    await settle();
    await r.clock.advanceAsync(10);
    expect(await r.ask(h, Ping(), [Total])).toEqual({ type: 'Total', total: 2, incarnation: 1 });
    // A fresh machine (its context starts again), at the same address.
    expect(await r.ask(m, Ping(), [Total])).toEqual({ type: 'Total', total: 1, incarnation: 1 });
  });

  it('refuses a bad policy at spawn', () => {
    const r = testRuntime();
    expect(() =>
      r.spawn(withOptions(counter, { supervision: { onFault: 'restart', maxRestarts: -1 } })),
    ).toThrow(/maxRestarts/);
  });
});
