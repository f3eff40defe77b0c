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
 * bounded: the oldest entries give way first (least recently exported), so a long-lived
 * connection that has been sent many addresses keeps the recent ones.
 */
export class ExportTable {
  readonly #max: number;
  // Made on first use: an idle connection that was never sent an address holds none.
  #localMade: Map<number, true> | undefined;
  #pathsMade: Map<string, true> | undefined;
  /** Explicit exports: never evicted. */
  #pinned: Set<string> | undefined;
  /** The last one-hop export, so a stream of messages from one actor costs one compare. */
  #last = -1;

  constructor(max: number) {
    this.#max = max;
  }

  get #local(): Map<number, true> {
    return (this.#localMade ??= new Map());
  }

  get #paths(): Map<string, true> {
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
      this.#local.delete(id);
      this.#local.set(id, true);
    } else if (hops.length > 1) {
      const key = hops.join(',');
      this.#paths.delete(key);
      this.#paths.set(key, true);
    } else {
      return;
    }
    if (this.size > this.#max) this.#evict();
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
    const table: Map<number, true> | Map<string, true> =
      this.#paths.size >= this.#local.size ? this.#paths : this.#local;
    const oldest = table.keys().next();
    if (oldest.done !== true) (table as Map<unknown, true>).delete(oldest.value);
    if (table === this.#local) this.#last = -1;
  }
}
