/**
 * Runs every benchmark in sequence, each in its own process with the flags it needs, and
 * prints their tables. Takes about 3 minutes (the network bench runs NATS and zeromq too,
 * the connection bench opens 10,000 connections).
 *
 *   pnpm bench          (node --import tsx bench/run-all.ts)
 */
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const benches: ReadonlyArray<{ readonly script: string; readonly flags: readonly string[] }> = [
  { script: 'runtime.ts', flags: ['--expose-gc'] },
  { script: 'codec.ts', flags: [] },
  { script: 'receive-path.ts', flags: [] },
  { script: 'net.ts', flags: [] },
  { script: 'handshake.ts', flags: [] },
  { script: 'trust-checks.ts', flags: [] },
  { script: 'connections.ts', flags: [] },
];

function runOne(script: string, flags: readonly string[]): Promise<number> {
  const path = fileURLToPath(new URL(script, import.meta.url));
  const child = spawn(process.execPath, [...flags, '--import', 'tsx', path], {
    stdio: 'inherit',
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve(code ?? 1)));
}

console.log(`node ${process.version}, ${process.platform}/${process.arch}`);
let failed = 0;
for (const { script, flags } of benches) {
  console.log('');
  const code = await runOne(script, flags);
  if (code !== 0) {
    console.error(`bench/${script} exited with ${code}`);
    failed++;
  }
}
process.exitCode = failed === 0 ? 0 : 1;
