/**
 * A JSON-safe copy of a value, for inspection events that leave the process (the browser
 * inspector, logs): addresses become their text, byte arrays their length, bigints their
 * decimal text; functions, symbols and undefined fields are left out; cycles and depth past
 * JSON_SAFE_MAX_DEPTH become a marker string. Never throws.
 */
import { isAddress } from '@herald/codec';

/** How deep a copy goes before it writes `'[deep]'` (a machine's context can be large). */
export const JSON_SAFE_MAX_DEPTH = 8;

/** Array items and object fields copied per level before the rest is summarised. */
const JSON_SAFE_MAX_ENTRIES = 256;

export function jsonSafe(value: unknown): unknown {
  return copy(value, 0, new WeakSet());
}

function copy(value: unknown, depth: number, seen: WeakSet<object>): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      return Number.isFinite(value) ? value : String(value);
    case 'bigint':
      return value.toString();
    case 'undefined':
    case 'function':
    case 'symbol':
      return undefined;
  }
  if (value === null) return null;
  const object = value as object;
  if (isAddress(object)) return object.toString();
  if (object instanceof Uint8Array) return { bytes: object.length };
  if (object instanceof Date) return Number.isNaN(object.getTime()) ? null : object.toISOString();
  if (object instanceof Error) return { name: object.name, message: object.message };
  if (seen.has(object)) return '[cycle]';
  if (depth >= JSON_SAFE_MAX_DEPTH) return '[deep]';
  seen.add(object);
  try {
    if (Array.isArray(object)) {
      const out = object
        .slice(0, JSON_SAFE_MAX_ENTRIES)
        .map((v) => copy(v, depth + 1, seen) ?? null);
      if (object.length > JSON_SAFE_MAX_ENTRIES)
        out.push(`[${object.length - JSON_SAFE_MAX_ENTRIES} more]`);
      return out;
    }
    if (object instanceof Map) return copy(Object.fromEntries(object), depth, seen);
    if (object instanceof Set) return copy([...object], depth, seen);
    // An xstate actor reference (a child, a spawned actor): its session id, not its innards.
    const sessionId = (object as { sessionId?: unknown }).sessionId;
    if (typeof sessionId === 'string' && typeof (object as { send?: unknown }).send === 'function')
      return { actorRef: sessionId };
    const out: Record<string, unknown> = {};
    let n = 0;
    for (const key of Object.keys(object)) {
      if (n++ >= JSON_SAFE_MAX_ENTRIES) {
        out['…'] = `${Object.keys(object).length - JSON_SAFE_MAX_ENTRIES} more fields`;
        break;
      }
      let field: unknown;
      try {
        field = (object as Record<string, unknown>)[key];
      } catch {
        field = '[unreadable]';
      }
      const safe = copy(field, depth + 1, seen);
      if (safe !== undefined) out[key] = safe;
    }
    return out;
  } finally {
    seen.delete(object);
  }
}
