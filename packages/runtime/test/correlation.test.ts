/**
 * Correlated requests: every ask carries a correlation, answers are matched by it, a late
 * answer is a `late-reply` dead letter and never another ask's answer, replies are bound to
 * the message they answer, and an ask whose target ends first ends at once with Unanswered,
 * in function, handler and machine actors and runtime.ask alike.
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import {
  Any,
  Completed,
  herald,
  settle,
  Stop,
  TestClock,
  TimedOut,
  Unanswered,
  type Handler,
  type Self,
} from '@herald/runtime';
import { closeTestRuntimes, testRuntime } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { setup } from 'xstate';

const Question = defineMessage('Question', { id: t.int() });
type Question = MessageOf<typeof Question>;
const Answer = defineMessage('Answer', { id: t.int() });
const Note = defineMessage('Note', { text: t.string() });
const Go = defineMessage('Go', {});

afterEach(closeTestRuntimes);

/** Takes two questions, then answers the first and the second, each with replyTo. */
async function slowPair(self: Self) {
  const first = await self.receive(Question);
  const second = await self.receive(Question);
  self.replyTo(first, Answer({ id: first.id }));
  self.replyTo(second, Answer({ id: second.id }));
  return 'answered';
}

describe('correlated asks', () => {
  it('a late answer to a timed-out ask is a late-reply dead letter, never the next ask’s answer', async () => {
    const r = testRuntime({ clock: new TestClock() });
    const server = r.spawn(slowPair);
    const client = r.spawn(async (self: Self) => {
      const eight = await self.ask(server, Question({ id: 8 }), Answer, { timeout: 100 });
      const nine = await self.ask(server, Question({ id: 9 }), Answer);
      return [eight.type, nine];
    });
    await settle();
    await r.clock.advanceAsync(100);
    expect(await r.completion(client)).toEqual([TimedOut.type, { type: 'Answer', id: 9 }]);
    const late = r.deadLetters.filter((d) => d.reason === 'late-reply');
    expect(late.map((d) => d.message)).toEqual([{ type: 'Answer', id: 8 }]);
  });

  it('a timed-out ask leaves no timer and no guard behind', async () => {
    const r = testRuntime({ clock: new TestClock() });
    const silent = r.spawn(async (self: Self) => {
      await self.receive(Go);
      return 'went';
    });
    const asking = r.ask(silent, Question({ id: 1 }), [Answer], { timeout: 50 });
    await settle();
    expect(r.clock.pending).toBe(1);
    await r.clock.advanceAsync(50);
    expect((await asking).type).toBe(TimedOut.type);
    expect(r.clock.pending).toBe(0);
    r.send(silent, Go());
    expect(await r.completion(silent)).toBe('went');
    await settle();
    // The request itself went to a receive that did not take it; nothing else is left.
    expect(r.deadLetters.entries.map((d) => d.reason)).toEqual(['unmatched']);
  });

  it('reply() after an intermediate receive answers the message received last; replyTo answers the one given', async () => {
    const r = testRuntime();
    const server = r.spawn(async (self: Self) => {
      const q = await self.receive(Question, { save: [Note] });
      const note = await self.receive(Note); // an intermediate receive
      self.replyTo(q, Answer({ id: q.id }));
      self.reply(Note({ text: `seen ${note.text}` })); // answers the Note's sender
      return 'done';
    });
    const noter = r.spawn(async (self: Self) => {
      self.send(server, Note({ text: 'hi' }));
      return (await self.receive(Note)).text;
    });
    expect(await r.ask(server, Question({ id: 4 }), [Answer])).toEqual({ type: 'Answer', id: 4 });
    expect(await r.completion(noter)).toBe('seen hi');
  });

  it('replyTo refuses a message the actor never received', async () => {
    const r = testRuntime();
    const value = await r.run(async (self: Self) => {
      try {
        self.replyTo(Question({ id: 1 }), Answer({ id: 1 }));
        return 'no error';
      } catch (error) {
        return (error as { code: string }).code;
      }
    });
    expect(value).toBe('HERALD_ERR_NOT_RECEIVED');
  });

  it('forward on behalf of the sender keeps the correlation, so the final reply answers the ask', async () => {
    const r = testRuntime();
    const worker = r.spawn(async (self: Self) => {
      const q = await self.receive(Question);
      self.reply(Answer({ id: q.id * 10 }));
    });
    const router = r.spawn(async (self: Self) => {
      const q = await self.receive(Question);
      self.forward(worker, q, self.returnAddress);
    });
    expect(await r.ask(router, Question({ id: 3 }), [Answer])).toEqual({ type: 'Answer', id: 30 });
    expect(r.deadLetters.entries).toEqual([]);
  });

  it('a message of the asked type queued before the request is not its answer', async () => {
    const r = testRuntime();
    const server = r.spawn(async (self: Self) => {
      const q = await self.receive(Question);
      self.reply(Answer({ id: q.id }));
    });
    const client = r.spawn(async (self: Self) => {
      await self.receive(Go);
      // An Answer sent with send() (uncorrelated) is already queued: it predates the ask.
      const answer = await self.ask(server, Question({ id: 2 }), Answer);
      const stale = await self.receive(Answer);
      return [answer, stale];
    });
    await settle();
    r.send(client, Go());
    r.send(client, Answer({ id: 99 }));
    expect(await r.completion(client)).toEqual([
      { type: 'Answer', id: 2 },
      { type: 'Answer', id: 99 },
    ]);
  });

  it('an uncorrelated message of the asked type sent after the request still answers (send() instead of reply())', async () => {
    const r = testRuntime();
    const server = r.spawn(async (self: Self) => {
      const q = await self.receive(Question);
      self.send(self.returnAddress, Answer({ id: q.id }));
    });
    expect(await r.ask(server, Question({ id: 5 }), [Answer])).toEqual({ type: 'Answer', id: 5 });
  });
});

describe('asks that cannot be answered', () => {
  it('ends at once with Unanswered when the target ends without answering', async () => {
    const r = testRuntime();
    const quitter = r.spawn(async (self: Self) => {
      await self.receive(Question);
      return 'quit';
    });
    const answer = await r.ask(quitter, Question({ id: 1 }), [Answer]);
    expect(Unanswered.is(answer) && answer.value).toBe('quit');
    expect(Unanswered.is(answer) && answer.address.equals(quitter)).toBe(true);
  });

  it('ends at once with Unanswered when there is no such actor', async () => {
    const r = testRuntime();
    const gone = r.spawn(async () => 'gone');
    await r.completion(gone);
    const answer = await r.ask(gone, Question({ id: 1 }), [Answer]);
    expect(answer.type).toBe(Unanswered.type);
    expect(r.deadLetters.entries.map((d) => d.reason)).toEqual(['no-such-actor']);
  });

  it('a handler actor asks without blocking: other messages are handled meanwhile, the answer settles the promise', async () => {
    const r = testRuntime();
    const server = r.spawn(async (self: Self) => {
      const q = await self.receive(Question);
      await self.receive(Go);
      self.replyTo(q, Answer({ id: q.id }));
      await self.receive(Question);
      return 'ended';
    });
    const seen: string[] = [];
    const handler: Handler = {
      start(self) {
        void self.ask(server, Question({ id: 7 }), Answer).then((a) => {
          seen.push(`answer ${Answer.is(a) ? a.id : a.type}`);
          void self.ask(server, Question({ id: 8 }), Answer).then((b) => {
            seen.push(`second ${b.type}`);
            self.complete(seen);
          });
        });
      },
      receive(self, message) {
        seen.push(`note ${(message as MessageOf<typeof Note>).text}`);
        if (Note.is(message)) self.send(server, Go());
      },
    };
    const h = r.spawn(handler);
    r.send(h, Note({ text: 'meanwhile' }));
    expect(await r.completion(h)).toEqual([
      'note meanwhile',
      'answer 7',
      `second ${Unanswered.type}`,
    ]);
  });

  it('a machine actor asks through herald.self(): TimedOut on the clock, Unanswered when the target ends', async () => {
    const r = testRuntime({ clock: new TestClock() });
    const silent = r.spawn(async (self: Self) => {
      await self.receive(Question);
      await self.receive(Go);
      return 'silent';
    });
    const results: string[] = [];
    const machine = setup({ types: { events: {} as MessageOf<typeof Go> | Stop } }).createMachine({
      on: {
        Go: {
          actions: (args) => {
            const self = herald.self(args);
            void self.ask(silent, Question({ id: 1 }), Answer, { timeout: 20 }).then((a) => {
              results.push(a.type);
              void self.ask(silent, Question({ id: 2 }), Answer).then((b) => {
                results.push(b.type);
                self.complete(results);
              });
              self.send(silent, Go());
            });
          },
        },
      },
    });
    const m = r.spawn(machine);
    r.send(m, Go());
    await settle();
    await r.clock.advanceAsync(20);
    await r.completion(silent);
    await settle();
    expect(results).toEqual([TimedOut.type, Unanswered.type]);
  });

  it('a Stop during a function actor’s ask ends the actor (the ask does not swallow it)', async () => {
    const r = testRuntime();
    const silent = r.spawn(async (self: Self) => {
      await self.receive(Go);
    });
    const client = r.spawn(async (self: Self) => self.ask(silent, Question({ id: 1 }), Answer));
    await settle();
    r.stop(client);
    expect((await r.completion(client)) as { type: string }).toMatchObject({
      type: 'herald.Aborted',
    });
  });
});

describe('receive(Any)', () => {
  it('takes every message but Stop: a generic loop still ends on Stop', async () => {
    const r = testRuntime();
    const loop = r.spawn(async (self: Self) => {
      for (;;) await self.receive(Any);
    });
    r.send(loop, Note({ text: 'a' }));
    r.send(loop, Completed({ value: 1 }));
    r.send(loop, Stop());
    expect(((await r.completion(loop)) as { type: string }).type).toBe('herald.Aborted');
  });

  it('takes Stop too when Stop is listed beside it', async () => {
    const r = testRuntime();
    const loop = r.spawn(async (self: Self) => {
      const seen: string[] = [];
      for (;;) {
        const m = await self.receive(Any, Stop);
        seen.push(m.type);
        if (Stop.is(m)) return seen;
      }
    });
    r.send(loop, Note({ text: 'a' }));
    r.send(loop, Stop());
    expect(await r.completion(loop)).toEqual(['Note', Stop.type]);
  });
});
