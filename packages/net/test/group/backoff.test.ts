import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters, propertySeeds } from '@herald/testing';
import {
  BadPolicyError,
  Backoff,
  DEFAULT_BACKOFF_LOOPBACK,
  DEFAULT_BACKOFF_PRIVATE,
  DEFAULT_BACKOFF_PUBLIC,
  DEFAULT_LISTEN_RETRY,
  backoffFor,
  isGroupError,
  jitteredDelay,
  validateBackoffPolicy,
  type AddressScope,
  type BackoffPolicy,
} from '../../src/group/index.js';

/** A random source that replays `values` in order and fails the test if it runs dry. */
function sequence(values: readonly number[]): () => number {
  let index = 0;
  return () => {
    const value = values[index];
    if (value === undefined) throw new Error(`random source exhausted after ${index} draws`);
    index += 1;
    return value;
  };
}

const constant = (value: number) => () => value;
/** The largest double below 1: the top of Math.random's range. */
const ALMOST_ONE = 1 - Number.EPSILON / 2;

function take(backoff: Backoff, count: number): Array<number | undefined> {
  return Array.from({ length: count }, () => backoff.next());
}

const scopes: ReadonlyArray<readonly [AddressScope, BackoffPolicy, number[], number[]]> = [
  [
    'loopback',
    DEFAULT_BACKOFF_LOOPBACK,
    [2000, 4000, 8000, 8000, 8000],
    [3000, 6000, 12000, 12000, 12000],
  ],
  [
    'private',
    DEFAULT_BACKOFF_PRIVATE,
    [4000, 8000, 16000, 16000, 16000],
    [6000, 12000, 24000, 24000, 24000],
  ],
  [
    'public',
    DEFAULT_BACKOFF_PUBLIC,
    [8000, 16000, 32000, 64000, 64000, 64000],
    [12000, 24000, 48000, 96000, 96000, 96000],
  ],
];

describe('backoff schedules', () => {
  it.each(scopes)(
    'backoff - %s: lowest draws give the bare steps then the regular delay',
    (_scope, policy, lowest) => {
      expect(take(new Backoff(policy, constant(0)), lowest.length)).toEqual(lowest);
    },
  );

  it.each(scopes)(
    'backoff - %s: highest draws give +50 %% on every step',
    (_scope, policy, _lowest, highest) => {
      expect(take(new Backoff(policy, constant(ALMOST_ONE)), highest.length)).toEqual(highest);
    },
  );

  it.each(scopes)('backoff - backoffFor(%s) picks the scope policy', (scope, policy) => {
    expect(backoffFor(scope)).toBe(policy);
  });

  it('backoff - loopback: jitter is whole 250 ms quanta chosen uniformly by the draw', () => {
    // 2000 → 4 quanta max, k = floor(r*5); 4000 → 8 max, k = floor(r*9); 8000 → 16, floor(r*17)
    const backoff = new Backoff(DEFAULT_BACKOFF_LOOPBACK, sequence([0.0, 0.5, 0.3, 0.99, 0.2]));
    expect(take(backoff, 5)).toEqual([2000, 5000, 9250, 12000, 8750]);
  });

  it('backoff - listen retry is exactly 4 s forever and never draws randomness', () => {
    const backoff = new Backoff(DEFAULT_LISTEN_RETRY, sequence([]));
    expect(take(backoff, 6)).toEqual([4000, 4000, 4000, 4000, 4000, 4000]);
    expect(backoff.exhausted).toBe(false);
  });

  it('backoff - without a step limit it never exhausts', () => {
    const backoff = new Backoff(DEFAULT_BACKOFF_PUBLIC, constant(0));
    const delays = take(backoff, 1000);
    expect(delays.every((delay) => delay !== undefined)).toBe(true);
    expect(delays.at(-1)).toBe(64000);
    expect(backoff.attempts).toBe(1000);
  });

  it('backoff - every quantum count from 0 to the maximum is reachable', () => {
    // base 8000 × 0.5 / 250 = 16 quanta: 17 equally likely outcomes.
    const seen = new Set<number>();
    for (let k = 0; k <= 16; k++) {
      seen.add(jitteredDelay(8000, DEFAULT_BACKOFF_LOOPBACK, constant(k / 17)));
    }
    expect([...seen].sort((a, b) => a - b)).toEqual(
      Array.from({ length: 17 }, (_, k) => 8000 + k * 250),
    );
  });

  it('backoff - a random source outside [0, 1) is clamped, never breaking the bounds', () => {
    expect(jitteredDelay(2000, DEFAULT_BACKOFF_LOOPBACK, constant(1))).toBe(3000);
    expect(jitteredDelay(2000, DEFAULT_BACKOFF_LOOPBACK, constant(7))).toBe(3000);
    expect(jitteredDelay(2000, DEFAULT_BACKOFF_LOOPBACK, constant(-0.5))).toBe(2000);
    expect(jitteredDelay(2000, DEFAULT_BACKOFF_LOOPBACK, constant(Number.NaN))).toBe(2000);
  });

  it('backoff - jitter smaller than one quantum adds nothing', () => {
    const policy: BackoffPolicy = { ...DEFAULT_BACKOFF_LOOPBACK, steps: [400], regular: 100 };
    expect(take(new Backoff(policy, constant(ALMOST_ONE)), 3)).toEqual([400, 100, 100]);
  });
});

describe('backoff - jitter bounds (property)', () => {
  it.each(scopes)(
    'backoff - %s: every delay lies in [base, 1.5 × base] in 250 ms steps',
    (_scope, policy, lowest) => {
      for (const seed of propertySeeds()) {
        fc.assert(
          fc.property(
            fc.array(fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }), {
              minLength: lowest.length,
              maxLength: 40,
            }),
            (draws) => {
              const backoff = new Backoff(policy, sequence(draws));
              for (let attempt = 0; attempt < draws.length; attempt++) {
                const base = policy.steps[attempt] ?? policy.regular;
                const delay = backoff.next();
                if (delay === undefined) return false;
                if (delay < base || delay > base * 1.5) return false;
                if ((delay - base) % 250 !== 0) return false;
              }
              return true;
            },
          ),
          propertyParameters(seed, 100),
        );
      }
    },
  );

  it('backoff - any valid policy keeps delays in [base, base × (1 + jitter)]', () => {
    const policyArb = fc.record({
      steps: fc.array(fc.integer({ min: 0, max: 600_000 }), { maxLength: 5 }),
      regular: fc.integer({ min: 0, max: 600_000 }),
      jitter: fc.double({ min: 0, max: 2, noNaN: true }),
      jitterQuantumMs: fc.integer({ min: 1, max: 5000 }),
    });
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          policyArb,
          fc.double({ min: 0, max: 1, maxExcluded: true, noNaN: true }),
          fc.nat({ max: 10 }),
          (policy, draw, attempts) => {
            const backoff = new Backoff(policy, constant(draw));
            for (let attempt = 0; attempt <= attempts; attempt++) {
              const base = policy.steps[attempt] ?? policy.regular;
              const delay = backoff.next();
              if (delay === undefined) return false;
              if (delay < base || delay > base * (1 + policy.jitter)) return false;
              const quanta = (delay - base) / policy.jitterQuantumMs;
              if (!Number.isInteger(quanta)) return false;
            }
            return true;
          },
        ),
        propertyParameters(seed, 100),
      );
    }
  });
});

describe('backoff - step limit and reset', () => {
  it('backoff - hands out stepLimit delays then reports exhaustion with undefined', () => {
    const backoff = new Backoff({ ...DEFAULT_BACKOFF_LOOPBACK, stepLimit: 3 }, constant(0));
    expect(backoff.exhausted).toBe(false);
    expect(take(backoff, 3)).toEqual([2000, 4000, 8000]);
    expect(backoff.exhausted).toBe(true);
    expect(backoff.next()).toBeUndefined();
    expect(backoff.next()).toBeUndefined();
    expect(backoff.attempts).toBe(3);
  });

  it('backoff - a step limit of 0 is exhausted before the first retry', () => {
    const backoff = new Backoff({ ...DEFAULT_LISTEN_RETRY, stepLimit: 0 });
    expect(backoff.exhausted).toBe(true);
    expect(backoff.next()).toBeUndefined();
    expect(backoff.attempts).toBe(0);
  });

  it('backoff - reset restarts from the first step', () => {
    const backoff = new Backoff(DEFAULT_BACKOFF_PRIVATE, constant(0));
    expect(take(backoff, 4)).toEqual([4000, 8000, 16000, 16000]);
    backoff.reset();
    expect(backoff.attempts).toBe(0);
    expect(take(backoff, 3)).toEqual([4000, 8000, 16000]);
  });

  it('backoff - reset after exhaustion allows a fresh run of stepLimit delays', () => {
    const backoff = new Backoff({ ...DEFAULT_BACKOFF_PUBLIC, stepLimit: 2 }, constant(0));
    expect(take(backoff, 3)).toEqual([8000, 16000, undefined]);
    backoff.reset();
    expect(backoff.exhausted).toBe(false);
    expect(take(backoff, 3)).toEqual([8000, 16000, undefined]);
  });

  it('backoff - uses Math.random when no source is injected', () => {
    const backoff = new Backoff(DEFAULT_BACKOFF_LOOPBACK);
    for (const base of [2000, 4000, 8000, 8000]) {
      const delay = backoff.next();
      expect(delay).toBeGreaterThanOrEqual(base);
      expect(delay).toBeLessThanOrEqual(base * 1.5);
    }
  });
});

describe('backoff - policy validation', () => {
  const base = DEFAULT_BACKOFF_LOOPBACK;
  const bad: ReadonlyArray<readonly [string, BackoffPolicy, string]> = [
    ['a negative step', { ...base, steps: [2000, -1] }, 'steps[1]'],
    ['a NaN step', { ...base, steps: [Number.NaN] }, 'steps[0]'],
    ['an infinite step', { ...base, steps: [Number.POSITIVE_INFINITY] }, 'steps[0]'],
    ['a negative regular delay', { ...base, regular: -8000 }, 'regular'],
    ['an infinite regular delay', { ...base, regular: Number.POSITIVE_INFINITY }, 'regular'],
    ['a negative jitter', { ...base, jitter: -0.5 }, 'jitter'],
    ['a NaN jitter', { ...base, jitter: Number.NaN }, 'jitter'],
    ['a zero quantum', { ...base, jitterQuantumMs: 0 }, 'jitterQuantumMs'],
    ['a negative quantum', { ...base, jitterQuantumMs: -250 }, 'jitterQuantumMs'],
    [
      'an infinite quantum',
      { ...base, jitterQuantumMs: Number.POSITIVE_INFINITY },
      'jitterQuantumMs',
    ],
    ['a fractional step limit', { ...base, stepLimit: 1.5 }, 'stepLimit'],
    ['a negative step limit', { ...base, stepLimit: -1 }, 'stepLimit'],
    ['an infinite step limit', { ...base, stepLimit: Number.POSITIVE_INFINITY }, 'stepLimit'],
    ['a step given as a string', { ...base, steps: ['2000' as unknown as number] }, 'steps[0]'],
  ];

  it.each(bad)('backoff - rejects %s with HERALD_ERR_BAD_OPTION', (_what, policy, field) => {
    let caught: unknown;
    try {
      new Backoff(policy);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(BadPolicyError);
    expect(isGroupError(caught)).toBe(true);
    const error = caught as BadPolicyError;
    expect(error.code).toBe('HERALD_ERR_BAD_OPTION');
    expect(error.name).toBe('BadPolicyError');
    expect(error.field).toBe(field);
    expect(error.message).toContain(field);
  });

  it('backoff - accepts every default policy and zero delays', () => {
    for (const policy of [
      DEFAULT_BACKOFF_LOOPBACK,
      DEFAULT_BACKOFF_PRIVATE,
      DEFAULT_BACKOFF_PUBLIC,
      DEFAULT_LISTEN_RETRY,
    ]) {
      expect(() => validateBackoffPolicy(policy)).not.toThrow();
    }
    expect(() =>
      validateBackoffPolicy({
        steps: [0],
        regular: 0,
        jitter: 0,
        jitterQuantumMs: 1,
        stepLimit: 0,
      }),
    ).not.toThrow();
  });

  it('backoff - default policies are frozen so one caller cannot change them for all', () => {
    expect(Object.isFrozen(DEFAULT_BACKOFF_LOOPBACK)).toBe(true);
    expect(Object.isFrozen(DEFAULT_BACKOFF_LOOPBACK.steps)).toBe(true);
    expect(() => {
      (DEFAULT_BACKOFF_PUBLIC.steps as number[]).push(1);
    }).toThrow(TypeError);
  });
});
