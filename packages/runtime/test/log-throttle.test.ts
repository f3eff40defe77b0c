import { describe, expect, it } from 'vitest';
import { Address, TestClock, createRuntime } from '../src/index.js';
import { defineMessage } from '@herald/codec';
import { LogThrottle } from '../src/internal.js';
import { memoryLogger } from '@herald/testing';

const Nobody = defineMessage('test.Nobody', {});

describe('logging under attack', () => {
  it('writes at most `burst` lines per event per interval and says how many it suppressed', () => {
    const clock = new TestClock();
    const log = memoryLogger('info');
    const throttle = new LogThrottle(() => clock.now(), 1_000, 2);
    for (let i = 0; i < 10; i++) throttle.log(log.logger, 'warn', 'bad', { i }, 'bad frame');
    expect(log.lines.map((l) => l.i)).toEqual([0, 1]);
    expect(throttle.suppressed).toBe(8);
    clock.advance(1_000);
    throttle.log(log.logger, 'warn', 'bad', { i: 10 }, 'bad frame');
    expect(log.lines.at(-1)).toMatchObject({ i: 10, suppressed: 8 });
    expect(throttle.suppressed).toBe(0);
  });

  it('dead letters are all counted and observed, but their warnings are rate limited', () => {
    const clock = new TestClock();
    const log = memoryLogger('info');
    const runtime = createRuntime({ logger: log.logger, clock });
    let observed = 0;
    runtime.onDeadLetter(() => observed++);
    const nowhere = new Address([99_999]);
    for (let i = 0; i < 1_000; i++) runtime.send(nowhere, Nobody());
    expect(observed).toBe(1_000);
    expect(runtime.deadLetterCount).toBe(1_000);
    const warnings = log.lines.filter((l) => l.msg === 'dead letter');
    expect(warnings.length).toBeGreaterThan(0);
    expect(warnings.length).toBeLessThanOrEqual(20);
  });
});
