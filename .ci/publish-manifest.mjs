#!/usr/bin/env node
/**
 * The pack step of every @herald/* package, run by `npm pack`, `pnpm pack` and publish as the
 * package's `prepack` and `postpack` scripts (from the package directory):
 *
 *   node ../../.ci/publish-manifest.mjs prepack    # build, then write the published manifest
 *   node ../../.ci/publish-manifest.mjs postpack   # put the workspace manifest back
 *
 * Why a manifest step: in the workspace, `exports` points at `./src/*.ts` (tests, tsx and
 * the examples run the sources) and sibling dependencies are `workspace:*`. pnpm rewrites
 * `workspace:*` when it packs and applies `publishConfig.exports`, but npm does neither, so
 * an npm-packed tarball would point at TypeScript sources and carry a dependency npm cannot
 * install. npm and pnpm both read package.json from disk after `prepack`, so `prepack`
 * writes the published form there (exports mapped to `dist`, `workspace:` ranges replaced by
 * the sibling's version, as pnpm does) and `postpack` restores the original byte for byte.
 * The dist mapping is derived from `exports`, so a new subpath needs no second list.
 *
 * If a pack fails between the two steps, the original stays in `package.json.workspace`;
 * the next `prepack` (or `postpack`) restores it first.
 */
import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MANIFEST = 'package.json';
const BACKUP = 'package.json.workspace';
const DEPENDENCY_FIELDS = [
  'dependencies',
  'peerDependencies',
  'optionalDependencies',
  'devDependencies',
];

const [command] = process.argv.slice(2);
const dir = process.cwd();

function restore() {
  if (existsSync(join(dir, BACKUP))) renameSync(join(dir, BACKUP), join(dir, MANIFEST));
}

/** Versions of the workspace packages, by name. */
function workspaceVersions() {
  const versions = new Map();
  for (const name of readdirSync(join(ROOT, 'packages'))) {
    const file = join(ROOT, 'packages', name, MANIFEST);
    if (!existsSync(file)) continue;
    const manifest = JSON.parse(readFileSync(file, 'utf8'));
    versions.set(manifest.name, manifest.version);
  }
  return versions;
}

/** `workspace:*` gives the exact version, `workspace:^`/`~` a caret/tilde range (pnpm's rule). */
function publishedRange(name, range, versions) {
  if (!range.startsWith('workspace:')) return range;
  const version = versions.get(name);
  if (version === undefined) throw new Error(`${name}: not a workspace package`);
  const spec = range.slice('workspace:'.length);
  if (spec === '*' || spec === '') return version;
  if (spec === '^' || spec === '~') return `${spec}${version}`;
  return spec;
}

/** `./src/a/b.ts` under the `types` condition gives `./dist/a/b.d.ts`, elsewhere `./dist/a/b.js`. */
function distPath(target, condition) {
  const match = /^\.\/src\/(.+)\.ts$/.exec(target);
  if (match === null) return target;
  return condition === 'types' ? `./dist/${match[1]}.d.ts` : `./dist/${match[1]}.js`;
}

function distExports(value, condition) {
  if (typeof value === 'string') {
    // A bare `./src/x.ts` target: give it both conditions, types first.
    return condition === undefined && value.endsWith('.ts')
      ? { types: distPath(value, 'types'), default: distPath(value, 'default') }
      : distPath(value, condition);
  }
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(
    Object.entries(value).map(([key, inner]) => [
      key,
      distExports(inner, key.startsWith('.') ? undefined : key),
    ]),
  );
}

function targets(value) {
  if (typeof value === 'string') return [value];
  if (value === null || typeof value !== 'object') return [];
  return Object.values(value).flatMap(targets);
}

/**
 * Deletes what `tsc -b` left in dist from sources since renamed or deleted (it never removes
 * outputs), so they are not packed; an incremental build stays incremental.
 */
function removeStaleOutputs(dist, src) {
  for (const entry of readdirSync(dist, { recursive: true, withFileTypes: true })) {
    if (!entry.isFile()) continue;
    const output = join(entry.parentPath ?? entry.path, entry.name);
    const source = /^(.*)\.(?:js|js\.map|d\.ts|d\.ts\.map)$/.exec(relative(dist, output));
    if (source === null || !existsSync(join(src, `${source[1]}.ts`))) rmSync(output);
  }
}

function prepack() {
  restore();
  // The build info lives beside tsconfig.json (so it is not packed); without dist, `tsc -b`
  // would still call the project up to date and emit nothing.
  if (!existsSync(join(dir, 'dist'))) rmSync(join(dir, 'tsconfig.tsbuildinfo'), { force: true });
  const tsc = join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');
  const build = spawnSync(process.execPath, [tsc, '-b', dir], { stdio: 'inherit' });
  if (build.status !== 0) process.exit(build.status ?? 1);
  removeStaleOutputs(join(dir, 'dist'), join(dir, 'src'));

  const original = readFileSync(join(dir, MANIFEST), 'utf8');
  const manifest = JSON.parse(original);
  const versions = workspaceVersions();
  manifest.exports = distExports(manifest.exports, undefined);
  for (const field of DEPENDENCY_FIELDS) {
    const deps = manifest[field];
    if (deps === undefined) continue;
    for (const [name, range] of Object.entries(deps)) {
      deps[name] = publishedRange(name, range, versions);
    }
  }
  if (manifest.publishConfig !== undefined) delete manifest.publishConfig.exports;
  const missing = targets(manifest.exports).filter((target) => !existsSync(join(dir, target)));
  if (missing.length > 0) {
    throw new Error(`${manifest.name}: exports point at files the build did not emit: ${missing}`);
  }
  writeFileSync(join(dir, BACKUP), original);
  writeFileSync(join(dir, MANIFEST), `${JSON.stringify(manifest, null, 2)}\n`);
}

if (command === 'prepack') prepack();
else if (command === 'postpack') restore();
else {
  console.error('usage: publish-manifest.mjs prepack|postpack');
  process.exit(2);
}
