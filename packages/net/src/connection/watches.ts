/**
 * All watch bookkeeping for one connection, both directions, in one place.
 *
 * - Outbound: a local actor (or, for a relayed Watch, a remote one behind another
 *   connection) watches a target reached through this connection. When the connection is
 *   lost, each such watcher is told Terminated: a watch is never left waiting on a
 *   connection that no longer exists. A Terminated from the peer is accepted only for a
 *   watch made through this connection (watch notices are protocol, not messages anyone
 *   may send).
 * - Inbound: the peer watches a target on this side (or behind another connection, when
 *   the Watch is relayed). Each one is recorded so that when this connection ends the
 *   target is sent Unwatch on the watcher's behalf: a gone peer leaves no watcher behind.
 *
 * Both tables are bounded per connection: what a peer can make this process hold is
 * counted and capped (docs/limits.md).
 */
import type { Address } from '@herald/codec';

interface Entry {
  readonly target: Address;
  readonly watchers: Map<string, Address>;
}

/** One watch: who watches what. */
export interface WatchPair {
  readonly target: Address;
  readonly watcher: Address;
}

class WatchTable {
  // Made on first use: most connections carry no watch at all.
  #made: Map<string, Entry> | undefined;
  #size = 0;

  get #entries(): Map<string, Entry> {
    return (this.#made ??= new Map());
  }

  get size(): number {
    return this.#size;
  }

  add(target: Address, watcher: Address): void {
    let entry = this.#entries.get(target.key);
    if (entry === undefined) {
      entry = { target, watchers: new Map() };
      this.#entries.set(target.key, entry);
    }
    if (!entry.watchers.has(watcher.key)) this.#size++;
    entry.watchers.set(watcher.key, watcher);
  }

  has(target: Address, watcher: Address): boolean {
    return this.#made?.get(target.key)?.watchers.has(watcher.key) === true;
  }

  delete(target: Address, watcher: Address): boolean {
    const entry = this.#made?.get(target.key);
    if (entry === undefined || !entry.watchers.delete(watcher.key)) return false;
    this.#size--;
    if (entry.watchers.size === 0) this.#entries.delete(target.key);
    return true;
  }

  drain(): WatchPair[] {
    const out: WatchPair[] = [];
    if (this.#made === undefined) return out;
    for (const entry of this.#made.values())
      for (const watcher of entry.watchers.values()) out.push({ target: entry.target, watcher });
    this.#entries.clear();
    this.#size = 0;
    return out;
  }
}

export class ConnectionWatches {
  readonly #outbound = new WatchTable();
  readonly #inbound = new WatchTable();
  readonly #max: number;

  /** `max`: watches held per direction for this connection. */
  constructor(max: number) {
    this.#max = max;
  }

  /** Watches made through this connection, and watches the peer made of this side. */
  get sizes(): { outbound: number; inbound: number } {
    return { outbound: this.#outbound.size, inbound: this.#inbound.size };
  }

  /** A Watch goes out to the peer. False when the table is full (the watch is refused). */
  watchOut(target: Address, watcher: Address): boolean {
    if (!this.#outbound.has(target, watcher) && this.#outbound.size >= this.#max) return false;
    this.#outbound.add(target, watcher);
    return true;
  }

  unwatchOut(target: Address, watcher: Address): void {
    this.#outbound.delete(target, watcher);
  }

  /**
   * A Terminated arrived from the peer: true (and the watch is done) when it answers a
   * watch made through this connection; false for anything else, which is refused.
   */
  terminatedIn(target: Address, watcher: Address): boolean {
    return this.#outbound.delete(target, watcher);
  }

  /** The peer watches `target`. False when the table is full (the watch is refused). */
  watchIn(target: Address, watcher: Address): boolean {
    if (!this.#inbound.has(target, watcher) && this.#inbound.size >= this.#max) return false;
    this.#inbound.add(target, watcher);
    return true;
  }

  unwatchIn(target: Address, watcher: Address): void {
    this.#inbound.delete(target, watcher);
  }

  /** A watched target told its remote watcher Terminated: that watch is over. */
  terminatedOut(target: Address, watcher: Address): void {
    this.#inbound.delete(target, watcher);
  }

  /**
   * The connection ended: `lost` are the watches made through it (tell each watcher
   * Terminated), `released` the peer's watches of this side (send each target Unwatch).
   */
  end(): { lost: WatchPair[]; released: WatchPair[] } {
    return { lost: this.#outbound.drain(), released: this.#inbound.drain() };
  }
}
