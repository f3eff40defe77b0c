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
 *   validated once and its result reused, so identity and cycles survive validation.
 *
 * Validators never throw while checking: they return the `FAIL` sentinel and record the
 * reason in a module-level context (validation is synchronous and never re-entered), so the
 * hot path allocates nothing but the output values.
 */
import { Address } from './address.js';
import { MAX_JSON_DEPTH } from './constants.js';
import { CodecError, type CodecErrorCode } from './errors.js';
import type { AnyMessage, AnyMessageType, Fields, Schema } from './schema.js';

/** Where `anyMessage` looks types up: a catalogue. */
export interface TypeLookup {
  get(name: string): AnyMessageType | undefined;
}

const FAIL: unique symbol = Symbol('herald.codec.fail');
type Checker = (value: unknown, ctx: Context) => unknown;

interface Context {
  lookup: TypeLookup;
  memo: Map<object, unknown> | null;
  code: CodecErrorCode;
  message: string;
  /** Path segments, innermost first (pushed while the failure unwinds). */
  path: string[];
}

const context: Context = {
  lookup: { get: () => undefined },
  memo: null,
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

function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    const name = (Object.getPrototypeOf(value) as { constructor?: { name?: string } } | null)
      ?.constructor?.name;
    return name === undefined || name === 'Object' ? 'object' : name;
  }
  return typeof value;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

const schemaCache = new WeakMap<object, Checker>();
const messageCache = new WeakMap<AnyMessageType, Checker>();

const checkNumber: Checker = (v, c) =>
  typeof v === 'number' ? v : fail(c, `expected a number, got ${describe(v)}`);
const checkInt: Checker = (v, c) =>
  Number.isSafeInteger(v) ? v : fail(c, `expected a safe integer, got ${describe(v)} ${String(v)}`);
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

function isJson(value: unknown, depth: number): boolean {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return true;
    case 'number':
      return Number.isFinite(value);
    case 'object': {
      if (value === null) return true;
      if (depth >= MAX_JSON_DEPTH) return false;
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) if (!isJson(value[i], depth + 1)) return false;
        return true;
      }
      if (!isPlainObject(value)) return false;
      for (const key in value) if (!isJson(value[key], depth + 1)) return false;
      return true;
    }
    default:
      return false;
  }
}
const checkJson: Checker = (v, c) =>
  isJson(v, 0) ? v : fail(c, `expected a JSON value (no cycles, depth < ${MAX_JSON_DEPTH})`);

const checkAnyMessage: Checker = (v, c) => {
  if (!isPlainObject(v) || typeof v.type !== 'string') {
    return fail(c, `expected a message, got ${describe(v)}`);
  }
  const def = c.lookup.get(v.type);
  if (def === undefined) {
    return fail(
      c,
      `message type ${JSON.stringify(v.type)} is not in the catalogue`,
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
  const label = typeName === undefined ? 'an object' : `message ${typeName}`;
  return (v, c) => {
    if (!isPlainObject(v)) return fail(c, `expected ${label}, got ${describe(v)}`);
    if (typeName !== undefined && v.type !== typeName) {
      return fail(c, `expected message ${typeName}, got ${JSON.stringify(v.type) ?? 'no type'}`);
    }
    const memo = c.memo;
    if (memo !== null) {
      const seen = memo.get(v);
      if (seen !== undefined) return seen;
    }
    const out: Record<string, unknown> = typeName === undefined ? {} : { type: typeName };
    if (memo !== null) memo.set(v, out);
    for (let i = 0; i < count; i++) {
      const name = names[i] as string;
      let raw = v[name];
      if (raw !== undefined && inherited[i] === true && !Object.hasOwn(v, name)) raw = undefined;
      if (raw === undefined) {
        if (optional[i] === true) continue;
        fail(c, 'missing required field');
        c.path.push(`.${name}`);
        memo?.delete(v);
        return FAIL;
      }
      const checked = (checks[i] as Checker)(raw, c);
      if (checked === FAIL) {
        c.path.push(`.${name}`);
        memo?.delete(v);
        return FAIL;
      }
      out[name] = checked;
    }
    return out;
  };
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
      return (v, c) =>
        v === expected ? v : fail(c, `expected ${JSON.stringify(expected)}, got ${describe(v)}`);
    }
    case 'enum': {
      const values = new Set<unknown>(schema.values);
      return (v, c) =>
        values.has(v) ? v : fail(c, `expected one of ${[...values].join(', ')}, got ${String(v)}`);
    }
    case 'array': {
      const element = compileSchema(schema.element);
      const max = schema.maxLength;
      return (v, c) => {
        if (!Array.isArray(v)) return fail(c, `expected an array, got ${describe(v)}`);
        if (max !== undefined && v.length > max) {
          return fail(c, `array of length ${v.length} exceeds maxLength ${max}`);
        }
        const memo = c.memo;
        if (memo !== null) {
          const seen = memo.get(v);
          if (seen !== undefined) return seen;
        }
        const out: unknown[] = [];
        if (memo !== null) memo.set(v, out);
        for (let i = 0; i < v.length; i++) {
          const checked = element(v[i], c);
          if (checked === FAIL) {
            c.path.push(`[${i}]`);
            memo?.delete(v);
            return FAIL;
          }
          out.push(checked);
        }
        return out;
      };
    }
    case 'set': {
      const element = compileSchema(schema.element);
      return (v, c) => {
        // A Set is written as a msgpackr Set extension; a plain array is accepted too.
        if (!(v instanceof Set) && !Array.isArray(v)) {
          return fail(c, `expected a Set, got ${describe(v)}`);
        }
        const memo = c.memo;
        if (memo !== null) {
          const seen = memo.get(v);
          if (seen !== undefined) return seen;
        }
        const out = new Set<unknown>();
        if (memo !== null) memo.set(v, out);
        let i = 0;
        for (const item of v as Iterable<unknown>) {
          const checked = element(item, c);
          if (checked === FAIL) {
            c.path.push(`[${i}]`);
            memo?.delete(v);
            return FAIL;
          }
          out.add(checked);
          i++;
        }
        return out;
      };
    }
    case 'map': {
      const key = compileSchema(schema.key);
      const value = compileSchema(schema.value);
      return (v, c) => {
        if (!(v instanceof Map)) return fail(c, `expected a Map, got ${describe(v)}`);
        const memo = c.memo;
        if (memo !== null) {
          const seen = memo.get(v);
          if (seen !== undefined) return seen;
        }
        const out = new Map<unknown, unknown>();
        if (memo !== null) memo.set(v, out);
        for (const [k, x] of v as Map<unknown, unknown>) {
          const checkedKey = key(k, c);
          if (checkedKey === FAIL) {
            c.path.push(`.keys(${String(k)})`);
            memo?.delete(v);
            return FAIL;
          }
          const checked = value(x, c);
          if (checked === FAIL) {
            c.path.push(`.get(${String(k)})`);
            memo?.delete(v);
            return FAIL;
          }
          out.set(checkedKey, checked);
        }
        return out;
      };
    }
    case 'record': {
      const value = compileSchema(schema.value);
      return (v, c) => {
        if (!isPlainObject(v)) return fail(c, `expected an object, got ${describe(v)}`);
        const memo = c.memo;
        if (memo !== null) {
          const seen = memo.get(v);
          if (seen !== undefined) return seen;
        }
        const out: Record<string, unknown> = {};
        if (memo !== null) memo.set(v, out);
        for (const k of Object.keys(v)) {
          const checked = value(v[k], c);
          if (checked === FAIL) {
            c.path.push(`[${JSON.stringify(k)}]`);
            memo?.delete(v);
            return FAIL;
          }
          out[k] = checked;
        }
        return out;
      };
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
          const checked = option(v, c);
          if (checked !== FAIL) return checked;
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
 * `graph` must be true when the value may hold shared references or cycles.
 */
export function validateMessage(
  def: AnyMessageType,
  value: unknown,
  lookup: TypeLookup,
  graph: boolean,
): AnyMessage {
  const check = compileMessage(def);
  const ctx = context;
  ctx.lookup = lookup;
  ctx.memo = graph ? new Map() : null;
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
    ctx.memo = null;
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
