/**
 * The shape every benchmark reports, so a bench runner can aggregate them, plus the two
 * helpers the benchmarks share.
 */

/** One figure produced by a benchmark. */
export interface BenchResult {
  /** What was measured, e.g. `codec stateless encode+decode (small message)`. */
  readonly name: string;
  readonly value: number;
  /** Unit of `value`, e.g. `msg/s`, `bytes`. */
  readonly unit: string;
  /** Name of the result this one is compared with, when there is one. */
  readonly baseline?: string;
  /** `value / baseline value`. */
  readonly ratio?: number;
  /** Further ratios, to other baselines from the same run (e.g. NATS beside the raw socket). */
  readonly also?: ReadonlyArray<{ readonly baseline: string; readonly ratio: number }>;
  /** Which direction is better; `higher` when absent. */
  readonly better?: 'higher' | 'lower';
  /** The target, in words, e.g. `>= 2M msg/s`. */
  readonly aim?: string;
}

/**
 * Runs `run` repeatedly for about `ms` milliseconds; each call resolves to the number of
 * operations it performed. Returns operations per second.
 */
export async function rate(ms: number, run: () => Promise<number>): Promise<number> {
  let operations = 0;
  const start = performance.now();
  let now = start;
  do {
    operations += await run();
    now = performance.now();
  } while (now - start < ms);
  return operations / ((now - start) / 1000);
}

function formatValue(value: number): string {
  return value >= 100
    ? Math.round(value).toLocaleString('en-US')
    : value.toLocaleString('en-US', { maximumFractionDigits: 2 });
}

/** A plain-text table of results under a title. */
export function formatResults(title: string, results: readonly BenchResult[]): string {
  const lines = [title];
  const width = Math.max(...results.map((r) => r.name.length), 10);
  for (const r of results) {
    let line = `  ${r.name.padEnd(width)}  ${formatValue(r.value).padStart(14)} ${r.unit}`;
    const ratios = [
      ...(r.ratio === undefined ? [] : [{ baseline: r.baseline ?? 'baseline', ratio: r.ratio }]),
      ...(r.also ?? []),
    ];
    if (ratios.length > 0) {
      line += `  (${ratios.map((x) => `${x.ratio.toFixed(2)}x ${x.baseline}`).join(', ')})`;
    }
    if (r.aim !== undefined) line += `  aim ${r.aim}`;
    lines.push(line);
  }
  return lines.join('\n');
}
