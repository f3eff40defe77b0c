import { defineMessage, t } from '@herald/codec';
import {
  Aborted,
  Any,
  Completed,
  createLogger,
  createRuntime,
  isFaulted,
  settle,
  Stop,
  Terminated,
  TestClock,
  TimedOut,
  Timer,
  withOptions,
  type DeadLetter,
  type Handler,
  type InspectionEvent,
  type Runtime,
  type Self,
} from '@herald/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { closeTestRuntimes, memoryLogger, testRuntime } from '@herald/testing';

const Ping = defineMessage('Ping', { n: t.int() });
const Pong = defineMessage('Pong', { n: t.int() });
const Other = defineMessage('Other', {});

afterEach(closeTestRuntimes);
/** A runtime that logs into memory and is closed after each test. */
const rt = testRuntime;

function deadLetters(r: Runtime): DeadLetter[] {
  const seen: DeadLetter[] = [];
  r.onDeadLetter((d) => seen.push(d));
  return seen;
}

async function echo(self: Self) {
  for (;;) {
    const m = await self.receive(Ping, Stop);
    if (Stop.is(m)) return 'stopped';
    self.reply(Pong({ n: m.n }));
  }
}

describe('messaging', () => {
  it('replies to the return address of the message received last', async () => {
    const r = rt();
    const server = r.spawn(echo);
    const answer = await r.ask(server, Ping({ n: 7 }), [Pong]);
    expect(answer).toEqual({ type: 'Pong', n: 7 });
  });

  it('forward sends with another return address, so the answer skips the forwarder', async () => {
    const r = rt();
    const server = r.spawn(echo);
    const middle = r.spawn(async (self: Self) => {
      const m = await self.receive(Ping);
      self.forward(server, m, self.returnAddress);
      return 'forwarded';
    });
    const answer = await r.ask(middle, Ping({ n: 3 }), [Pong]);
    expect(answer).toEqual({ type: 'Pong', n: 3 });
    expect(await r.completion(middle).catch(() => 'gone')).toBeDefined();
  });

  it('two runtimes in one process do not interfere', async () => {
    const a = rt();
    const b = rt();
    const aSeen = deadLetters(a);
    const bSeen = deadLetters(b);
    const x = a.spawn(echo);
    const y = b.spawn(echo);
    expect(x.equals(y)).toBe(true); // same id in each runtime: addresses are per runtime
    a.send(x, Other());
    await settle();
    expect(aSeen).toHaveLength(1);
    expect(bSeen).toHaveLength(0);
    expect(await b.ask(y, Ping({ n: 1 }), [Pong])).toEqual({ type: 'Pong', n: 1 });
  });

  it('a send to an address with no actor is a dead letter with reason no-such-actor', async () => {
    const r = rt();
    const seen = deadLetters(r);
    const gone = r.spawn(async () => 'done');
    await r.completion(gone);
    expect(r.send(gone, Ping({ n: 1 }))).toBe(false);
    expect(seen.map((d) => d.reason)).toEqual(['no-such-actor']);
    expect(seen[0]?.message).toEqual({ type: 'Ping', n: 1 });
  });
});

describe('receive', () => {
  it('saves listed types and replays them in arrival order when asked again', async () => {
    const r = rt();
    const seen = deadLetters(r);
    const actor = r.spawn(async (self: Self) => {
      const first = await self.receive(Pong, { save: [Ping] });
      const a = await self.receive(Ping);
      const b = await self.receive(Ping);
      return [first, a, b];
    });
    r.send(actor, Ping({ n: 1 }));
    r.send(actor, Ping({ n: 2 }));
    r.send(actor, Pong({ n: 0 }));
    expect(await r.completion(actor)).toEqual([
      { type: 'Pong', n: 0 },
      { type: 'Ping', n: 1 },
      { type: 'Ping', n: 2 },
    ]);
    expect(seen).toHaveLength(0);
  });

  it('a message neither matched nor saved becomes a dead letter, never vanishes', async () => {
    const r = rt();
    const seen = deadLetters(r);
    const actor = r.spawn(async (self: Self) => self.receive(Pong));
    r.send(actor, Other());
    r.send(actor, Pong({ n: 1 }));
    expect(await r.completion(actor)).toEqual({ type: 'Pong', n: 1 });
    expect(seen.map((d) => [d.message.type, d.reason])).toEqual([['Other', 'unmatched']]);
  });

  it('an unmatched Stop ends the actor with Aborted', async () => {
    const r = rt();
    const actor = r.spawn(async (self: Self) => self.receive(Pong));
    r.stop(actor);
    const value = await r.completion(actor);
    expect(Aborted.is(value)).toBe(true);
    expect(isFaulted(value)).toBe(true);
  });

  it('times out with TimedOut on the injected clock, without real time passing', async () => {
    const clock = new TestClock();
    const r = rt({ clock });
    const actor = r.spawn(async (self: Self) => self.receive(Pong, { timeout: 5000 }));
    await settle();
    clock.advance(4999);
    await settle();
    expect(r.isAlive(actor)).toBe(true);
    clock.advance(1);
    const value = await r.completion(actor);
    expect(TimedOut.is(value)).toBe(true);
    expect(value).toMatchObject({ after: 5000, code: 'HERALD_TIMED_OUT' });
  });

  it('ask saves unrelated messages for later and returns the typed answer', async () => {
    const r = rt();
    const server = r.spawn(echo);
    const client = r.spawn(async (self: Self) => {
      const answer = await self.ask(server, Ping({ n: 9 }), Pong, { timeout: 10_000 });
      const later = await self.receive(Other);
      return [answer, later];
    });
    r.send(client, Other());
    expect(await r.completion(client)).toEqual([{ type: 'Pong', n: 9 }, { type: 'Other' }]);
  });

  it('Any matches every message', async () => {
    const r = rt();
    const actor = r.spawn(async (self: Self) => self.receive(Any));
    r.send(actor, Other());
    expect(await r.completion(actor)).toEqual({ type: 'Other' });
  });

  it('a second concurrent receive is a programming error with a stable code', async () => {
    const r = rt();
    const actor = r.spawn(async (self: Self) => {
      const first = self.receive(Pong);
      const error = await self.receive(Pong).catch((e: { code: string }) => e.code);
      r.send(self.address, Pong({ n: 1 }));
      await first;
      return error;
    });
    expect(await r.completion(actor)).toBe('HERALD_ERR_CONCURRENT_RECEIVE');
  });
});

describe('mailboxes', () => {
  it('a full mailbox refuses the send and reports a dead letter with reason mailbox-full', async () => {
    const r = rt();
    const seen = deadLetters(r);
    const actor = r.spawn(
      withOptions(
        async (self: Self) => {
          await self.receive(Stop);
          return 'stopped';
        },
        { capacity: 2 },
      ),
    );
    // The actor is waiting for Stop only, so other messages are unmatched; fill it while it is not receiving.
    const busy = r.spawn(
      withOptions(
        async (self: Self) => {
          await new Promise<void>((resolve) => setImmediate(resolve));
          return self.receive(Stop);
        },
        { capacity: 2 },
      ),
    );
    expect(r.send(busy, Ping({ n: 1 }))).toBe(true);
    expect(r.send(busy, Ping({ n: 2 }))).toBe(true);
    expect(r.send(busy, Ping({ n: 3 }))).toBe(false);
    expect(seen.filter((d) => d.reason === 'mailbox-full')).toHaveLength(1);
    // Control messages still get through a full mailbox.
    expect(r.send(busy, Stop())).toBe(true);
    r.stop(actor);
    expect(await r.completion(busy)).toEqual({ type: Stop.type });
  });
});

describe('timers', () => {
  it('one-shot and repeating timers fire on the injected clock; cancel stops them', async () => {
    const clock = new TestClock();
    const r = rt({ clock });
    const actor = r.spawn(async (self: Self) => {
      self.startTimer('tick', 100, { repeat: true });
      self.startTimer('once', 250, { message: Other() });
      const got: string[] = [];
      for (;;) {
        const m = await self.receive(Timer, Other, Stop);
        if (Stop.is(m)) return got;
        got.push(Timer.is(m) ? m.key : 'other');
        if (got.length === 4) self.cancelTimer('tick');
      }
    });
    await clock.advanceAsync(1000);
    r.stop(actor);
    expect(await r.completion(actor)).toEqual(['tick', 'tick', 'other', 'tick']);
    expect(clock.pending).toBe(0);
  });

  it('a cancelled timer whose firing is already queued never surfaces', async () => {
    const clock = new TestClock();
    const r = rt({ clock });
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    const actor = r.spawn(async (self: Self) => {
      self.startTimer('t', 10);
      await gate; // not receiving while the timer fires into the mailbox
      self.cancelTimer('t');
      return self.receive(Timer, { timeout: 50 });
    });
    await settle();
    expect(clock.advance(10)).toBe(1);
    release();
    await settle();
    clock.advance(50);
    expect(TimedOut.is(await r.completion(actor))).toBe(true);
  });
});

describe('lifecycle', () => {
  it('a child completion reaches the parent as Completed from the child', async () => {
    const r = rt();
    const parent = r.spawn(async (self: Self) => {
      const child = self.spawn(async (_s: Self, x: number) => x * 2, 21);
      const m = await self.receive(Completed);
      return { value: m.value, fromChild: self.returnAddress.equals(child) };
    });
    expect(await r.completion(parent)).toEqual({ value: 42, fromChild: true });
  });

  it('children are stopped when their parent ends', async () => {
    const r = rt();
    let childAddress: ReturnType<Runtime['spawn']> | undefined;
    const watcher = r.spawn(async (self: Self) => {
      const m = await self.receive(Terminated);
      return m.value;
    });
    const parent = r.spawn(async (self: Self) => {
      childAddress = self.spawn(echo);
      r.send(childAddress, (await import('@herald/runtime')).Watch(), watcher);
      return 'parent done';
    });
    await r.completion(parent);
    expect(await r.completion(watcher)).toBe('stopped');
    expect(r.isAlive(childAddress!)).toBe(false);
  });

  it('watch delivers Terminated with the value; watching a missing actor delivers it at once', async () => {
    const r = rt();
    const target = r.spawn(echo);
    const watcher = r.spawn(async (self: Self) => {
      self.watch(target);
      self.stop(target);
      const a = await self.receive(Terminated);
      self.watch(target); // already gone
      const b = await self.receive(Terminated);
      return [a.value, (b.value as { code: string }).code];
    });
    expect(await r.completion(watcher)).toEqual(['stopped', 'HERALD_NO_SUCH_ACTOR']);
  });

  it('an exception becomes a Faulted value with a stable code', async () => {
    const r = rt();
    const value = await r.run(async () => {
      throw new Error('boom');
    });
    expect(value).toMatchObject({
      type: 'herald.Faulted',
      faulted: true,
      code: 'HERALD_ACTOR_THREW',
      explanation: 'boom',
    });
  });

  it('handler actors take messages one at a time and complete on request', async () => {
    const r = rt();
    const seen: number[] = [];
    const handler: Handler = {
      name: 'counter',
      receive(self, message) {
        if (Ping.is(message)) {
          seen.push(message.n);
          self.reply(Pong({ n: message.n }));
          if (seen.length === 3) self.complete(seen.length);
        }
      },
    };
    const a = r.spawn(handler);
    for (let i = 0; i < 3; i++) r.send(a, Ping({ n: i }));
    expect(await r.completion(a)).toBe(3);
    expect(seen).toEqual([0, 1, 2]);
  });

  it('a handler without onStop ends with Aborted on Stop', async () => {
    const r = rt();
    const a = r.spawn({ receive() {} } satisfies Handler);
    r.stop(a);
    expect(Aborted.is(await r.completion(a))).toBe(true);
  });

  it('close() stops every actor and runs close hooks', async () => {
    const r = createRuntime({ logger: createLogger('silent') });
    const a = r.spawn(echo);
    const done = r.completion(a);
    let hooked = false;
    r.onClose(() => {
      hooked = true;
    });
    await r.close();
    expect(await done).toBe('stopped');
    expect(hooked).toBe(true);
    expect(() => r.spawn(echo)).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_RUNTIME_CLOSED' }),
    );
  });
});

describe('scheduling', () => {
  it('an endless in-process ping-pong does not starve timers and I/O', async () => {
    const r = rt();
    const a = r.spawn(echo);
    let rounds = 0;
    let stop = false;
    const b = r.spawn(async (self: Self) => {
      while (!stop) {
        self.send(a, Ping({ n: rounds++ }));
        await self.receive(Pong);
      }
      return rounds;
    });
    await new Promise<void>((resolve) => setImmediate(resolve));
    await new Promise<void>((resolve) => setTimeout(resolve, 1));
    stop = true;
    expect(await r.completion(b)).toBeGreaterThan(0);
  });
});

describe('logging and inspection', () => {
  it('debug shows created, received, sent and destroyed with actor name, address and message type', async () => {
    const { logger, lines } = memoryLogger('debug');
    const r = rt({ logger });
    const server = r.spawn(echo);
    await r.ask(server, Ping({ n: 1 }), [Pong]);
    r.stop(server);
    await r.completion(server);
    const forEcho = lines.filter((l) => l.name === 'echo');
    expect(forEcho.map((l) => l.msg)).toEqual([
      'created',
      'received',
      'sent',
      'received',
      'destroyed',
    ]);
    expect(forEcho[1]).toMatchObject({ actor: server.toString(), type: 'Ping' });
    expect(forEcho[2]).toMatchObject({ type: 'Pong' });
  });

  it('the level can be changed while running, for existing actors too', async () => {
    const { logger, lines } = memoryLogger('info');
    const r = rt({ logger });
    const server = r.spawn(echo);
    await r.ask(server, Ping({ n: 1 }), [Pong]);
    expect(lines.filter((l) => l.msg === 'received')).toHaveLength(0);
    r.setLogLevel('DEBUG');
    await r.ask(server, Ping({ n: 2 }), [Pong]);
    expect(lines.filter((l) => l.msg === 'received' && l.name === 'echo')).toHaveLength(1);
    r.setLogLevel('warning');
    await r.ask(server, Ping({ n: 3 }), [Pong]);
    expect(lines.filter((l) => l.msg === 'received' && l.name === 'echo')).toHaveLength(1);
  });

  it('dead letters are logged at warn with type and reason but not the payload', async () => {
    const { logger, lines } = memoryLogger('warn');
    const r = rt({ logger });
    const a = r.spawn(async (self: Self) => self.receive(Pong));
    r.send(a, defineMessage('Secret', { key: t.string() })({ key: 'hunter2' }));
    r.send(a, Pong({ n: 1 }));
    await r.completion(a);
    const line = lines.find((l) => l.msg === 'dead letter');
    expect(line).toMatchObject({ type: 'Secret', reason: 'unmatched' });
    expect(JSON.stringify(lines)).not.toContain('hunter2');
  });

  it('inspect streams lifecycle and message events', async () => {
    const r = rt();
    const events: InspectionEvent[] = [];
    const off = r.inspect((e) => events.push(e));
    const server = r.spawn(echo);
    await r.ask(server, Ping({ n: 1 }), [Pong]);
    off();
    const kinds = events.filter((e) => 'actor' in e && e.actor.equals(server)).map((e) => e.kind);
    expect(kinds).toEqual(['created', 'received', 'sent']);
  });
});
