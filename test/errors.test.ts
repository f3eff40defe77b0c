/**
 * Herald's errors: one base class, `HeraldError`, with a stable `code`, a `name` and a
 * `cause`; a `Symbol.for` brand per class so `instanceof` holds across two copies of a
 * package (each copy below is the same source file loaded again under a query string,
 * which gives a second, distinct module instance, as a second installed copy would); and
 * one code, `HERALD_ERR_BAD_OPTION`, for bad options in every layer.
 */
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CodecError, HeraldError, createCodec, createCatalogue, isCodecError } from '@herald/codec';
import { ActorAborted, RuntimeError, createRuntime, parseLogLevel } from '@herald/runtime';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_BACKOFF_LOOPBACK,
  validateBackoffPolicy,
} from '../packages/net/src/group/backoff.js';
import { BadGroupError, BadPolicyError, GroupError } from '../packages/net/src/group/errors.js';
import { NetError } from '../packages/net/src/errors.js';
import { WireError } from '../packages/net/src/wire/errors.js';

type CodecErrors = typeof import('../packages/codec/src/errors.js');
type RuntimeErrors = typeof import('../packages/runtime/src/errors.js');
type WireErrors = typeof import('../packages/net/src/wire/errors.js');
type GroupErrors = typeof import('../packages/net/src/group/errors.js');

/** Loads `path` again as a separate module instance: a second copy of the package. */
async function secondCopy<T>(path: string): Promise<T> {
  const specifier = `${path}?copy=2`;
  return (await import(/* @vite-ignore */ specifier)) as T;
}

const ROOT = fileURLToPath(new URL('..', import.meta.url));

describe('HeraldError', () => {
  it('carries a stable code, a name, the message and the cause', () => {
    const cause = new Error('underneath');
    const error = new CodecError('HERALD_ERR_MALFORMED', 'bad bytes', { cause });
    expect(error).toBeInstanceOf(Error);
    expect(error).toBeInstanceOf(HeraldError);
    expect(error).toBeInstanceOf(CodecError);
    expect(error.code).toBe('HERALD_ERR_MALFORMED');
    expect(error.name).toBe('CodecError');
    expect(error.message).toBe('bad bytes');
    expect(error.cause).toBe(cause);
    expect(String(error)).toBe('CodecError: bad bytes');
  });

  it('keeps its brands out of enumeration, so logs and deep equality do not see them', () => {
    const error = new RuntimeError('HERALD_ERR_BAD_OPTION', 'x');
    const brands = Object.getOwnPropertySymbols(error);
    expect(brands.map((s) => s.description).sort()).toEqual([
      'herald.error',
      'herald.error.RuntimeError',
    ]);
    expect(brands.filter((s) => Object.prototype.propertyIsEnumerable.call(error, s))).toEqual([]);
  });

  it('tells the classes apart: a CodecError is not a RuntimeError, a plain Error is neither', () => {
    const codec = new CodecError('HERALD_ERR_SCHEMA', 'x');
    const runtime = new RuntimeError('HERALD_ERR_BAD_OPTION', 'x');
    expect(codec instanceof RuntimeError).toBe(false);
    expect(runtime instanceof CodecError).toBe(false);
    expect(new Error('x') instanceof HeraldError).toBe(false);
    expect({ code: 'HERALD_ERR_SCHEMA' } instanceof HeraldError).toBe(false);
    const nothing: unknown = null;
    expect(nothing instanceof HeraldError).toBe(false);
  });

  it('a subclass without a brand of its own still answers instanceof by its prototype', () => {
    class AppError extends RuntimeError {}
    const app = new AppError('HERALD_ERR_BAD_OPTION', 'x');
    expect(app).toBeInstanceOf(AppError);
    expect(app).toBeInstanceOf(RuntimeError);
    expect(app).toBeInstanceOf(HeraldError);
    expect(new RuntimeError('HERALD_ERR_BAD_OPTION', 'x') instanceof AppError).toBe(false);
  });

  it('ActorAborted is a HeraldError with code HERALD_ABORTED', () => {
    const aborted = new ActorAborted();
    expect(aborted).toBeInstanceOf(ActorAborted);
    expect(aborted).toBeInstanceOf(HeraldError);
    expect(aborted instanceof RuntimeError).toBe(false);
    expect(aborted.code).toBe('HERALD_ABORTED');
    expect(aborted.name).toBe('ActorAborted');
  });
});

describe('every exported error class has a brand of its own', () => {
  it.each([
    '@herald/codec',
    '@herald/runtime',
    '@herald/net',
    '@herald/net/wire',
    '@herald/testing',
  ])(
    '%s: each HeraldError subclass declares Symbol.for("herald.error.<its name>")',
    async (specifier) => {
      const namespace = (await import(specifier)) as Record<string, unknown>;
      const classes = Object.values(namespace).filter(
        (value): value is typeof HeraldError =>
          typeof value === 'function' && Object.prototype.isPrototypeOf.call(HeraldError, value),
      );
      expect(classes.length).toBeGreaterThan(0);
      for (const errorClass of classes) {
        // Without its own brand a subclass would fall back to the prototype chain, and
        // instanceof would fail across copies without anyone noticing.
        expect(Object.hasOwn(errorClass, 'brand'), errorClass.name).toBe(true);
        expect(errorClass.brand).toBe(Symbol.for(`herald.error.${errorClass.name}`));
      }
    },
  );
});

describe('instanceof across two copies of a package', () => {
  it('codec: errors of either copy are CodecError and HeraldError of both', async () => {
    const other = await secondCopy<CodecErrors>('../packages/codec/src/errors.ts');
    expect(other.CodecError).not.toBe(CodecError); // really a second copy
    const theirs = new other.CodecError('HERALD_ERR_SCHEMA', 'x');
    const ours = new CodecError('HERALD_ERR_SCHEMA', 'x');
    expect(theirs).toBeInstanceOf(CodecError);
    expect(theirs).toBeInstanceOf(HeraldError);
    expect(isCodecError(theirs)).toBe(true);
    expect(ours).toBeInstanceOf(other.CodecError);
    expect(ours).toBeInstanceOf(other.HeraldError);
    expect(other.isHeraldError(ours)).toBe(true);
  });

  it('runtime: RuntimeError and ActorAborted of another copy', async () => {
    const other = await secondCopy<RuntimeErrors>('../packages/runtime/src/errors.ts');
    expect(other.RuntimeError).not.toBe(RuntimeError);
    expect(new other.RuntimeError('HERALD_ERR_BAD_OPTION', 'x')).toBeInstanceOf(RuntimeError);
    expect(new other.RuntimeError('HERALD_ERR_BAD_OPTION', 'x')).toBeInstanceOf(HeraldError);
    expect(new RuntimeError('HERALD_ERR_BAD_OPTION', 'x')).toBeInstanceOf(other.RuntimeError);
    expect(new other.ActorAborted()).toBeInstanceOf(ActorAborted);
    expect(new other.ActorAborted() instanceof RuntimeError).toBe(false);
  });

  it('net: WireError, and GroupError with its subclasses, of another copy', async () => {
    const wire = await secondCopy<WireErrors>('../packages/net/src/wire/errors.ts');
    const group = await secondCopy<GroupErrors>('../packages/net/src/group/errors.ts');
    expect(wire.WireError).not.toBe(WireError);
    expect(new wire.WireError('HERALD_ERR_WIRE_MALFORMED', 'x')).toBeInstanceOf(WireError);
    expect(new wire.WireError('HERALD_ERR_WIRE_MALFORMED', 'x')).toBeInstanceOf(HeraldError);
    const policy = new group.BadPolicyError('steps', 'x');
    expect(policy).toBeInstanceOf(BadPolicyError);
    expect(policy).toBeInstanceOf(GroupError);
    expect(policy).toBeInstanceOf(NetError);
    expect(policy).toBeInstanceOf(HeraldError);
    expect(policy instanceof BadGroupError).toBe(false);
    expect(policy instanceof WireError).toBe(false);
  });
});

describe('bad options throw HERALD_ERR_BAD_OPTION in every layer', () => {
  function thrown(fn: () => unknown): unknown {
    try {
      fn();
    } catch (error) {
      return error;
    }
    throw new Error('did not throw');
  }

  it('codec: maxMessageBytes and maxStreamStructures (no bare RangeError)', () => {
    const catalogue = createCatalogue();
    for (const options of [{ maxMessageBytes: 0 }, { maxStreamStructures: -1 }]) {
      const error = thrown(() => createCodec({ catalogue, ...options }));
      expect(error).toBeInstanceOf(CodecError);
      expect((error as CodecError).code).toBe('HERALD_ERR_BAD_OPTION');
    }
  });

  it('runtime: mailboxCapacity and the log level', () => {
    for (const fn of [() => createRuntime({ mailboxCapacity: 0 }), () => parseLogLevel('loud')]) {
      const error = thrown(fn);
      expect(error).toBeInstanceOf(RuntimeError);
      expect((error as RuntimeError).code).toBe('HERALD_ERR_BAD_OPTION');
    }
  });

  it('net groups: a bad retry policy', () => {
    const error = thrown(() => validateBackoffPolicy({ ...DEFAULT_BACKOFF_LOOPBACK, steps: [-1] }));
    expect(error).toBeInstanceOf(BadPolicyError);
    expect(error).toBeInstanceOf(NetError);
    expect((error as BadPolicyError).code).toBe('HERALD_ERR_BAD_OPTION');
    expect((error as BadPolicyError).field).toBe('steps[0]');
  });
});

describe('every throw in the packages carries a code', () => {
  function sources(dir: string): string[] {
    return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) return sources(path);
      return entry.name.endsWith('.ts') ? [path] : [];
    });
  }

  const packages = readdirSync(join(ROOT, 'packages'), { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => entry.name);
  const files = packages.flatMap((pkg) => sources(join(ROOT, 'packages', pkg, 'src')));

  /** HeraldError and every class declared (in any package) as extending one of them. */
  function heraldErrorClasses(): Set<string> {
    const bases = new Map<string, string>();
    for (const file of files) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/class (\w+) extends (\w+)/g)) {
        bases.set(match[1] ?? '', match[2] ?? '');
      }
    }
    const herald = new Set(['HeraldError']);
    for (let grew = true; grew;) {
      grew = false;
      for (const [name, base] of bases) {
        if (!herald.has(name) && herald.has(base)) {
          herald.add(name);
          grew = true;
        }
      }
    }
    return herald;
  }

  it('finds the packages and their error classes', () => {
    expect(packages).toEqual(expect.arrayContaining(['codec', 'runtime', 'net', 'testing']));
    expect([...heraldErrorClasses()]).toEqual(
      expect.arrayContaining(['CodecError', 'RuntimeError', 'WireError', 'BadPolicyError']),
    );
  });

  it.each(packages)('@herald/%s throws only Herald errors', (pkg) => {
    const herald = heraldErrorClasses();
    const offenders: string[] = [];
    for (const file of sources(join(ROOT, 'packages', pkg, 'src'))) {
      const text = readFileSync(file, 'utf8');
      for (const match of text.matchAll(/throw new (\w+)\(/g)) {
        if (!herald.has(match[1] ?? '')) offenders.push(`${file}: ${match[0]}`);
      }
    }
    expect(offenders).toEqual([]);
  });
});
