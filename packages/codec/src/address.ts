/**
 * Addresses: opaque, comparable, printable, encodable.
 *
 * An address is a hop stack of positive integers (the model of ansar's tuples). Delivery
 * routes on the last hop, which is always an actor of the local runtime: for a local actor
 * the stack has one element; for an actor in another process the last element is the
 * local SocketProxy that stands for the peer, and the elements before it are the route
 * on the far side. Connections rewrite stacks as messages cross them (see
 * docs/wire-protocol.md, "Address translation"), so user code never builds one.
 *
 * Addresses are immutable and interned per runtime only by value: compare with
 * `equals()` or by `key`, never with `===`.
 */
export class Address {
  /** The hop stack, last element first to be routed on. Never empty. */
  readonly hops: readonly number[];
  #key: string | undefined;

  constructor(hops: readonly number[]) {
    this.hops = hops;
  }

  /** A string that is equal for equal addresses: use it as a Map key. Computed on first use. */
  get key(): string {
    if (this.#key === undefined) {
      const hops = this.hops;
      this.#key = hops.length === 1 ? String(hops[0]) : hops.join('.');
    }
    return this.#key;
  }

  /** The local actor a message to this address is delivered to. */
  get local(): number {
    return this.hops[this.hops.length - 1] as number;
  }

  /** True when the address names an actor of this runtime (no remote hops). */
  get isLocal(): boolean {
    return this.hops.length === 1;
  }

  equals(other: Address | null | undefined): boolean {
    if (other == null) return false;
    if (other === this) return true;
    const a = this.hops;
    const b = other.hops;
    if (a.length !== b.length) return false;
    for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
    return true;
  }

  /** `<0000000a>` for a local actor, `<00000013:00000014>` across one connection. */
  toString(): string {
    return `<${this.hops.map((h) => h.toString(16).padStart(8, '0')).join(':')}>`;
  }

  toJSON(): string {
    return this.toString();
  }
}

/** The null address: sends to it become dead letters. */
export const NO_ADDRESS = new Address([0]);

export function isAddress(value: unknown): value is Address {
  return value instanceof Address;
}
