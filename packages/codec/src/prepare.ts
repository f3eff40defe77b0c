/**
 * Preparation of a message for a plain (record-less) body.
 *
 * Plain bodies write objects as msgpack maps, which is what makes small self-contained
 * messages as fast as raw msgpackr; but then a JS Map would come back as an object. So, before
 * a plain pack, every Map reachable from the message is replaced (copy-on-write, the caller's
 * value is never mutated) by a `MapEntries` wrapper that has its own extension. The
 * preparation is compiled once per message type from its schema; types whose schema cannot
 * reach a Map (no `map`, `unknown`, `anyMessage` or `union`) get `null`: no work at all.
 */
import { MapEntries } from './extensions.js';
import type { AnyMessageType, Fields, Schema } from './schema.js';

export type Prepare = (value: unknown) => unknown;

const messageCache = new WeakMap<AnyMessageType, Prepare | null>();
const schemaCache = new WeakMap<object, Prepare | null>();

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Replaces every Map inside `value` by a MapEntries, copying only what changes. */
export function wrapMapsDeep(value: unknown): unknown {
  if (typeof value !== 'object' || value === null) return value;
  if (value instanceof Map) {
    const flat: unknown[] = [];
    for (const [k, v] of value as Map<unknown, unknown>)
      flat.push(wrapMapsDeep(k), wrapMapsDeep(v));
    return new MapEntries(flat);
  }
  if (Array.isArray(value)) {
    let out: unknown[] | null = null;
    for (let i = 0; i < value.length; i++) {
      const item: unknown = value[i];
      const wrapped = wrapMapsDeep(item);
      if (wrapped !== item && out === null) out = value.slice(0, i);
      if (out !== null) out.push(wrapped);
    }
    return out ?? value;
  }
  if (value instanceof Set) {
    let changed = false;
    const items: unknown[] = [];
    for (const item of value) {
      const wrapped = wrapMapsDeep(item);
      if (wrapped !== item) changed = true;
      items.push(wrapped);
    }
    return changed ? new Set(items) : value;
  }
  if (isPlainObject(value)) {
    let out: Record<string, unknown> | null = null;
    for (const key of Object.keys(value)) {
      const item = value[key];
      const wrapped = wrapMapsDeep(item);
      if (wrapped !== item) {
        out ??= { ...value };
        out[key] = wrapped;
      }
    }
    return out ?? value;
  }
  return value;
}

function mayHoldMap(schema: Schema, seen: Set<unknown>): boolean {
  switch (schema.kind) {
    case 'map':
    case 'unknown':
    case 'anyMessage':
    case 'union':
      return true;
    case 'array':
    case 'set':
      return mayHoldMap(schema.element, seen);
    case 'record':
      return mayHoldMap(schema.value, seen);
    case 'optional':
    case 'nullable':
      return mayHoldMap(schema.inner, seen);
    case 'object':
      return fieldsMayHoldMap(schema.fields, seen);
    case 'message': {
      const def = schema.def();
      if (seen.has(def)) return false;
      seen.add(def);
      return fieldsMayHoldMap(def.fields, seen);
    }
    case 'lazy': {
      if (seen.has(schema)) return false;
      seen.add(schema);
      return mayHoldMap(schema.get(), seen);
    }
    default:
      return false;
  }
}

function fieldsMayHoldMap(fields: Fields, seen: Set<unknown>): boolean {
  for (const name of Object.keys(fields)) if (mayHoldMap(fields[name] as Schema, seen)) return true;
  return false;
}

function compileFields(fields: Fields): Prepare | null {
  const names: string[] = [];
  const preps: Prepare[] = [];
  for (const name of Object.keys(fields)) {
    const prep = compileSchema(fields[name] as Schema);
    if (prep !== null) {
      names.push(name);
      preps.push(prep);
    }
  }
  if (names.length === 0) return null;
  return (value) => {
    if (!isPlainObject(value)) return value;
    let out: Record<string, unknown> | null = null;
    for (let i = 0; i < names.length; i++) {
      const name = names[i] as string;
      const item = value[name];
      if (item === undefined) continue;
      const prepared = (preps[i] as Prepare)(item);
      if (prepared !== item) {
        out ??= { ...value };
        out[name] = prepared;
      }
    }
    return out ?? value;
  };
}

function compileSchema(schema: Schema): Prepare | null {
  if (schemaCache.has(schema)) return schemaCache.get(schema) ?? null;
  // Provisional entry: a recursive reference resolves lazily through 'message'/'lazy'.
  schemaCache.set(schema, null);
  const prep = mayHoldMap(schema, new Set()) ? buildPrepare(schema) : null;
  schemaCache.set(schema, prep);
  return prep;
}

function buildPrepare(schema: Schema): Prepare {
  switch (schema.kind) {
    case 'array':
    case 'set':
    case 'record':
    case 'unknown':
    case 'anyMessage':
    case 'union':
      // Containers of values that may hold Maps: the generic walk is exact and copy-on-write.
      return wrapMapsDeep;
    case 'map':
      return wrapMapsDeep;
    case 'optional':
    case 'nullable': {
      const inner = compileSchema(schema.inner) ?? ((v: unknown) => v);
      return (v) => (v === undefined || v === null ? v : inner(v));
    }
    case 'object':
      return compileFields(schema.fields) ?? ((v: unknown) => v);
    case 'message': {
      const thunk = schema.def;
      let prep: Prepare | undefined;
      return (v) => (prep ??= prepareForPlain(thunk()) ?? ((x: unknown) => x))(v);
    }
    case 'lazy': {
      const thunk = schema.get;
      let prep: Prepare | undefined;
      return (v) => (prep ??= compileSchema(thunk()) ?? ((x: unknown) => x))(v);
    }
    default:
      return (v) => v;
  }
}

/** The preparation of a message type for plain bodies, or null when none is needed. */
export function prepareForPlain(def: AnyMessageType): Prepare | null {
  if (messageCache.has(def)) return messageCache.get(def) ?? null;
  messageCache.set(def, null);
  const prep = fieldsMayHoldMap(def.fields, new Set([def])) ? compileFields(def.fields) : null;
  messageCache.set(def, prep);
  return prep;
}
