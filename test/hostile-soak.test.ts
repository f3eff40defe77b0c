/**
 * The fuzz and soak harness for hostile peers (test/soak/soak.ts), small enough for CI: a
 * child process runs a Herald server and hostile clients through every class of issue 8
 * plus mutated frames and handshakes, then asserts heap and RSS after GC. Locally, run it
 * long with `HERALD_SOAK_FRAMES=1000000` (docs/testing.md, "Soak and fuzz").
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript } from '@herald/testing';

afterEach(killAll);

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SOAK = fileURLToPath(new URL('./soak/soak.ts', import.meta.url));
/** Mutated frames + handshakes in CI: a few thousand, ~20 s on two busy cores. */
const CI_MUTATIONS = 2_000;

interface SoakReport {
  readonly seeds: number[];
  readonly mutatedFrames: number;
  readonly mutatedHandshakes: number;
  readonly connections: number;
  readonly heapGrowth: number;
  readonly watchHeapGrowth: number;
  readonly rssAfter: number;
  readonly amplifiedLines: number;
  readonly proxiesLeft: number;
  readonly failures: string[];
}

describe('soak - hostile peers in a child process', () => {
  it('survives every class of issue 8 and 2,000 mutated frames and handshakes with heap and RSS bounded after GC', async () => {
    const child = spawnScript(SOAK, [], {
      cwd: ROOT,
      nodeOptions: ['--expose-gc'],
      env: { HERALD_SOAK_FRAMES: String(CI_MUTATIONS) },
    });
    const { code } = await child.waitForExit(55_000).finally(() => child.kill('SIGKILL'));
    let report: SoakReport;
    try {
      report = JSON.parse(child.stdout.at(-1) ?? '') as SoakReport;
    } catch (error) {
      throw new Error(`soak printed no JSON (exit ${code}): ${child.stderr.join('\n')}`, {
        cause: error,
      });
    }
    expect(report.failures).toEqual([]);
    expect(code).toBe(0);
    expect(report.mutatedFrames + report.mutatedHandshakes).toBeGreaterThanOrEqual(CI_MUTATIONS);
    expect(report.proxiesLeft).toBe(0);
    expect(report.heapGrowth).toBeLessThan(16 * 1024 * 1024);
    expect(report.watchHeapGrowth).toBeLessThan(2 * 1024 * 1024);
    expect(report.amplifiedLines).toBeLessThanOrEqual(50);
  }, 60_000);
});
