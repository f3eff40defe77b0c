/**
 * The export table of one connection: the capabilities its peer holds.
 *
 * A peer can reach only (docs/security.md):
 * - the connection's default target (the session, or the controller), with an empty `to`;
 * - addresses this side has sent to that peer over this connection: the return address of
 *   every message, and the addresses inside message bodies;
 * - addresses exported explicitly (the `exports` option of listen() and connect()).
 *
 * Entries are hop stacks exactly as they went out on the wire (peer-relative), so an
 * inbound `to` is checked by looking up the stack as it arrives. One-hop stacks (a local
 * actor) are the common case and are kept in a map by id; longer ones (a path through
 * another connection: a relay this side has offered) by their joined form. The table is
 * bounded: the oldest entries give way first, so a long-lived connection that has been
 * sent many addresses keeps the recent ones. An entry is moved to the young end only when
 * it has aged past half the table (one `get` per export instead of a delete and a set):
 * anything exported within the last `max / 2` exports is never evicted.
 */
export class ExportTable {
  readonly #max: number;
  // Made on first use: an idle connection that was never sent an address holds none.
  /** Entry → the export count when it was last (re)inserted. */
  #localMade: Map<number, number> | undefined;
  #pathsMade: Map<string, number> | undefined;
  /** Exports so far: the age of an entry is `#count` minus its stamp. */
  #count = 0;
  /** Explicit exports: never evicted. */
  #pinned: Set<string> | undefined;
  /** The last one-hop export, so a stream of messages from one actor costs one compare. */
  #last = -1;

  constructor(max: number) {
    this.#max = max;
  }

  get #local(): Map<number, number> {
    return (this.#localMade ??= new Map());
  }

  get #paths(): Map<string, number> {
    return (this.#pathsMade ??= new Map());
  }

  get size(): number {
    return (this.#localMade?.size ?? 0) + (this.#pathsMade?.size ?? 0);
  }

  /** Records that `hops` (peer-relative, as sent) was given to the peer. */
  add(hops: readonly number[]): void {
    if (hops.length === 1) {
      const id = hops[0] as number;
      if (id === this.#last) return;
      this.#last = id;
      this.#stamp(this.#local, id);
    } else if (hops.length > 1) {
      this.#stamp(this.#paths, hops.join(','));
    } else {
      return;
    }
    if (this.size > this.#max) this.#evict();
  }

  /** Inserts `key`, or moves it to the young end once it is older than half the table. */
  #stamp<K>(table: Map<K, number>, key: K): void {
    const count = ++this.#count;
    const stamp = table.get(key);
    if (stamp !== undefined && count - stamp < this.#max / 2) return;
    if (stamp !== undefined) table.delete(key);
    table.set(key, count);
  }

  /** Exports `hops` for the life of the connection (the `exports` option). */
  pin(hops: readonly number[]): void {
    (this.#pinned ??= new Set()).add(hops.join(','));
  }

  /** Whether the peer was given `hops` (as it arrives in a `to` field). */
  has(hops: readonly number[]): boolean {
    if (hops.length === 1) {
      if (this.#localMade?.has(hops[0] as number) === true) return true;
    } else if (this.#pathsMade?.has(hops.join(',')) === true) return true;
    return this.#pinned !== undefined && this.#pinned.has(hops.join(','));
  }

  #evict(): void {
    // Evict from the larger table, oldest first.
    const table: Map<number, number> | Map<string, number> =
      this.#paths.size >= this.#local.size ? this.#paths : this.#local;
    const oldest = table.keys().next();
    if (oldest.done !== true) (table as Map<unknown, number>).delete(oldest.value);
    if (table === this.#local) this.#last = -1;
  }
}
