/**
 * Trace propagation and the tracing hook (docs/observability.md), in one process: sends
 * made while handling a traced message carry its trace, or the span the hook opened.
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import {
  Faulted,
  settle,
  type Envelope,
  type Self,
  type TraceEvent,
  type TraceSpan,
} from '@herald/runtime';
import { closeTestRuntimes, testRuntime } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';

const Hop = defineMessage('trace.Hop', { n: t.int() });
type Hop = MessageOf<typeof Hop>;
const Answer = defineMessage('trace.Answer', {});

const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';
const OTHER = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

afterEach(closeTestRuntimes);

/** What the last actor of a chain saw: each message's type and trace. */
interface Seen {
  readonly type: string;
  readonly trace: string | undefined;
}

/** A handler that passes every Hop on to `next` (n - 1), or records it at the end. */
function relay(next: () => ReturnType<Self['spawn']> | undefined, seen: Seen[]) {
  return {
    name: 'relay',
    receive: (self: Self, m: Hop, envelope: Envelope) => {
      const to = next();
      if (to === undefined) seen.push({ type: m.type, trace: envelope.trace });
      else self.send(to, Hop({ n: m.n - 1 }));
    },
  };
}

describe('trace propagation', () => {
  it('sends made while handling a traced message carry its trace, hop after hop; an untraced one carries none', async () => {
    const runtime = testRuntime();
    const seen: Seen[] = [];
    const c = runtime.spawn(relay(() => undefined, seen));
    // A function actor in the middle: its receive sets the handling's trace too.
    const b = runtime.spawn(async (self: Self) => {
      for (;;) {
        const m = await self.receive(Hop);
        self.send(c, Hop({ n: m.n - 1 }));
      }
    });
    const a = runtime.spawn(relay(() => b, seen));
    runtime.send(a, Hop({ n: 3 }), undefined, { trace: TRACE });
    await settle();
    runtime.send(a, Hop({ n: 3 }));
    await settle();
    expect(seen).toEqual([
      { type: Hop.type, trace: TRACE },
      { type: Hop.type, trace: undefined },
    ]);
  });

  it('a reply carries the request\u2019s trace, and an explicit trace wins over the handling\u2019s', async () => {
    const runtime = testRuntime();
    const echo = runtime.spawn({
      name: 'echo',
      receive: (self: Self, _m: Hop) => {
        self.reply(Answer());
      },
    });
    const sinkSeen: Seen[] = [];
    const sink = runtime.spawn(relay(() => undefined, sinkSeen));
    const caller = runtime.spawn(async (self: Self) => {
      await self.receive(Hop);
      // Handling a traced Hop: the ask goes with its trace and the answer comes back with
      // it, so what the caller sends next is still in the trace...
      await self.ask(echo, Hop({ n: 1 }), Answer);
      self.send(sink, Hop({ n: 0 }));
      // ...unless the send says otherwise.
      self.send(sink, Hop({ n: 0 }), { trace: OTHER });
    });
    runtime.send(caller, Hop({ n: 2 }), undefined, { trace: TRACE });
    await runtime.completion(caller);
    await settle();
    expect(sinkSeen).toEqual([
      { type: Hop.type, trace: TRACE },
      { type: Hop.type, trace: OTHER },
    ]);
  });
});

describe('runtime.setTracing', () => {
  it('opens a span per handling; sends carry the span and end() follows each handling', async () => {
    const runtime = testRuntime();
    const events: TraceEvent[] = [];
    const ended: { parent: string | undefined; error: unknown }[] = [];
    let spanId = 0;
    runtime.setTracing({
      received(event): TraceSpan {
        events.push(event);
        const id = (++spanId).toString(16).padStart(16, '0');
        const trace = (event.traceparent ?? TRACE).slice(3, 35);
        return {
          traceparent: `00-${trace}-${id}-01`,
          end: (error?: unknown) => ended.push({ parent: event.traceparent, error }),
        };
      },
    });
    const seen: Seen[] = [];
    const c = runtime.spawn(relay(() => undefined, seen));
    const b = runtime.spawn(relay(() => c, seen));
    runtime.send(b, Hop({ n: 2 }), undefined, { trace: TRACE });
    await settle();
    expect(events.map((e) => [e.actorName, e.messageType, e.traceparent])).toEqual([
      ['relay', Hop.type, TRACE],
      ['relay', Hop.type, `00-${TRACE.slice(3, 35)}-0000000000000001-01`],
    ]);
    expect(events[0]?.actor.equals(b)).toBe(true);
    // c saw b's span as the parent; both handlings ended, without error.
    expect(seen).toEqual([
      { type: Hop.type, trace: `00-${TRACE.slice(3, 35)}-0000000000000001-01` },
    ]);
    expect(ended).toHaveLength(2);
    expect(ended.every((e) => e.error === undefined)).toBe(true);
    // A handler that throws ends its span with the fault.
    const thrower = runtime.spawn({
      name: 'thrower',
      receive: () => {
        throw new Error('boom');
      },
    });
    runtime.send(thrower, Hop({ n: 0 }));
    await settle();
    expect(Faulted.is(ended[2]?.error)).toBe(true);
    // Removed: nothing more is asked, and traces still pass on unchanged.
    runtime.setTracing(undefined);
    runtime.send(b, Hop({ n: 2 }), undefined, { trace: OTHER });
    await settle();
    expect(events).toHaveLength(3);
    expect(seen[1]).toEqual({ type: Hop.type, trace: OTHER });
  });

  it("a function actor's span ends when it takes its next message, or when it ends", async () => {
    const runtime = testRuntime();
    const log: string[] = [];
    runtime.setTracing({
      received(event) {
        log.push(`open ${event.messageType}`);
        return { traceparent: TRACE, end: () => log.push(`end ${event.messageType}`) };
      },
    });
    const actor = runtime.spawn(async (self: Self) => {
      await self.receive(Hop);
      log.push('working');
      await self.receive(Answer);
      log.push('done');
    });
    runtime.send(actor, Hop({ n: 1 }));
    await settle();
    runtime.send(actor, Answer());
    await runtime.completion(actor);
    expect(log).toEqual([
      `open ${Hop.type}`,
      'working',
      `end ${Hop.type}`,
      `open ${Answer.type}`,
      'done',
      `end ${Answer.type}`,
    ]);
  });

  it('refuses a hook without received()', () => {
    const runtime = testRuntime();
    expect(() => runtime.setTracing({} as never)).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
    );
  });
});
