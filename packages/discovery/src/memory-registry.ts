/**
 * A Registry kept in memory: the process directory of every runtime, and the table of a
 * host or LAN directory. Watchers are told synchronously: `added` for every matching listing
 * already held when they start watching and for every put that is new or changed, `removed`
 * when a listing goes.
 */
import { MAX_ALLOW } from './constants.js';
import type { Listing, Registry, Search } from './registry.js';
import { compileSearch, type NameMatcher } from './search.js';

type WatchEvent = { kind: 'added' | 'removed'; listing: Listing };

interface Watcher {
  readonly matches: NameMatcher;
  readonly onEvent: (e: WatchEvent) => void;
}

export class MemoryRegistry implements Registry {
  readonly #listings = new Map<string, Listing>();
  readonly #watchers = new Set<Watcher>();
  #closed = false;

  /** Listings held now. */
  get size(): number {
    return this.#listings.size;
  }

  get(id: string): Listing | undefined {
    return this.#listings.get(id);
  }

  listings(): IterableIterator<Listing> {
    return this.#listings.values();
  }

  put(listing: Listing): Promise<void> {
    this.putNow(listing);
    return Promise.resolve();
  }

  /** put() without the promise, for callers inside an actor's turn. */
  putNow(listing: Listing): void {
    if (this.#closed) return;
    const old = this.#listings.get(listing.id);
    if (old !== undefined && sameListing(old, listing)) return;
    if (old !== undefined && old.name !== listing.name) this.removeNow(listing.id);
    this.#listings.set(listing.id, listing);
    this.#tell('added', listing);
  }

  remove(id: string): Promise<void> {
    this.removeNow(id);
    return Promise.resolve();
  }

  removeNow(id: string): void {
    const listing = this.#listings.get(id);
    if (listing === undefined) return;
    this.#listings.delete(id);
    this.#tell('removed', listing);
  }

  watch(search: Search, onEvent: (e: WatchEvent) => void): () => void {
    const watcher: Watcher = { matches: compileSearch(search), onEvent };
    this.#watchers.add(watcher);
    for (const listing of [...this.#listings.values()]) {
      if (watcher.matches(listing.name)) onEvent({ kind: 'added', listing });
    }
    return () => {
      this.#watchers.delete(watcher);
    };
  }

  close(): Promise<void> {
    this.#closed = true;
    this.#watchers.clear();
    this.#listings.clear();
    return Promise.resolve();
  }

  #tell(kind: 'added' | 'removed', listing: Listing): void {
    for (const watcher of [...this.#watchers]) {
      if (this.#watchers.has(watcher) && watcher.matches(listing.name)) {
        watcher.onEvent({ kind, listing });
      }
    }
  }
}

function sameListing(a: Listing, b: Listing): boolean {
  return (
    a.name === b.name &&
    a.identity === b.identity &&
    a.relay === b.relay &&
    JSON.stringify(a.endpoints) === JSON.stringify(b.endpoints) &&
    JSON.stringify(a.allow?.slice(0, MAX_ALLOW)) === JSON.stringify(b.allow?.slice(0, MAX_ALLOW))
  );
}
