import fc from 'fast-check';
import { TestingError } from './errors.js';

/**
 * Seeds for property-based tests. In CI (`CI` set) every property runs on a fixed list of
 * seeds, so a run is reproducible and never fails at random; locally each run draws a new
 * seed and prints it, so a failure can be replayed with `HERALD_SEED=<n>`.
 */

/** The seeds CI uses, one property run per seed. */
export const CI_SEEDS: readonly number[] = [1, 577299140, 0x5eed, 20261127];

/** Seeds for this run: `HERALD_SEED` if set, the CI list under CI, else one random seed. */
export function propertySeeds(env: NodeJS.ProcessEnv = process.env): number[] {
  const forced = env['HERALD_SEED'];
  if (forced !== undefined && forced !== '') {
    const seed = Number(forced);
    if (!Number.isSafeInteger(seed))
      throw new TestingError('HERALD_ERR_BAD_OPTION', `HERALD_SEED is not an integer: ${forced}`);
    return [seed];
  }
  if (env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false') return [...CI_SEEDS];
  return [(Math.random() * 0x7fffffff) | 0];
}

/**
 * fast-check parameters for one seed, with the seed printed when the property fails so the
 * run can be replayed (`HERALD_SEED=<seed>`).
 */
export function propertyParameters(seed: number, numRuns: number): fc.Parameters<unknown> {
  return {
    seed,
    numRuns,
    // A reporter replaces fast-check's own throw: throw with the seed in the message.
    reporter: (details) => {
      if (!details.failed) return;
      const report = fc.defaultReportMessage(details) ?? 'property failed';
      throw new TestingError(
        'HERALD_ERR_TEST_FAILED',
        `seed ${seed} (replay with HERALD_SEED=${seed})\n${report}`,
      );
    },
  };
}
