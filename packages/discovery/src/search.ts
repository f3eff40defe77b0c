/**
 * Searches: what a subscriber asks a directory for. A directory is a network service that
 * runs every search it holds against every listing, so a search must be cheap to run and
 * impossible to turn into a denial of service:
 *
 * - `exact`: the name, compared as a string;
 * - `glob`: `*` matches any run of characters, `?` one character, everything else itself;
 *   matched by a two-pointer walk (at most name × pattern steps, no regular expression);
 * - `regex`: an ECMAScript regular expression (`u` flag) that must match the **whole**
 *   name. Patterns are refused (`HERALD_ERR_BAD_SEARCH`) when longer than
 *   MAX_PATTERN_LENGTH, when they use back-references or look-behind, when a quantified group
 *   itself contains a quantifier or an alternation (`(a+)+`, `(a|aa)*`: the shapes of
 *   catastrophic backtracking), or when they hold more than MAX_UNBOUNDED_QUANTIFIERS
 *   unbounded quantifiers. Names are at most MAX_NAME_LENGTH characters, so what remains
 *   runs in time polynomial in a small bound.
 */
import { MAX_NAME_LENGTH, MAX_PATTERN_LENGTH } from './constants.js';
import { DiscoveryError } from './errors.js';
import type { Search } from './registry.js';

/** Unbounded quantifiers (`*`, `+`, `{n,}`) a regex search may hold. */
export const MAX_UNBOUNDED_QUANTIFIERS = 3;

/** A compiled search: true when `name` matches. */
export type NameMatcher = (name: string) => boolean;

/** What `subscribe()` takes: a name (exact), a RegExp (regex over the whole name), or a Search. */
export type SearchInput = string | RegExp | Search;

/** The Search for what a user gave. Throws `HERALD_ERR_BAD_SEARCH` for a bad one. */
export function toSearch(input: SearchInput): Search {
  let search: Search;
  if (typeof input === 'string') search = { kind: 'exact', pattern: input };
  else if (input instanceof RegExp) search = { kind: 'regex', pattern: input.source };
  else search = { kind: input.kind, pattern: input.pattern };
  compileSearch(search);
  return search;
}

/** Printable form for logs and messages: `exact:name`, `glob:svc.*`, `regex:^a.+$`. */
export function describeSearch(search: Search): string {
  return `${search.kind}:${search.pattern}`;
}

/** Throws `HERALD_ERR_BAD_OPTION` unless `name` is a usable service name. */
export function checkName(name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0 || name.length > MAX_NAME_LENGTH) {
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      `a service name is a string of 1 to ${MAX_NAME_LENGTH} characters, got ${JSON.stringify(name)}`,
    );
  }
}

/** Compiles a search, or throws `HERALD_ERR_BAD_SEARCH` saying why it is refused. */
export function compileSearch(search: Search): NameMatcher {
  const { kind, pattern } = search as { kind: unknown; pattern: unknown };
  if (typeof pattern !== 'string' || pattern.length === 0) {
    throw bad('the pattern must be a non-empty string');
  }
  if (pattern.length > MAX_PATTERN_LENGTH) {
    throw bad(`the pattern is longer than ${MAX_PATTERN_LENGTH} characters`);
  }
  switch (kind) {
    case 'exact':
      return (name) => name === pattern;
    case 'glob':
      return (name) => name.length <= MAX_NAME_LENGTH && globMatch(pattern, name);
    case 'regex': {
      checkRegexCost(pattern);
      let re: RegExp;
      try {
        re = new RegExp(`^(?:${pattern})$`, 'u');
      } catch (error) {
        throw bad(`not a regular expression: ${(error as Error).message}`, error);
      }
      return (name) => name.length <= MAX_NAME_LENGTH && re.test(name);
    }
    default:
      throw bad(`kind must be 'exact', 'glob' or 'regex', got ${JSON.stringify(kind)}`);
  }
}

function bad(why: string, cause?: unknown): DiscoveryError {
  return new DiscoveryError(
    'HERALD_ERR_BAD_SEARCH',
    `search refused: ${why}`,
    cause === undefined ? {} : { cause },
  );
}

/** `*` any run, `?` any one character; iterative, backtracking only to the last star. */
export function globMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    const c = pattern[p];
    if (c === '?' || (c !== undefined && c !== '*' && c === name[n])) {
      p++;
      n++;
    } else if (c === '*') {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

interface Group {
  quantified: boolean;
  alternation: boolean;
}

/**
 * Refuses the regex shapes that backtrack catastrophically (see the file comment). A
 * scanner over the pattern's syntax: escapes, character classes and groups are tracked;
 * nothing is executed.
 */
function checkRegexCost(pattern: string): void {
  if (/\\[1-9]|\\k</u.test(pattern)) throw bad('back-references are not allowed');
  if (/\(\?<[=!]/u.test(pattern)) throw bad('look-behind is not allowed');
  const stack: Group[] = [{ quantified: false, alternation: false }];
  let unbounded = 0;
  let inClass = false;
  let lastClosed: Group | undefined;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      i++;
      lastClosed = undefined;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      continue;
    }
    const top = stack[stack.length - 1]!;
    if (c === '[') {
      inClass = true;
      lastClosed = undefined;
    } else if (c === '(') {
      stack.push({ quantified: false, alternation: false });
      lastClosed = undefined;
    } else if (c === ')') {
      const group = stack.pop();
      if (group === undefined || stack.length === 0) throw bad('unbalanced parentheses');
      lastClosed = group;
      // A group's inner quantifiers also count for the group that contains it.
      const parent = stack[stack.length - 1]!;
      parent.quantified ||= group.quantified;
      continue;
    } else if (c === '|') {
      top.alternation = true;
      lastClosed = undefined;
    } else if (c === '*' || c === '+' || c === '?' || c === '{') {
      const isUnbounded =
        c === '*' || c === '+' || (c === '{' && /^\{\d*,\}/u.test(pattern.slice(i)));
      // `?` (zero or one) never repeats, so it cannot backtrack catastrophically.
      const isRepeat = c !== '?';
      if (c === '{') {
        const close = pattern.indexOf('}', i);
        if (close > i) i = close;
      }
      if (pattern[i + 1] === '?') i++; // lazy form
      if (isUnbounded) unbounded++;
      if (
        lastClosed !== undefined &&
        isRepeat &&
        (lastClosed.quantified || lastClosed.alternation)
      ) {
        throw bad('a quantified group may not itself contain a quantifier or an alternation');
      }
      top.quantified = true;
      lastClosed = undefined;
      continue;
    } else {
      lastClosed = undefined;
    }
  }
  if (stack.length !== 1) throw bad('unbalanced parentheses');
  if (unbounded > MAX_UNBOUNDED_QUANTIFIERS) {
    throw bad(`more than ${MAX_UNBOUNDED_QUANTIFIERS} unbounded quantifiers`);
  }
}
