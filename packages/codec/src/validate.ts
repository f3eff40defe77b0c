/**
 * Schema validation: every decoded value passes through a validator compiled once per
 * schema node and once per message type (cached in WeakMaps), which checks it and returns the
 * typed, normalised value.
 *
 * Policy:
 * - Unknown fields are dropped, not rejected: a newer peer may add optional fields without
 *   breaking older ones (version skew). The returned objects hold only declared fields, in
 *   declaration order, `type` first.
 * - A missing required field, a wrong type, a too long string/bytes/array fail with
 *   `HERALD_ERR_SCHEMA` and a `path` such as `Order.items[3].name`.
 * - An `anyMessage` whose type is not in the catalogue fails with `HERALD_ERR_UNKNOWN_TYPE`.
 * - In graph mode (bodies that may hold shared references and cycles) each source object is
 *   validated once per schema node and its result reused, so identity and cycles survive
 *   validation (a source object met under two different schema nodes gets one output for
 *   each: a result checked against one schema is never handed out for another).
 *
 * Work is linear in the input, whatever its shape (see docs/codec.md, "Decoding hostile
 * input"):
 * - Every container checker memoises its results per source object once memoisation is on:
 *   from the start in graph mode (a DAG of shared arrays is walked once, not once per path),
 *   and in tree mode from the first union option that walks an object and then fails (a
 *   union retries its options on the same value; without the memo, nested unions cost
 *   2^depth). Failures
 *   are memoised too. So every (object, schema node) pair is walked at most twice (once
 *   before the memo starts, in tree mode, and once after).
 * - The work counter (`codecProbe.validationWork`) counts those walks, for the tests.
 * - `t.json()` in graph mode measures each distinct object once (size and height memoised),
 *   rejects cycles, and bounds the expanded size (the value written out as a tree) and the
 *   height (the longest path).
 * - Cycles meet unions: a value checked against a schema node while it is still being
 *   checked (a cycle) is assumed valid; if it then fails, results built on that assumption
 *   cannot be trusted, so the failure is final (`fatal`): no union tries another option.
 *   Such a value is rejected even if a later option would have matched it.
 *
 * Validators never throw while checking: they return the `FAIL` sentinel and record the
 * reason in a module-level context (validation is synchronous and never re-entered), so the
 * hot path allocates nothing but the output values. Messages and paths describe untrusted
 * values only through `describe`/`label` (bounded, never throwing).
 */
import { Address } from './address.js';
import { DEFAULT_MAX_MESSAGE_BYTES, MAX_JSON_DEPTH } from './constants.js';
import { describe, label } from './describe.js';
import { CodecError, type CodecErrorCode } from './errors.js';
import { codecProbe } from './probe.js';
import type { AnyMessage, AnyMessageType, Fields, Schema } from './schema.js';

/** Where `anyMessage` looks types up: a catalogue. */
export interface TypeLookup {
  get(name: string): AnyMessageType | undefined;
}

const FAIL: unique symbol = Symbol('herald.codec.fail');
type Checker = (value: unknown, ctx: Context) => unknown;

/** States of a memoised (source object, checker) pair. */
const PENDING = 0;
/** Still being checked and already met again through a cycle: its output was handed out. */
const CYCLIC = 1;
const DONE = 2;
const FAILED = 3;

interface MemoEntry {
  state: number;
  /** The output (also while pending: cycles and shared references get the same object). */
  value: unknown;
  code: CodecErrorCode;
  message: string;
}

/** States of a JSON object measured in graph mode. */
const MEASURING = 0;
const MEASURED = 1;
/** Not JSON, whatever the path to it: holds a cycle, a non-JSON value, or too many nodes. */
const NOT_JSON = 2;

interface JsonEntry {
  state: number;
  /** Expanded node count: the value written out as a tree. */
  nodes: number;
  /** Objects on the longest chain down from here, this one included. */
  height: number;
}

/** An object being measured: its children (a snapshot) and the next one to look at. */
interface JsonFrame {
  readonly items: readonly unknown[];
  next: number;
  readonly entry: JsonEntry;
}

interface Context {
  lookup: TypeLookup;
  graph: boolean;
  /** Per container checker, its results per source object; null until memoisation is on. */
  memo: Map<Checker, Map<object, MemoEntry>> | null;
  /** Graph-mode `t.json()` measurements, shared by every json field of the message. */
  json: Map<object, JsonEntry> | null;
  /** Expanded JSON nodes the message may hold in all; what is left of it. */
  jsonBudget: number;
  /** A failure that no union may recover from (see the header). */
  fatal: boolean;
  work: number;
  code: CodecErrorCode;
  message: string;
  /** Path segments, innermost first (pushed while the failure unwinds). */
  path: string[];
}

const context: Context = {
  lookup: { get: () => undefined },
  graph: false,
  memo: null,
  json: null,
  jsonBudget: 0,
  fatal: false,
  work: 0,
  code: 'HERALD_ERR_SCHEMA',
  message: '',
  path: [],
};

function fail(
  ctx: Context,
  message: string,
  code: CodecErrorCode = 'HERALD_ERR_SCHEMA',
): typeof FAIL {
  ctx.code = code;
  ctx.message = message;
  ctx.path.length = 0;
  return FAIL;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/*
 * Memoisation of container checkers. A checker calls `recall` first; on a miss it builds its
 * output, registers it with `enter` (so a cycle back to the value gets the same output),
 * and ends with `done` or `abandon`.
 */

/** The memo table of `checker`, or null while this validation does not memoise. */
function tableOf(c: Context, checker: Checker): Map<object, MemoEntry> | null {
  const memo = c.memo;
  if (memo === null) return null;
  let table = memo.get(checker);
  if (table === undefined) {
    table = new Map();
    memo.set(checker, table);
  }
  return table;
}

/** The earlier result for a memo hit: the output, or the earlier failure again. */
function recall(entry: MemoEntry, c: Context): unknown {
  if (entry.state === FAILED) return fail(c, entry.message, entry.code);
  if (entry.state === PENDING) entry.state = CYCLIC;
  return entry.value;
}

function enter(
  table: Map<object, MemoEntry> | null,
  source: object,
  out: unknown,
): MemoEntry | null {
  if (table === null) return null;
  const entry: MemoEntry = { state: PENDING, value: out, code: 'HERALD_ERR_SCHEMA', message: '' };
  table.set(source, entry);
  return entry;
}

function done<T>(entry: MemoEntry | null, out: T): T {
  if (entry !== null) entry.state = DONE;
  return out;
}

/** Records the failure of the value being checked, under path segment `segment`. */
function abandon(entry: MemoEntry | null, c: Context, segment: string): typeof FAIL {
  c.path.push(segment);
  if (entry !== null) {
    // Outputs built while this one was assumed valid (through a cycle) may hold it.
    if (entry.state === CYCLIC) c.fatal = true;
    entry.state = FAILED;
    entry.value = undefined;
    entry.code = c.code;
    entry.message = c.message;
  }
  return FAIL;
}

const schemaCache = new WeakMap<object, Checker>();
const messageCache = new WeakMap<AnyMessageType, Checker>();

const checkNumber: Checker = (v, c) =>
  typeof v === 'number' ? v : fail(c, `expected a number, got ${describe(v)}`);
const checkInt: Checker = (v, c) =>
  Number.isSafeInteger(v)
    ? v
    : fail(
        c,
        typeof v === 'number' || typeof v === 'bigint'
          ? `expected a safe integer, got ${describe(v)} ${label(v)}`
          : `expected a safe integer, got ${describe(v)}`,
      );
const checkBoolean: Checker = (v, c) =>
  typeof v === 'boolean' ? v : fail(c, `expected a boolean, got ${describe(v)}`);
const checkBigint: Checker = (v, c) => {
  if (typeof v === 'bigint') return v;
  if (Number.isSafeInteger(v)) return BigInt(v as number);
  return fail(c, `expected a bigint, got ${describe(v)}`);
};
const checkDate: Checker = (v, c) =>
  v instanceof Date ? v : fail(c, `expected a Date, got ${describe(v)}`);
const checkNull: Checker = (v, c) =>
  v === null ? v : fail(c, `expected null, got ${describe(v)}`);
const checkUnknown: Checker = (v) => v;
const checkAddress: Checker = (v, c) =>
  v instanceof Address ? v : fail(c, `expected an Address, got ${describe(v)}`);

/** Tree mode: values cannot share objects, so a plain walk visits each object once. */
function isJson(value: unknown, depth: number, c: Context): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      c.work++;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isJson(value[i], depth + 1, c)) return false;
        return true;
      }
      if (!isPlainObject(value)) return false;
      for (const key in value) if (!isJson(value[key], depth + 1, c)) return false;
      return true;
    }
    default:
      return false;
  }
}

/** `jsonLeaf` of an object or array: it has children to measure. */
const JSON_CONTAINER = 0;
const JSON_INVALID = -1;

/** 1 for a JSON primitive, JSON_CONTAINER for an object or array, JSON_INVALID otherwise. */
function jsonLeaf(value: unknown): number {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return 1;
    case 'number':
      return Number.isFinite(value) ? 1 : JSON_INVALID;
    case 'object':
      return value === null ? 1 : JSON_CONTAINER;
    default:
      return JSON_INVALID;
  }
}

/**
 * Graph mode: measures a JSON value (expanded node count and height), or returns null when it
 * is not JSON (a non-JSON value, a cycle, or more nodes than the budget). Each distinct
 * object is measured once and remembered for the whole message, with an explicit stack
 * (depth is checked on the exact height afterwards, so no path needs measuring twice): a DAG
 * of shared arrays costs its number of objects, not its number of paths.
 */
function measureJson(root: unknown, c: Context): JsonEntry | null {
  const leaf = jsonLeaf(root);
  if (leaf === JSON_INVALID) return null;
  if (leaf !== JSON_CONTAINER) return JSON_PRIMITIVE;
  const memo = (c.json ??= new Map());
  const stack: JsonFrame[] = [];
  let value = root as object;
  for (;;) {
    // Enter `value`: a measured object completes at once, a new one gets a frame.
    let done: JsonEntry | null = null;
    const known = memo.get(value);
    if (known !== undefined) {
      // Met while being measured: a cycle, which JSON cannot hold.
      if (known.state !== MEASURED) return notJson(stack);
      done = known;
    } else {
      const items = Array.isArray(value)
        ? (value as unknown[])
        : isPlainObject(value)
          ? Object.values(value)
          : null;
      if (items === null) return notJson(stack);
      c.work++;
      const entry: JsonEntry = { state: MEASURING, nodes: 1, height: 1 };
      memo.set(value, entry);
      stack.push({ items, next: 0, entry });
    }
    // Fold finished objects into their parents until one has an object child to enter.
    for (;;) {
      const top = stack[stack.length - 1];
      if (done !== null) {
        if (top === undefined) return done;
        top.entry.nodes += done.nodes;
        if (done.height >= top.entry.height) top.entry.height = done.height + 1;
        if (top.entry.nodes > c.jsonBudget) return notJson(stack);
        done = null;
      }
      if (top === undefined) return null; // unreachable: the root always has a frame here
      let child: object | null = null;
      while (top.next < top.items.length) {
        const item = top.items[top.next++];
        const n = jsonLeaf(item);
        if (n === JSON_CONTAINER) {
          child = item as object;
          break;
        }
        if (n === JSON_INVALID) return notJson(stack);
        top.entry.nodes += n;
      }
      if (child !== null) {
        value = child;
        break;
      }
      if (top.entry.nodes > c.jsonBudget) return notJson(stack);
      top.entry.state = MEASURED;
      stack.pop();
      done = top.entry;
    }
  }
}

const JSON_PRIMITIVE: JsonEntry = { state: MEASURED, nodes: 1, height: 0 };

/** Every object being measured holds the offending one: none of them is JSON. */
function notJson(stack: readonly JsonFrame[]): null {
  for (const frame of stack) frame.entry.state = NOT_JSON;
  return null;
}

const JSON_EXPECTED = `expected a JSON value (no cycles, depth < ${MAX_JSON_DEPTH})`;

const checkJson: Checker = (v, c) => {
  if (!c.graph) return isJson(v, 0, c) ? v : fail(c, JSON_EXPECTED);
  const size = measureJson(v, c);
  if (size === null || size.height > MAX_JSON_DEPTH) return fail(c, JSON_EXPECTED);
  // Shared sub-values are fine, but not an expansion beyond what one message may carry.
  c.jsonBudget -= size.nodes;
  if (c.jsonBudget < 0) {
    return fail(c, 'JSON values with shared references expand beyond the message size limit');
  }
  return v;
};

const checkAnyMessage: Checker = (v, c) => {
  if (!isPlainObject(v) || typeof v.type !== 'string') {
    return fail(c, `expected a message, got ${describe(v)}`);
  }
  const def = c.lookup.get(v.type);
  if (def === undefined) {
    return fail(
      c,
      `message type ${label(v.type)} is not in the catalogue`,
      'HERALD_ERR_UNKNOWN_TYPE',
    );
  }
  return compileMessage(def)(v, c);
};

/** Compiles a field table into a checker that builds a fresh object (`type` first if given). */
function compileFields(fields: Fields, typeName: string | undefined): Checker {
  const names = Object.keys(fields);
  const count = names.length;
  const optional: boolean[] = [];
  const inherited: boolean[] = [];
  const checks: Checker[] = [];
  for (const name of names) {
    const schema = fields[name] as Schema;
    const isOptional = schema.kind === 'optional';
    optional.push(isOptional);
    inherited.push(name in Object.prototype);
    checks.push(compileSchema(isOptional ? schema.inner : schema));
  }
  const what = typeName === undefined ? 'an object' : `message ${typeName}`;
  const self: Checker = (v, c) => {
    if (!isPlainObject(v)) return fail(c, `expected ${what}, got ${describe(v)}`);
    if (typeName !== undefined && v.type !== typeName) {
      return fail(
        c,
        `expected message ${typeName}, got ${v.type === undefined ? 'no type' : label(v.type)}`,
      );
    }
    const table = c.memo === null ? null : tableOf(c, self);
    if (table !== null) {
      const seen = table.get(v);
      if (seen !== undefined) return recall(seen, c);
    }
    c.work++;
    const out: Record<string, unknown> = typeName === undefined ? {} : { type: typeName };
    const entry = enter(table, v, out);
    for (let i = 0; i < count; i++) {
      const name = names[i] as string;
      let raw = v[name];
      if (raw !== undefined && inherited[i] === true && !Object.hasOwn(v, name)) raw = undefined;
      if (raw === undefined) {
        if (optional[i] === true) continue;
        fail(c, 'missing required field');
        return abandon(entry, c, `.${name}`);
      }
      const checked = (checks[i] as Checker)(raw, c);
      if (checked === FAIL) return abandon(entry, c, `.${name}`);
      out[name] = checked;
    }
    return done(entry, out);
  };
  return self;
}

/** The checker of a message type (cached per definition). */
function compileMessage(def: AnyMessageType): Checker {
  let check = messageCache.get(def);
  if (check === undefined) {
    check = compileFields(def.fields, def.type);
    messageCache.set(def, check);
  }
  return check;
}

function compileSchema(schema: Schema): Checker {
  let check = schemaCache.get(schema);
  if (check === undefined) {
    check = buildChecker(schema);
    schemaCache.set(schema, check);
  }
  return check;
}

function buildChecker(schema: Schema): Checker {
  switch (schema.kind) {
    case 'string': {
      const max = schema.maxLength;
      return (v, c) => {
        if (typeof v !== 'string') return fail(c, `expected a string, got ${describe(v)}`);
        if (max !== undefined && v.length > max) {
          return fail(c, `string of length ${v.length} exceeds maxLength ${max}`);
        }
        return v;
      };
    }
    case 'number':
      return checkNumber;
    case 'int':
      return checkInt;
    case 'boolean':
      return checkBoolean;
    case 'bigint':
      return checkBigint;
    case 'date':
      return checkDate;
    case 'bytes': {
      const max = schema.maxLength;
      return (v, c) => {
        if (!(v instanceof Uint8Array)) return fail(c, `expected bytes, got ${describe(v)}`);
        if (max !== undefined && v.byteLength > max) {
          return fail(c, `${v.byteLength} bytes exceed maxLength ${max}`);
        }
        return v;
      };
    }
    case 'null':
      return checkNull;
    case 'json':
      return checkJson;
    case 'unknown':
      return checkUnknown;
    case 'address':
      return checkAddress;
    case 'anyMessage':
      return checkAnyMessage;
    case 'literal': {
      const expected = schema.value;
      const shown = label(expected);
      return (v, c) => (v === expected ? v : fail(c, `expected ${shown}, got ${label(v)}`));
    }
    case 'enum': {
      const values = new Set<unknown>(schema.values);
      const shown = [...values].join(', ');
      return (v, c) => (values.has(v) ? v : fail(c, `expected one of ${shown}, got ${label(v)}`));
    }
    case 'array': {
      const element = compileSchema(schema.element);
      const max = schema.maxLength;
      const self: Checker = (v, c) => {
        if (!Array.isArray(v)) return fail(c, `expected an array, got ${describe(v)}`);
        if (max !== undefined && v.length > max) {
          return fail(c, `array of length ${v.length} exceeds maxLength ${max}`);
        }
        const table = c.memo === null ? null : tableOf(c, self);
        if (table !== null) {
          const seen = table.get(v);
          if (seen !== undefined) return recall(seen, c);
        }
        c.work++;
        const out: unknown[] = [];
        const entry = enter(table, v, out);
        for (let i = 0; i < v.length; i++) {
          const checked = element(v[i], c);
          if (checked === FAIL) return abandon(entry, c, `[${i}]`);
          out.push(checked);
        }
        return done(entry, out);
      };
      return self;
    }
    case 'set': {
      const element = compileSchema(schema.element);
      const self: Checker = (v, c) => {
        // A Set is written as a msgpackr Set extension; a plain array is accepted too.
        if (!(v instanceof Set) && !Array.isArray(v)) {
          return fail(c, `expected a Set, got ${describe(v)}`);
        }
        const table = c.memo === null ? null : tableOf(c, self);
        if (table !== null) {
          const seen = table.get(v);
          if (seen !== undefined) return recall(seen, c);
        }
        c.work++;
        const out = new Set<unknown>();
        const entry = enter(table, v, out);
        let i = 0;
        for (const item of v as Iterable<unknown>) {
          const checked = element(item, c);
          if (checked === FAIL) return abandon(entry, c, `[${i}]`);
          out.add(checked);
          i++;
        }
        return done(entry, out);
      };
      return self;
    }
    case 'map': {
      const key = compileSchema(schema.key);
      const value = compileSchema(schema.value);
      const self: Checker = (v, c) => {
        if (!(v instanceof Map)) return fail(c, `expected a Map, got ${describe(v)}`);
        const table = c.memo === null ? null : tableOf(c, self);
        if (table !== null) {
          const seen = table.get(v);
          if (seen !== undefined) return recall(seen, c);
        }
        c.work++;
        const out = new Map<unknown, unknown>();
        const entry = enter(table, v, out);
        for (const [k, x] of v as Map<unknown, unknown>) {
          const checkedKey = key(k, c);
          if (checkedKey === FAIL) return abandon(entry, c, `.keys(${label(k)})`);
          const checked = value(x, c);
          if (checked === FAIL) return abandon(entry, c, `.get(${label(k)})`);
          out.set(checkedKey, checked);
        }
        return done(entry, out);
      };
      return self;
    }
    case 'record': {
      const value = compileSchema(schema.value);
      const self: Checker = (v, c) => {
        if (!isPlainObject(v)) return fail(c, `expected an object, got ${describe(v)}`);
        const table = c.memo === null ? null : tableOf(c, self);
        if (table !== null) {
          const seen = table.get(v);
          if (seen !== undefined) return recall(seen, c);
        }
        c.work++;
        const out: Record<string, unknown> = {};
        const entry = enter(table, v, out);
        for (const k of Object.keys(v)) {
          const checked = value(v[k], c);
          if (checked === FAIL) return abandon(entry, c, `[${label(k)}]`);
          out[k] = checked;
        }
        return done(entry, out);
      };
      return self;
    }
    case 'object':
      return compileFields(schema.fields, undefined);
    case 'optional': {
      const inner = compileSchema(schema.inner);
      return (v, c) => (v === undefined ? v : inner(v, c));
    }
    case 'nullable': {
      const inner = compileSchema(schema.inner);
      return (v, c) => (v === null ? v : inner(v, c));
    }
    case 'union': {
      const options = schema.options.map(compileSchema);
      return (v, c) => {
        for (const option of options) {
          const work = c.work;
          const checked = option(v, c);
          if (checked !== FAIL) return checked;
          if (c.fatal) return FAIL;
          // An option that walked objects before failing may be followed by one that walks
          // them again: from now on, remember results. (One that failed at once, as a message
          // of another type does, cost nothing: discriminated unions stay allocation-free.)
          if (c.memo === null && c.work !== work) c.memo = new Map();
        }
        return fail(c, `${describe(v)} matches no option of the union`);
      };
    }
    case 'message': {
      const thunk = schema.def;
      let check: Checker | undefined;
      return (v, c) => (check ??= compileMessage(thunk()))(v, c);
    }
    case 'lazy': {
      const thunk = schema.get;
      let check: Checker | undefined;
      return (v, c) => (check ??= compileSchema(thunk()))(v, c);
    }
  }
}

/**
 * Checks a decoded value against a message type and returns the normalised message, or
 * throws `CodecError` (`HERALD_ERR_SCHEMA` or `HERALD_ERR_UNKNOWN_TYPE`) with a `path`.
 * `graph` must be true when the value may hold shared references or cycles; then the JSON
 * values of the message may expand (written out as trees) to at most `maxJsonNodes` nodes
 * in all (the codec passes its `maxMessageBytes`: one byte per node at least).
 */
export function validateMessage(
  def: AnyMessageType,
  value: unknown,
  lookup: TypeLookup,
  graph: boolean,
  maxJsonNodes: number = DEFAULT_MAX_MESSAGE_BYTES,
): AnyMessage {
  const check = compileMessage(def);
  const ctx = context;
  ctx.lookup = lookup;
  ctx.graph = graph;
  ctx.memo = graph ? new Map() : null;
  ctx.json = null;
  ctx.jsonBudget = maxJsonNodes;
  ctx.fatal = false;
  ctx.work = 0;
  // (Checked before writing: assigning `length` on every call is measurable on small messages.)
  if (ctx.path.length !== 0) ctx.path.length = 0;
  let result: unknown;
  try {
    result = check(value, ctx);
  } catch (error) {
    if (error instanceof RangeError) {
      throw new CodecError('HERALD_ERR_MALFORMED', `${def.type}: value nested too deeply`, {
        cause: error,
      });
    }
    throw error;
  } finally {
    codecProbe.validationWork = ctx.work;
    ctx.memo = null;
    ctx.json = null;
  }
  if (result === FAIL) {
    const path = def.type + ctx.path.reverse().join('');
    ctx.path.length = 0;
    throw new CodecError(ctx.code, `${path}: ${ctx.message}`, { path });
  }
  return result as AnyMessage;
}

/** Compiles (and caches) the validator of `def` ahead of time. */
export function precompile(def: AnyMessageType): void {
  compileMessage(def);
}
