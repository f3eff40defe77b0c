/**
 * The catalogue: the set of message types a codec can encode and decode, by stable name.
 * There is no global catalogue; each runtime or codec gets its own.
 */
import { CodecError } from './errors.js';
import type { AnyMessageType } from './schema.js';

export interface Catalogue extends Iterable<AnyMessageType> {
  /**
   * Adds message types. Re-adding the very same definition is a no-op; another definition
   * under a name already present throws `HERALD_ERR_DUPLICATE_TYPE` (and adds nothing).
   */
  add(...defs: AnyMessageType[]): this;
  /** The definition registered under `name`, if any. */
  get(name: string): AnyMessageType | undefined;
  has(name: string): boolean;
  /** Registered names in insertion order. */
  names(): string[];
  /** Number of registered types. */
  readonly size: number;
  /** Adds every type of `other` to this catalogue (same duplicate rule as `add`). */
  merge(other: Catalogue): this;
  /** A new catalogue holding this one's types plus `more`; this one is left unchanged. */
  extend(...more: Array<AnyMessageType | Catalogue>): Catalogue;
}

function isMessageType(value: unknown): value is AnyMessageType {
  return (
    typeof value === 'function' &&
    typeof (value as { type?: unknown }).type === 'string' &&
    typeof (value as { fields?: unknown }).fields === 'object'
  );
}

class MessageCatalogue implements Catalogue {
  readonly #types = new Map<string, AnyMessageType>();

  get size(): number {
    return this.#types.size;
  }

  add(...defs: AnyMessageType[]): this {
    // Check everything first so a failing call leaves the catalogue unchanged.
    const pending = new Map<string, AnyMessageType>();
    for (const def of defs) {
      if (!isMessageType(def)) {
        throw new CodecError('HERALD_ERR_BAD_TYPE_NAME', 'catalogue.add expects message types');
      }
      const existing = this.#types.get(def.type) ?? pending.get(def.type);
      if (existing !== undefined && existing !== def) {
        throw new CodecError(
          'HERALD_ERR_DUPLICATE_TYPE',
          `message type ${def.type} is already defined by another definition`,
        );
      }
      pending.set(def.type, def);
    }
    for (const [name, def] of pending) this.#types.set(name, def);
    return this;
  }

  get(name: string): AnyMessageType | undefined {
    return this.#types.get(name);
  }

  has(name: string): boolean {
    return this.#types.has(name);
  }

  names(): string[] {
    return [...this.#types.keys()];
  }

  merge(other: Catalogue): this {
    return this.add(...other);
  }

  extend(...more: Array<AnyMessageType | Catalogue>): Catalogue {
    const next = new MessageCatalogue().add(...this);
    for (const item of more) {
      if (isMessageType(item)) next.add(item);
      else next.merge(item);
    }
    return next;
  }

  [Symbol.iterator](): Iterator<AnyMessageType> {
    return this.#types.values();
  }
}

/** Creates a catalogue, optionally holding `defs`. */
export function createCatalogue(defs: readonly AnyMessageType[] = []): Catalogue {
  return new MessageCatalogue().add(...defs);
}
