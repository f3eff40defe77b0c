/**
 * The bounded waits and the awaitable list they are built on.
 */
import { EventEmitter } from 'node:events';
import { describe, expect, it } from 'vitest';
import { Recorder, Signal, waitFor, withTimeout } from '../src/index.js';

describe('waitFor', () => {
  it('wait - resolves with the first value a check returns, re-checked when a signal changes', async () => {
    const signal = new Signal();
    let value: string | undefined = undefined;
    const waiting = waitFor(() => value, { on: signal, what: 'a value' });
    value = 'here';
    signal.changed();
    await expect(waiting).resolves.toBe('here');
  });

  it('wait - without a signal re-checks on every turn of the event loop', async () => {
    const seen: number[] = [];
    setImmediate(() => seen.push(1));
    await expect(waitFor(() => seen.length > 0)).resolves.toBe(true);
  });

  it('wait - a check that throws rejects at once with its error', async () => {
    const failure = new Error('the child exited first');
    await expect(
      waitFor(() => {
        throw failure;
      }),
    ).rejects.toBe(failure);
  });

  it('wait - a timeout names what was awaited and quotes the state', async () => {
    await expect(
      waitFor(() => false, { timeoutMs: 20, what: 'the moon', describe: () => 'sky: cloudy' }),
    ).rejects.toThrow(/^timed out after 20 ms waiting for the moon; sky: cloudy$/);
  });

  it('wait - an event wait resolves with the event arguments and rejects on error', async () => {
    const emitter = new EventEmitter();
    const ready = waitFor(emitter, 'ready');
    emitter.emit('ready', 1, 'two');
    await expect(ready).resolves.toEqual([1, 'two']);
    const failed = waitFor(emitter, 'ready');
    const boom = new Error('boom');
    emitter.emit('error', boom);
    await expect(failed).rejects.toBe(boom);
    expect(emitter.listenerCount('ready') + emitter.listenerCount('error')).toBe(0);
    await expect(waitFor(emitter, 'never', { timeoutMs: 10 })).rejects.toThrow(
      /waiting for the 'never' event/,
    );
  });
});

describe('withTimeout', () => {
  it('wait - withTimeout passes the result through, or rejects naming what it waited for', async () => {
    await expect(withTimeout(Promise.resolve(7), 1000, 'seven')).resolves.toBe(7);
    await expect(withTimeout(new Promise(() => undefined), 10, 'nothing')).rejects.toThrow(
      'timed out after 10 ms waiting for nothing',
    );
  });
});

describe('Recorder', () => {
  it('recorder - next walks forward through entries, old ones included; waitFor looks back', async () => {
    const recorder = new Recorder<string>('words');
    recorder.record('a1');
    recorder.record('b1');
    recorder.record('a2');
    await expect(recorder.next((w) => w.startsWith('b'))).resolves.toBe('b1');
    // a1 was skipped over by the previous next: the next `a` is a2.
    await expect(recorder.next((w) => w.startsWith('a'))).resolves.toBe('a2');
    const later = recorder.next((w) => w.startsWith('a'));
    recorder.record('a3');
    await expect(later).resolves.toBe('a3');
    await expect(recorder.waitFor((w) => w === 'a1')).resolves.toBe('a1');
    expect(recorder.count((w) => w.startsWith('a'))).toBe(3);
  });

  it('recorder - a timed-out wait quotes the most recent entries', async () => {
    const recorder = new Recorder<string>('words', (w) => w.toUpperCase());
    recorder.record('x');
    await expect(recorder.waitFor((w) => w === 'y', { timeoutMs: 10 })).rejects.toThrow(
      /waiting for a matching entry in words; words \(1, most recent last\): X/,
    );
  });
});
