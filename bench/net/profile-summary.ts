/**
 * Prints the top self-time functions of `.cpuprofile` files (from `node --cpu-prof`).
 *
 *   node --import tsx bench/net/profile-summary.ts <file.cpuprofile>... [--top=25]
 */
import { readFileSync } from 'node:fs';
import { relative } from 'node:path';

interface ProfileNode {
  readonly id: number;
  readonly callFrame: {
    readonly functionName: string;
    readonly url: string;
    readonly lineNumber: number;
  };
}

interface Profile {
  readonly nodes: readonly ProfileNode[];
  readonly samples: readonly number[];
  readonly timeDeltas: readonly number[];
}

function where(node: ProfileNode): string {
  const { functionName, url, lineNumber } = node.callFrame;
  const file = url === '' ? '' : relative(process.cwd(), url.replace(/^file:\/\//, ''));
  const name = functionName === '' ? '(anonymous)' : functionName;
  return file === '' ? name : `${name}  ${file}:${lineNumber + 1}`;
}

function summarise(path: string, top: number): string {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as Profile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const self = new Map<string, number>();
  let total = 0;
  profile.samples.forEach((id, i) => {
    const dt = profile.timeDeltas[i] ?? 0;
    const node = byId.get(id);
    if (node === undefined) return;
    total += dt;
    const key = where(node);
    self.set(key, (self.get(key) ?? 0) + dt);
  });
  const rows = [...self.entries()].sort((a, b) => b[1] - a[1]).slice(0, top);
  const lines = [`${path}: ${(total / 1e6).toFixed(2)} s sampled`];
  for (const [key, us] of rows) {
    lines.push(`  ${((100 * us) / total).toFixed(1).padStart(5)}%  ${key}`);
  }
  return lines.join('\n');
}

const args = process.argv.slice(2);
const topArg = args.find((a) => a.startsWith('--top='));
const top = topArg === undefined ? 25 : Number(topArg.slice('--top='.length));
for (const file of args.filter((a) => !a.startsWith('--'))) console.log(summarise(file, top));
