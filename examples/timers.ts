/**
 * Timers and timeouts.
 *
 * Shows: a repeating timer (`self.startTimer(key, ms, { repeat: true })`) delivering Timer
 * messages, `self.cancelTimer(key)` (no tick arrives after it, not even one already
 * queued), a one-shot timer carrying a message of your own, `receive(..., { timeout })`
 * resolving with TimedOut when nothing comes, and `ask(..., { timeout })` against a quick
 * and a slow responder. Timeouts are values (TimedOut), never exceptions.
 *
 * Run it (about half a second with the defaults):
 *
 *   node --import tsx examples/timers.ts
 *   node --import tsx examples/timers.ts --interval=50 --ticks=3 --debug-level=DEBUG
 *   node --import tsx examples/timers.ts --help
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { Stop, Timer, TimedOut, run, type Self } from '@herald/runtime';

export const Question = defineMessage('Question', { text: t.string() });
export type Question = MessageOf<typeof Question>;
export const Answer = defineMessage('Answer', { text: t.string() });
export type Answer = MessageOf<typeof Answer>;
/** A message of our own for a one-shot timer. */
export const Deadline = defineMessage('Deadline', { label: t.string() });
export type Deadline = MessageOf<typeof Deadline>;

const settings = {
  /** Milliseconds between ticks of the repeating timer. */
  interval: 20,
  /** Ticks to count before cancelling the repeating timer. */
  ticks: 5,
  /** How long to listen for stray ticks after the cancel. */
  quiet: 100,
  /** How long ask() waits for an answer. */
  askTimeout: 100,
  /** How long the slow responder takes to answer (more than askTimeout). */
  slowDelay: 300,
};

/** Answers every Question after `delayMs`, using a timer per question. */
async function responder(self: Self, delayMs: number) {
  for (;;) {
    const question = await self.receive(Question, Stop);
    if (Stop.is(question)) return 'stopped';
    const asker = self.returnAddress;
    if (delayMs > 0) {
      self.startTimer('think', delayMs);
      // Anything but the timer (and Stop) that arrives while thinking is kept for later.
      const woke = await self.receive(Timer, Stop, { save: [Question] });
      if (Stop.is(woke)) return 'stopped';
    }
    self.send(asker, Answer({ text: `you asked "${question.text}"` }));
  }
}

async function timers(self: Self, s: typeof settings) {
  // 1. A repeating timer: count ticks, then cancel it.
  const started = self.runtime.clock.now();
  self.startTimer('tick', s.interval, { repeat: true });
  let ticks = 0;
  while (ticks < s.ticks) {
    const tick = await self.receive(Timer);
    if (tick.key === 'tick') ticks++;
  }
  self.cancelTimer('tick');
  const tickingMs = self.runtime.clock.now() - started;
  self.log.info({ ticks, tickingMs }, 'cancelled the repeating timer');

  // 2. After the cancel nothing more arrives: the receive times out with TimedOut.
  const stray = await self.receive(Timer, { timeout: s.quiet });
  const afterCancel = TimedOut.is(stray) ? `TimedOut after ${stray.after} ms` : stray.type;

  // 3. A one-shot timer delivering our own message.
  self.startTimer('deadline', s.interval, { message: Deadline({ label: 'lunch' }) });
  const deadline = await self.receive(Deadline);

  // 4. ask() with a timeout, against a quick and a slow responder.
  const quick = self.spawn(responder, 0);
  const slow = self.spawn(responder, s.slowDelay);
  const quickAnswer = await self.ask(quick, Question({ text: 'quick?' }), Answer, {
    timeout: s.askTimeout,
  });
  const slowAnswer = await self.ask(slow, Question({ text: 'slow?' }), Answer, {
    timeout: s.askTimeout,
  });
  const describe = (m: typeof quickAnswer) =>
    Answer.is(m) ? m.text : `${TimedOut.is(m) ? 'TimedOut' : 'Unanswered'} (${m.explanation})`;

  // Children are stopped when their parent ends; stopping them here is explicit and tidy.
  self.stop(quick);
  self.stop(slow);

  return {
    ticks,
    afterCancel,
    deadline: deadline.label,
    quickAsk: describe(quickAnswer),
    slowAsk: describe(slowAnswer),
  };
}

await run(timers, {
  name: 'timers',
  description: 'Repeating timers, cancelTimer, receive timeouts and ask timeouts.',
  settings,
  help: {
    interval: 'milliseconds between ticks',
    ticks: 'ticks to count before cancelling',
    quiet: 'milliseconds to listen for ticks after the cancel',
    askTimeout: 'milliseconds ask() waits for an answer',
    slowDelay: 'milliseconds the slow responder takes',
  },
});
