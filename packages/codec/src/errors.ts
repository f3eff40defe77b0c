/**
 * Herald's error base class, and the codec's errors.
 *
 * Every error Herald throws is a `HeraldError` with a stable `code` (catalogued in
 * docs/errors.md), a `name`, and the `cause` it was given. It lives here, in the lowest
 * layer, so the runtime and the network layer extend the same class.
 *
 * `instanceof` works across two copies of a package (two versions installed side by side,
 * or one loaded as ESM and one bundled): each class has a brand, a `Symbol.for(...)` key
 * that every copy shares, and `instanceof` checks the brand instead of the prototype chain.
 * The model is undici's `lib/core/errors.js`.
 */

/** The brand every Herald error carries. */
const HERALD_ERROR_BRAND = Symbol.for('herald.error');

/** Options every Herald error takes. */
export interface HeraldErrorOptions {
  readonly cause?: unknown;
}

/**
 * The base class of every error Herald throws. Subclasses declare `static readonly brand =
 * Symbol.for('herald.error.<Name>')`; an instance carries the brand of its class and of
 * every ancestor, so `err instanceof RuntimeError` and `err instanceof HeraldError` are
 * both true for a RuntimeError made by another copy of the package.
 */
export class HeraldError extends Error {
  /** This class's brand; each subclass declares its own (see the class comment). */
  static readonly brand: symbol = HERALD_ERROR_BRAND;

  override readonly name: string = 'HeraldError';
  /** Stable: switch on it. The message is for humans and may change. */
  readonly code: string;

  constructor(code: string, message: string, options: HeraldErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    // Brand the instance for its own class and every Herald ancestor. Non-enumerable, so
    // the brands do not show in logs or in deep equality.
    for (let c: unknown = new.target; isBranded(c); c = Object.getPrototypeOf(c)) {
      if (Object.hasOwn(c, 'brand')) {
        Object.defineProperty(this, c.brand, { value: true, enumerable: false });
      }
    }
  }

  /**
   * `value instanceof C` is true when `value` carries C's brand, whichever copy of the
   * package made it. A subclass without its own brand falls back to the prototype chain.
   */
  static override [Symbol.hasInstance](value: unknown): boolean {
    if (!Object.hasOwn(this, 'brand')) {
      return Function.prototype[Symbol.hasInstance].call(this, value);
    }
    return (
      typeof value === 'object' &&
      value !== null &&
      (value as Record<symbol, unknown>)[this.brand] === true
    );
  }
}

function isBranded(c: unknown): c is { readonly brand: symbol } {
  return typeof c === 'function' && typeof (c as { brand?: unknown }).brand === 'symbol';
}

/** True for any error thrown by Herald, from any copy of its packages. */
export function isHeraldError(value: unknown): value is HeraldError {
  return value instanceof HeraldError;
}

export type CodecErrorCode =
  | 'HERALD_ERR_BAD_TYPE_NAME'
  | 'HERALD_ERR_DUPLICATE_TYPE'
  | 'HERALD_ERR_UNKNOWN_TYPE'
  | 'HERALD_ERR_SCHEMA'
  | 'HERALD_ERR_MALFORMED'
  | 'HERALD_ERR_TOO_LARGE'
  | 'HERALD_ERR_ENCODE'
  | 'HERALD_ERR_UNKNOWN_STRUCTURE'
  | 'HERALD_ERR_STREAM_STATE'
  | 'HERALD_ERR_BAD_OPTION';

/** A codec error. The decoder never throws anything else for bad input. */
export class CodecError extends HeraldError {
  static override readonly brand: symbol = Symbol.for('herald.error.CodecError');

  override readonly name: string = 'CodecError';
  declare readonly code: CodecErrorCode;
  /** For schema errors: the path of the offending field, e.g. `Hello.items[3].name`. */
  readonly path: string | undefined;

  constructor(
    code: CodecErrorCode,
    message: string,
    options: { cause?: unknown; path?: string } = {},
  ) {
    super(code, message, options);
    this.path = options.path;
  }
}

export function isCodecError(value: unknown): value is CodecError {
  return value instanceof CodecError;
}
