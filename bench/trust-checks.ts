/**
 * What the trust and fairness checks on the network hot path cost per message, each on its
 * own in one process, beside the per-message budget of the 1M msg/s aim (1 µs):
 *
 * - ExportTable.add: every outbound message exports its return address (one sender: the
 *   one-compare fast path; 1,000 senders taking turns: a Map delete + set);
 * - ExportTable.has: every inbound message with a `to` is looked up;
 * - runtime.mailboxLoad: every inbound message checks its target's room (fairness);
 * - runtime.isAlive: every inbound message checks its target still exists.
 *
 * Stops by itself in a few seconds.
 *
 *   node --import tsx bench/trust-checks.ts
 */
import { pathToFileURL } from 'node:url';
import { Address, createRuntime, type Self } from '@herald/runtime';
import pino from 'pino';
// The export table is internal to the connection; the bench reads it from the source.
import { ExportTable } from '../packages/net/src/connection/exports.js';
import { DEFAULT_MAX_EXPORTS } from '../packages/net/src/constants.js';
import { formatResults, type BenchResult } from './result.js';

/** Per-message budget at the aim of 1M msg/s. */
const BUDGET_NS = 1000;
const OPS = 2_000_000;
const ROUNDS = 5;

/** Best of ROUNDS: ns per call of `op(i)`. */
function nsPerOp(op: (i: number) => unknown): number {
  let best = Infinity;
  let sink = 0;
  for (let r = 0; r < ROUNDS; r++) {
    const t0 = performance.now();
    for (let i = 0; i < OPS; i++) if (op(i) === undefined) sink++;
    best = Math.min(best, ((performance.now() - t0) * 1e6) / OPS);
  }
  if (sink < 0) console.log(sink);
  return best;
}

export async function runTrustChecks(): Promise<BenchResult[]> {
  const one = new ExportTable(DEFAULT_MAX_EXPORTS);
  const hop = [7];
  const many = new ExportTable(DEFAULT_MAX_EXPORTS);
  const hops = Array.from({ length: 1000 }, (_, i) => [i + 1]);
  for (const h of hops) many.add(h);
  const runtime = createRuntime({ logger: pino({ level: 'silent' }) });
  const actor = runtime.spawn(async (self: Self) => {
    await self.receive();
  });
  const budget = (value: number) => ({ baseline: '1 µs budget', ratio: value / BUDGET_NS });
  const rows: Array<[string, number]> = [
    ['empty loop (the harness itself)', nsPerOp(() => 0)],
    ['ExportTable.add, one sender', nsPerOp(() => one.add(hop))],
    ['ExportTable.add, 1,000 senders in turn', nsPerOp((i) => many.add(hops[i % 1000] ?? hop))],
    ['ExportTable.has, hit', nsPerOp((i) => many.has(hops[i % 1000] ?? hop))],
    ['runtime.mailboxLoad', nsPerOp(() => runtime.mailboxLoad(actor))],
    ['runtime.isAlive', nsPerOp(() => runtime.isAlive(actor))],
    [
      'new Address([id]) (the fairness check with a `to`)',
      nsPerOp(() => runtime.mailboxLoad(new Address([actor.local]))),
    ],
  ];
  await runtime.close({ timeoutMs: 1000 });
  return rows.map(([name, value]) => ({
    name,
    value,
    unit: 'ns/msg',
    better: 'lower' as const,
    ...budget(value),
  }));
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(
    formatResults('trust checks on the hot path (best of 5 x 2M calls)', await runTrustChecks()),
  );
}
