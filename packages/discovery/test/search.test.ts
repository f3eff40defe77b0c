/**
 * Searches: exact, glob and regex matching, and the bounds that keep a directory's work per
 * search small (pattern length, the backtracking shapes refused, names too long to match).
 */
import { propertyParameters, propertySeeds } from '@herald/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { MAX_NAME_LENGTH, MAX_PATTERN_LENGTH } from '../src/constants.js';
import { DiscoveryError } from '../src/errors.js';
import { compileSearch, globMatch, toSearch } from '../src/search.js';

/** The obvious (exponential-in-the-worst-case) reading of a glob, for comparison. */
function globReference(pattern: string, name: string): boolean {
  const source = [...pattern]
    .map((c) => (c === '*' ? '.*' : c === '?' ? '.' : c.replace(/[.+^${}()|[\]\\]/u, '\\$&')))
    .join('');
  return new RegExp(`^${source}$`, 'su').test(name);
}

function refusal(search: Parameters<typeof compileSearch>[0]): string {
  try {
    compileSearch(search);
  } catch (error) {
    expect(error).toBeInstanceOf(DiscoveryError);
    expect((error as DiscoveryError).code).toBe('HERALD_ERR_BAD_SEARCH');
    return (error as Error).message;
  }
  throw new Error(`not refused: ${JSON.stringify(search)}`);
}

describe('search', () => {
  it('matches exact names, globs and whole-name regexes', () => {
    expect(compileSearch({ kind: 'exact', pattern: 'a.b' })('a.b')).toBe(true);
    expect(compileSearch({ kind: 'exact', pattern: 'a.b' })('axb')).toBe(false);
    const glob = compileSearch({ kind: 'glob', pattern: 'svc.*.v?' });
    expect(['svc.x.v1', 'svc..v2', 'svc.a.b.v3'].every(glob)).toBe(true);
    expect(['svc.x.v10', 'svcx.v1', 'svc.x.v'].some(glob)).toBe(false);
    const regex = compileSearch({ kind: 'regex', pattern: 'svc\\.[a-z]+' });
    expect(regex('svc.abc')).toBe(true);
    expect(regex('svc.abc.more')).toBe(false); // the whole name, not a prefix
    expect(toSearch(/^x$/u)).toEqual({ kind: 'regex', pattern: '^x$' });
    expect(toSearch('name')).toEqual({ kind: 'exact', pattern: 'name' });
  });

  it('globMatch agrees with the regular-expression reading of a glob', () => {
    const alphabet = fc.constantFrom('a', 'b', '.', '*', '?');
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          fc.string({ unit: alphabet, maxLength: 8 }),
          fc.string({ unit: fc.constantFrom('a', 'b', '.'), maxLength: 10 }),
          (pattern, name) => globMatch(pattern, name) === globReference(pattern, name),
        ),
        propertyParameters(seed, 2_000),
      );
    }
  });

  it('refuses regexes shaped for catastrophic backtracking, back-references and look-behind', () => {
    expect(refusal({ kind: 'regex', pattern: '(a+)+b' })).toMatch(/quantified group/u);
    expect(refusal({ kind: 'regex', pattern: '(a|aa)*b' })).toMatch(/quantified group/u);
    expect(refusal({ kind: 'regex', pattern: '((ab)*c)+' })).toMatch(/quantified group/u);
    expect(refusal({ kind: 'regex', pattern: '(a)\\1' })).toMatch(/back-references/u);
    expect(refusal({ kind: 'regex', pattern: '(?<=a)b' })).toMatch(/look-behind/u);
    expect(refusal({ kind: 'regex', pattern: 'a*b*c*d*' })).toMatch(/unbounded/u);
    expect(refusal({ kind: 'regex', pattern: '(' })).toMatch(/unbalanced|not a regular/u);
    // Still allowed: optional groups, bounded repeats, classes with quantifier characters.
    for (const pattern of ['(foo|bar)?baz', '(ab){1,3}', '[*+]+x', 'a\\(b+\\)+']) {
      expect(() => compileSearch({ kind: 'regex', pattern })).not.toThrow();
    }
  });

  it('refuses patterns over MAX_PATTERN_LENGTH and never matches names over MAX_NAME_LENGTH', () => {
    const long = 'a'.repeat(MAX_PATTERN_LENGTH + 1);
    for (const kind of ['exact', 'glob', 'regex'] as const) {
      expect(refusal({ kind, pattern: long })).toMatch(/longer than/u);
    }
    expect(refusal({ kind: 'exact', pattern: '' })).toMatch(/non-empty/u);
    expect(refusal({ kind: 'nope' as 'exact', pattern: 'x' })).toMatch(/kind/u);
    const name = 'a'.repeat(MAX_NAME_LENGTH + 1);
    expect(compileSearch({ kind: 'glob', pattern: '*' })(name)).toBe(false);
    expect(compileSearch({ kind: 'regex', pattern: 'a*' })(name)).toBe(false);
  });

  it('runs an allowed regex against a worst-case name quickly', () => {
    const matches = compileSearch({ kind: 'regex', pattern: 'a*a*a*b' });
    const start = performance.now();
    expect(matches('a'.repeat(MAX_NAME_LENGTH))).toBe(false);
    expect(performance.now() - start).toBeLessThan(1_000);
  });
});
