/**
 * Introspection for tools: runtime.actors() and the runtime's node:diagnostics_channel
 * channels (docs/observability.md).
 */
import diagnostics from 'node:diagnostics_channel';
import { defineMessage, t, type Address } from '@herald/codec';
import {
  CHANNEL_ACTOR_CREATED,
  CHANNEL_ACTOR_DESTROYED,
  CHANNEL_DEAD_LETTER,
  CHANNEL_MESSAGE_DELIVERED,
  herald,
  settle,
  Stop,
  withOptions,
  type Runtime,
  type Self,
  type XstateInspection,
} from '@herald/runtime';
import { closeTestRuntimes, testRuntime } from '@herald/testing';
import { assign, setup } from 'xstate';
import { afterEach, describe, expect, it } from 'vitest';

const Go = defineMessage('Go', {});
const Note = defineMessage('Note', { n: t.int() });

const light = setup({ types: { events: {} as { type: 'Go' } } }).createMachine({
  id: 'light',
  initial: 'red',
  states: { red: { on: { Go: 'green' } }, green: {} },
});

const cleanups: (() => void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0)) c();
  await closeTestRuntimes();
});

function record(name: string, runtime: Runtime): Record<string, unknown>[] {
  const seen: Record<string, unknown>[] = [];
  const listener = (message: unknown): void => {
    const m = message as Record<string, unknown>;
    if (m['runtime'] === runtime) seen.push(m);
  };
  diagnostics.subscribe(name, listener);
  cleanups.push(() => diagnostics.unsubscribe(name, listener));
  return seen;
}

describe('runtime.actors()', () => {
  it('lists every live actor with its kind, parent, mailbox and a machine state', async () => {
    const runtime = testRuntime();
    let child: ReturnType<Self['spawn']> | undefined;
    const parent = runtime.spawn(
      withOptions(
        async (self: Self) => {
          child = self.spawn(withOptions(light, { name: 'light' }));
          await self.receive(Stop);
        },
        { name: 'parent', capacity: 10 },
      ),
    );
    const handler = runtime.spawn({ name: 'counter', receive: () => {} });
    await settle();
    const before = runtime.actors();
    expect(before.map((a) => [a.name, a.kind])).toEqual([
      ['parent', 'function'],
      ['counter', 'handler'],
      // Spawned when the parent's function first ran, after the handler.
      ['light', 'machine'],
    ]);
    const [p, h, m] = before;
    expect(p).toEqual({
      address: parent,
      name: 'parent',
      kind: 'function',
      parent: undefined,
      mailbox: 0,
      capacity: 10,
    });
    expect(m?.parent?.equals(parent)).toBe(true);
    expect(m?.address.equals(child!)).toBe(true);
    expect(m?.state).toBe('red');
    expect(h?.address.equals(handler)).toBe(true);
    expect('state' in (h ?? {})).toBe(false);

    runtime.send(child!, Go());
    // Sent in one go: they wait in the handler's mailbox until the scheduler's turn.
    for (let i = 0; i < 3; i++) runtime.send(handler, Note({ n: i }));
    expect(runtime.actors().find((a) => a.name === 'counter')?.mailbox).toBe(3);
    await settle();
    expect(runtime.actors().find((a) => a.name === 'counter')?.mailbox).toBe(0);
    const after = runtime.actors();
    expect(after.find((a) => a.name === 'light')?.state).toBe('green');
    // JSON-safe throughout (addresses stringify).
    expect(() => JSON.stringify(after)).not.toThrow();
  });
});

describe('diagnostics channels', () => {
  it('publish created, delivered, destroyed and dead-letter for their own runtime only', async () => {
    const runtime = testRuntime({ name: 'observed' });
    const other = testRuntime({ name: 'other' });
    const created = record(CHANNEL_ACTOR_CREATED, runtime);
    const delivered = record(CHANNEL_MESSAGE_DELIVERED, runtime);
    const destroyed = record(CHANNEL_ACTOR_DESTROYED, runtime);
    const dead = record(CHANNEL_DEAD_LETTER, runtime);
    const otherCreated = record(CHANNEL_ACTOR_CREATED, other);

    const echo = runtime.spawn(
      withOptions(
        async (self: Self) => {
          await self.receive(Note);
        },
        { name: 'echo' },
      ),
    );
    runtime.send(echo, Note({ n: 1 }), echo);
    const value = await runtime.completion(echo);
    expect(value).toBeUndefined();
    runtime.send(echo, Note({ n: 2 }));

    expect(created).toEqual([{ runtime, actor: echo, name: 'echo', parent: undefined }]);
    expect(delivered).toEqual([
      { runtime, actor: echo, from: echo, messageType: 'Note', trace: undefined },
    ]);
    expect(destroyed).toEqual([{ runtime, actor: echo, name: 'echo' }]);
    expect(dead).toHaveLength(1);
    expect(dead[0]?.['deadLetter']).toMatchObject({ to: echo, reason: 'no-such-actor' });
    expect(otherCreated).toEqual([]);
  });
});

describe('xstate inspection', () => {
  it('machine actors forward their xstate inspection events to runtime.inspect listeners, JSON-safe', async () => {
    const runtime = testRuntime();
    const events: XstateInspection[] = [];
    runtime.inspect((event) => {
      if (event.kind === 'xstate') events.push(event);
    });
    const Mark = defineMessage('Mark', { data: t.bytes() });
    const keeper = setup({
      types: {
        context: {} as { marks: number; last: Uint8Array | undefined; owner: Address | undefined },
        events: {} as ReturnType<typeof Mark> | { type: 'Go' },
      },
    }).createMachine({
      id: 'keeper',
      context: { marks: 0, last: undefined, owner: undefined },
      initial: 'idle',
      states: {
        idle: {
          on: {
            Mark: {
              target: 'marked',
              actions: assign({
                marks: ({ context }) => context.marks + 1,
                last: ({ event }) => event.data,
                owner: ({ self }) => herald.self({ system: self.system }).address,
              }),
            },
          },
        },
        marked: {},
      },
    });
    const actor = runtime.spawn(withOptions(keeper, { name: 'keeper' }));
    await settle();
    runtime.send(actor, Mark({ data: new Uint8Array(3) }));
    await settle();
    expect(events.every((e) => e.actor.equals(actor))).toBe(true);
    const types = events.map((e) => e.event.type);
    expect(types).toContain('@xstate.actor');
    expect(types).toContain('@xstate.event');
    const sent = events.find(
      (e) => e.event.type === '@xstate.event' && e.event.event.type === 'Mark',
    );
    expect(sent?.event).toMatchObject({ event: { type: 'Mark', data: { bytes: 3 } } });
    const last = events.filter((e) => e.event.type === '@xstate.snapshot').at(-1)?.event;
    expect(last).toMatchObject({
      type: '@xstate.snapshot',
      event: { type: 'Mark' },
      snapshot: {
        status: 'active',
        value: 'marked',
        context: { marks: 1, last: { bytes: 3 }, owner: actor.toString() },
      },
    });
    // Every event survives JSON unchanged.
    for (const e of events) expect(JSON.parse(JSON.stringify(e.event))).toEqual(e.event);
  });
});
