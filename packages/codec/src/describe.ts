/**
 * Safe, bounded descriptions of untrusted values for error messages and paths.
 *
 * Decoded values come from a peer, so an error message must never be built with
 * `JSON.stringify` (throws on a bigint or a cycle, and walks a whole shared graph), `String()`
 * (throws on an object whose `toString`/`valueOf` were replaced by plain data, or on a symbol)
 * or a template literal of the raw value. These helpers never throw, never call code held by
 * the value, and never return more than about MAX_LABEL_CHARS characters, whatever they are
 * given.
 */

/** Longest excerpt of a string or bigint shown in a message. */
export const MAX_LABEL_CHARS = 64;

/** Bigints up to this magnitude are printed; larger ones are only named (printing is slow). */
const MAX_PRINTED_BIGINT = 2n ** 128n;

/** The kind of a value: `null`, `array`, `object`, a class name, or its `typeof`. */
export function describe(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'object') {
    // Prototypes of decoded values are built-ins; a class name is plain data there.
    const proto: unknown = Object.getPrototypeOf(value);
    if (proto === null || proto === Object.prototype) return 'object';
    const ctor: unknown = Object.getOwnPropertyDescriptor(proto, 'constructor')?.value;
    const name: unknown =
      typeof ctor === 'function' ? Object.getOwnPropertyDescriptor(ctor, 'name')?.value : '';
    return typeof name === 'string' && name !== '' ? clip(name) : 'object';
  }
  return typeof value;
}

/**
 * A short literal for a primitive (`"abc"`, `12`, `5n`, `true`), the kind for anything else:
 * what a message says the offending value was.
 */
export function label(value: unknown): string {
  switch (typeof value) {
    case 'string':
      return value.length > MAX_LABEL_CHARS
        ? `${JSON.stringify(value.slice(0, MAX_LABEL_CHARS))}... (${value.length} chars)`
        : JSON.stringify(value);
    case 'number':
    case 'boolean':
    case 'undefined':
      return String(value);
    case 'bigint':
      return value <= MAX_PRINTED_BIGINT && value >= -MAX_PRINTED_BIGINT
        ? `${value.toString()}n`
        : 'a large bigint';
    case 'symbol':
      return 'a symbol';
    case 'function':
      return 'a function';
    default:
      return describe(value);
  }
}

function clip(text: string): string {
  return text.length > MAX_LABEL_CHARS ? `${text.slice(0, MAX_LABEL_CHARS)}...` : text;
}
