#!/usr/bin/env node
/**
 * Typechecks every ```ts code block in docs/*.md, README.md and packages/*\/README.md, so a
 * wrong option name or a changed signature in the docs fails the build.
 *
 * Each block becomes a module of its own (`export {}` appended, so top-level await works)
 * and is checked with the repository's compiler options (tsconfig.base.json: strict,
 * exactOptionalPropertyTypes, ...). A block must therefore be complete: its imports and
 * declarations included. A fragment that cannot be (a few lines shown inside a larger
 * program) is skipped when the line right before its fence is the marker
 *
 *     <!-- doc-check: skip -->
 *
 * The blocks are written to test/node_modules/.doc-blocks/ (ignored by git), where the
 * workspace packages and their dependencies resolve as they do for the tests. Errors are
 * reported at the Markdown file and line. Exit status 1 on any error.
 *
 * Run: `npm run check:docs` (or `node .ci/check-doc-blocks.mjs`).
 */
import { spawnSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const OUT = join(ROOT, 'test', 'node_modules', '.doc-blocks');
const SKIP_MARKER = '<!-- doc-check: skip -->';
const HEADER_LINES = 1;

function markdownFiles() {
  const files = [];
  const docs = join(ROOT, 'docs');
  for (const name of readdirSync(docs).sort())
    if (name.endsWith('.md')) files.push(join(docs, name));
  if (existsSync(join(ROOT, 'README.md'))) files.push(join(ROOT, 'README.md'));
  const packages = join(ROOT, 'packages');
  for (const name of readdirSync(packages).sort()) {
    const readme = join(packages, name, 'README.md');
    if (existsSync(readme)) files.push(readme);
  }
  return files;
}

/** The ```ts blocks of one file: { start (1-based line of the first code line), code, skip }. */
function blocksOf(file) {
  const lines = readFileSync(file, 'utf8').split('\n');
  const blocks = [];
  for (let i = 0; i < lines.length; i++) {
    if (!/^```ts\s*$/.test(lines[i])) continue;
    let before = i - 1;
    while (before >= 0 && lines[before].trim() === '') before--;
    const skip = before >= 0 && lines[before].trim() === SKIP_MARKER;
    const start = i + 2;
    let end = i + 1;
    while (end < lines.length && !/^```\s*$/.test(lines[end])) end++;
    blocks.push({ start, code: lines.slice(i + 1, end).join('\n'), skip });
    i = end;
  }
  return blocks;
}

rmSync(OUT, { recursive: true, force: true });
mkdirSync(OUT, { recursive: true });
const origin = new Map();
let checked = 0;
let skipped = 0;
for (const file of markdownFiles()) {
  const rel = relative(ROOT, file);
  blocksOf(file).forEach((block, n) => {
    if (block.skip) {
      skipped++;
      return;
    }
    const name = `${rel.replace(/[^A-Za-z0-9]+/g, '-')}-${n + 1}.ts`;
    writeFileSync(join(OUT, name), `// ${rel}:${block.start}\n${block.code}\nexport {};\n`);
    origin.set(name, { rel, start: block.start });
    checked++;
  });
}
writeFileSync(
  join(OUT, 'tsconfig.json'),
  JSON.stringify(
    {
      extends: join(ROOT, 'tsconfig.base.json'),
      compilerOptions: {
        noEmit: true,
        declaration: false,
        declarationMap: false,
        sourceMap: false,
        typeRoots: [join(ROOT, 'node_modules', '@types')],
      },
      include: ['*.ts'],
    },
    null,
    2,
  ),
);

const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
const result = spawnSync(
  process.execPath,
  [tsc, '-p', join(OUT, 'tsconfig.json'), '--pretty', 'false'],
  {
    encoding: 'utf8',
  },
);
const output = `${result.stdout ?? ''}${result.stderr ?? ''}`;
let errors = 0;
for (const line of output.split('\n')) {
  const m = /^(?:.*[\\/])?([^\\/()]+\.ts)\((\d+),(\d+)\): (.*)$/.exec(line);
  if (m === null) {
    if (line.trim() !== '') console.error(line);
    continue;
  }
  const where = origin.get(m[1]);
  errors++;
  if (where === undefined) console.error(line);
  else
    console.error(`${where.rel}:${where.start + Number(m[2]) - 1 - HEADER_LINES}:${m[3]} ${m[4]}`);
}
console.log(
  `doc blocks: ${checked} checked, ${skipped} skipped (${SKIP_MARKER}), ${errors} errors`,
);
process.exit(result.status === 0 && errors === 0 ? 0 : 1);
