#!/usr/bin/env node
/**
 * Packs the published packages and uses them the way a user would, outside the workspace.
 *
 *   node .ci/check-packages.mjs          # from the repository root; run by .ci/run
 *
 * 1. `npm pack` and `pnpm pack` each package (their `prepack` builds it and writes the
 *    published manifest, see publish-manifest.mjs).
 * 2. Each tarball: no `workspace:` range left, every `exports` target in `dist` and present,
 *    `types` first, LICENSE present, every source map's sources shipped; the npm and the
 *    pnpm tarball hold the same files and the same exports and dependencies.
 * 3. A consumer project in a temporary directory installs the npm tarballs with npm, then
 *    - plain Node (no tsx) imports every entry and subpath, read from the packed manifests,
 *      and runs program.mjs (two runtimes, listen/connect on 127.0.0.1 port 0, a message
 *      and its reply, exit 0);
 *    - `tsc --noEmit` checks consumer.ts and an import of every subpath with
 *      `moduleResolution` node16 and again with bundler;
 * 4. `@arethetypeswrong/cli --profile esm-only` (installed in the consumer) checks each
 *    tarball. Steps 3 and 4 after the install run two at a time.
 *
 * Environment: HERALD_PNPM, the pnpm command (default `pnpm`, else `npx -y pnpm@10`);
 * HERALD_KEEP_CONSUMER=1 keeps the temporary directory for inspection.
 */
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import {
  cpSync,
  mkdirSync,
  mkdtempSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, posix, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const PACKAGES = [
  'codec',
  'runtime',
  'net',
  'testing',
  'patterns',
  'discovery',
  'management',
  'interop',
];
/** Installed into the consumer project with the tarballs (one install, no npx per tarball). */
const ATTW_VERSION = '^0.18.5';
/** The checks after the install are independent: this many run at once. */
const CONCURRENCY = 2;
/** The consumer program is small; a minute means it hangs. */
const PROGRAM_TIMEOUT_MS = 60_000;
/** Manifest fields that must be the same whichever tool packed the package. */
const COMPARED_FIELDS = [
  'name',
  'version',
  'type',
  'sideEffects',
  'exports',
  'dependencies',
  'peerDependencies',
  'peerDependenciesMeta',
  'optionalDependencies',
  'engines',
];

const pnpm = (process.env.HERALD_PNPM ?? (hasPnpm10() ? 'pnpm' : 'npx -y pnpm@10')).split(' ');
const work = mkdtempSync(join(tmpdir(), 'herald-packages-'));
const failures = [];
const started = Date.now();

function hasPnpm10() {
  const probe = spawnSync('pnpm', ['--version'], { encoding: 'utf8' });
  return probe.status === 0 && probe.stdout.startsWith('10.');
}

function step(title) {
  console.log(`\n== ${title} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
}

/** Runs a command, echoing its output only when it fails; returns whether it succeeded. */
function run(what, command, args, options = {}) {
  const result = spawnSync(command, args, {
    encoding: 'utf8',
    maxBuffer: 64 * 1024 * 1024,
    ...options,
  });
  const ok = result.status === 0 && result.error === undefined;
  if (!ok) {
    failures.push(what);
    console.log(
      `FAIL ${what}: ${command} ${args.join(' ')} (status ${result.status}${result.signal ? `, ${result.signal}` : ''})`,
    );
    if (result.error !== undefined) console.log(String(result.error));
    console.log(result.stdout, result.stderr);
  } else {
    console.log(`ok   ${what}`);
  }
  return { ok, stdout: result.stdout ?? '' };
}

/** `run` without blocking: the output is printed when the command ends. */
function runAsync(what, command, args, options = {}) {
  return new Promise((resolvePromise) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (chunk) => (output += chunk));
    child.stderr.on('data', (chunk) => (output += chunk));
    const timer =
      options.timeout === undefined
        ? undefined
        : setTimeout(() => child.kill('SIGKILL'), options.timeout);
    child.on('error', (error) => (output += String(error)));
    child.on('close', (status, signal) => {
      clearTimeout(timer);
      const ok = status === 0;
      if (ok) {
        console.log(`ok   ${what}`);
      } else {
        failures.push(what);
        console.log(
          `FAIL ${what}: ${command} ${args.join(' ')} (status ${status}${signal ? `, ${signal}` : ''})`,
        );
        console.log(output);
      }
      resolvePromise({ ok, output });
    });
  });
}

/** Runs the thunks, at most `limit` at a time. */
async function pool(limit, thunks) {
  const queue = [...thunks];
  const worker = async () => {
    for (let next = queue.shift(); next !== undefined; next = queue.shift()) await next();
  };
  await Promise.all(Array.from({ length: limit }, worker));
}

function check(what, condition, detail = '') {
  if (condition) return;
  failures.push(what);
  console.log(`FAIL ${what}${detail ? `: ${detail}` : ''}`);
}

function files(dir, prefix = '') {
  return readdirSync(join(dir, prefix), { withFileTypes: true }).flatMap((entry) => {
    const name = posix.join(prefix, entry.name);
    return entry.isDirectory() ? files(dir, name) : [name];
  });
}

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(targets);
}

/** Checks one unpacked tarball; returns its manifest and file list. */
function inspect(label, dir) {
  const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8'));
  const list = files(dir).sort();
  const text = JSON.stringify(manifest);
  check(
    `${label}: no workspace: range`,
    !text.includes('workspace:'),
    text.match(/"[^"]*workspace:[^"]*"/g)?.join(', '),
  );
  check(`${label}: LICENSE`, list.includes('LICENSE'));
  check(`${label}: sideEffects declared`, manifest.sideEffects !== undefined);
  for (const [subpath, entry] of Object.entries(manifest.exports ?? {})) {
    check(
      `${label} ${subpath}: types condition first`,
      typeof entry === 'object' && Object.keys(entry)[0] === 'types',
    );
    for (const target of targets(entry)) {
      check(`${label} ${subpath}: ${target} in dist`, target.startsWith('./dist/'));
      check(`${label} ${subpath}: ${target} packed`, list.includes(target.slice(2)));
    }
  }
  for (const map of list.filter((name) => name.endsWith('.map'))) {
    const { sources } = JSON.parse(readFileSync(join(dir, map), 'utf8'));
    for (const source of sources) {
      const shipped = posix.normalize(posix.join(posix.dirname(map), source));
      check(`${label}: ${map} source ${source} shipped`, list.includes(shipped));
    }
  }
  return { manifest, list };
}

function unpack(tarball, into) {
  mkdirSync(into, { recursive: true });
  execFileSync('tar', ['-xzf', tarball, '-C', into, '--strip-components=1']);
}

try {
  // ---- 1. pack with both tools ----------------------------------------------------------
  step('pack');
  const tarballs = { npm: {}, pnpm: {} };
  for (const tool of ['npm', 'pnpm']) {
    const destination = join(work, tool);
    mkdirSync(destination);
    for (const name of PACKAGES) {
      const cwd = join(ROOT, 'packages', name);
      const [command, ...prefix] = tool === 'npm' ? ['npm'] : pnpm;
      const before = new Set(readdirSync(destination));
      const { ok } = run(
        `${tool} pack ${name}`,
        command,
        [...prefix, 'pack', '--pack-destination', destination],
        { cwd },
      );
      const made = readdirSync(destination).filter((file) => !before.has(file));
      if (ok && made.length === 1) tarballs[tool][name] = join(destination, made[0]);
      else check(`${tool} pack ${name}: one tarball`, false, made.join(', '));
    }
  }

  // ---- 2. what the tarballs hold --------------------------------------------------------
  step('inspect tarballs');
  const manifests = {};
  for (const name of PACKAGES) {
    if (tarballs.npm[name] === undefined || tarballs.pnpm[name] === undefined) continue;
    unpack(tarballs.npm[name], join(work, 'unpacked', 'npm', name));
    unpack(tarballs.pnpm[name], join(work, 'unpacked', 'pnpm', name));
    const npmPacked = inspect(`npm ${name}`, join(work, 'unpacked', 'npm', name));
    const pnpmPacked = inspect(`pnpm ${name}`, join(work, 'unpacked', 'pnpm', name));
    manifests[name] = npmPacked.manifest;
    const onlyNpm = npmPacked.list.filter((file) => !pnpmPacked.list.includes(file));
    const onlyPnpm = pnpmPacked.list.filter((file) => !npmPacked.list.includes(file));
    check(
      `${name}: npm and pnpm pack the same files`,
      onlyNpm.length + onlyPnpm.length === 0,
      `npm only: ${onlyNpm}; pnpm only: ${onlyPnpm}`,
    );
    for (const field of COMPARED_FIELDS) {
      const a = JSON.stringify(npmPacked.manifest[field]);
      const b = JSON.stringify(pnpmPacked.manifest[field]);
      check(`${name}: npm and pnpm agree on ${field}`, a === b, `npm ${a}, pnpm ${b}`);
    }
  }
  console.log(failures.length === 0 ? 'ok   tarball contents' : '');

  // ---- 3. a consumer outside the workspace ----------------------------------------------
  step('consumer install');
  const consumer = join(work, 'consumer');
  cpSync(join(ROOT, '.ci', 'consumer'), consumer, { recursive: true });
  const dependencies = Object.fromEntries(
    Object.entries(manifests).map(([name, manifest]) => [
      manifest.name,
      `file:${tarballs.npm[name]}`,
    ]),
  );
  writeFileSync(
    join(consumer, 'package.json'),
    `${JSON.stringify({ name: 'herald-consumer', private: true, type: 'module', dependencies, devDependencies: { '@types/node': '^20.19.0', '@arethetypeswrong/cli': ATTW_VERSION } }, null, 2)}\n`,
  );
  run(
    'npm install the tarballs',
    'npm',
    ['install', '--no-audit', '--no-fund', '--loglevel=error'],
    { cwd: consumer },
  );

  // Every entry and subpath, from the packed manifests (new subpaths are checked unasked).
  const specifiers = Object.values(manifests).flatMap((manifest) =>
    Object.keys(manifest.exports ?? {}).map((subpath) => posix.join(manifest.name, subpath)),
  );
  writeFileSync(
    join(consumer, 'entries.mjs'),
    specifiers
      .map((specifier, i) =>
        [
          `const m${i} = await import(${JSON.stringify(specifier)});`,
          `if (Object.keys(m${i}).length === 0) throw new Error(${JSON.stringify(`${specifier} exports nothing`)});`,
        ].join('\n'),
      )
      .concat(`console.log(${JSON.stringify(`imported ${specifiers.join(', ')}`)});`)
      .join('\n'),
  );
  writeFileSync(
    join(consumer, 'entries.ts'),
    specifiers
      .map((specifier, i) => `export * as m${i} from ${JSON.stringify(specifier)};`)
      .join('\n'),
  );

  step('plain node, tsc and attw');
  const nodeEnv = { ...process.env, NODE_OPTIONS: '' };
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const attw = join(consumer, 'node_modules', '@arethetypeswrong', 'cli', 'dist', 'index.js');
  await pool(CONCURRENCY, [
    async () => {
      const imported = await runAsync(
        'node imports every entry and subpath',
        process.execPath,
        ['entries.mjs'],
        {
          cwd: consumer,
          env: nodeEnv,
        },
      );
      if (imported.ok) console.log(`     ${imported.output.trim()}`);
      const program = await runAsync('node runs program.mjs', process.execPath, ['program.mjs'], {
        cwd: consumer,
        env: nodeEnv,
        timeout: PROGRAM_TIMEOUT_MS,
      });
      if (program.ok) console.log(`     ${program.output.trim()}`);
    },
    ...['node16', 'bundler'].map(
      (resolution) => () =>
        runAsync(
          `tsc --noEmit, moduleResolution ${resolution}`,
          process.execPath,
          [tsc, '-p', `tsconfig.${resolution}.json`],
          {
            cwd: consumer,
          },
        ),
    ),
    ...PACKAGES.filter((name) => tarballs.npm[name] !== undefined).map(
      (name) => () =>
        runAsync(
          `attw --profile esm-only ${name}`,
          process.execPath,
          [attw, '--profile', 'esm-only', '--format', 'table-flipped', tarballs.npm[name]],
          {
            cwd: consumer,
          },
        ),
    ),
  ]);
} finally {
  if (process.env.HERALD_KEEP_CONSUMER === '1') console.log(`\nkept ${work}`);
  else rmSync(work, { recursive: true, force: true });
}

step(
  failures.length === 0
    ? 'packages: all checks passed'
    : `packages: ${failures.length} checks failed`,
);
for (const failure of failures) console.log(`  - ${failure}`);
process.exit(failures.length === 0 ? 0 : 1);
