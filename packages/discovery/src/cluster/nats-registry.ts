/**
 * The cluster-scope Registry (contracts §5): listings kept in a NATS JetStream KV bucket, so
 * processes on many machines that reach one NATS cluster find each other by name.
 *
 * Why a KV bucket rather than plain subjects with heartbeats: a watcher that starts late
 * gets every live listing from the bucket at once (its last value per key), with no query
 * round in which every publisher must answer; the bucket's max age (= the TTL) drops a dead
 * publisher's listing on the server, so nobody who starts watching later sees it; and
 * JetStream keeps the listings across a restart of the NATS server. What the bucket does
 * not do is tell watchers when an entry ages out (servers before 2.11 expire silently), so
 * each watcher keeps its own deadline per listing, renewed by every heartbeat it sees.
 *
 * - put(): the listing is written under `<name>.<id>` and re-written every `heartbeatMs`
 *   (TTL / 3: two heartbeats may be lost). remove() deletes the key: watchers see it at once.
 * - A publisher that dies stops its heartbeats: every watcher reports the listing removed
 *   at most `ttlMs` after the last heartbeat it saw (plus the clock skew between the
 *   publisher's NATS server and the watcher, for listings it learned at start-up).
 * - watch(): `added` for every matching listing in the bucket and every new one, `removed`
 *   when one is deleted or expires; a listing re-put with different content is `removed`
 *   then `added`. Exact searches filter on the server (by key); glob and regex searches are
 *   run here over every listing (names are bounded, searches are checked by compileSearch).
 * - The NATS server restarts (or the connection drops): the client reconnects for ever
 *   (every `reconnectWaitMs`); while it is away no listing expires (nothing can be known);
 *   once back, the bucket is opened again (created if the server lost it), this registry's
 *   own listings are put again, and every watch starts again from the bucket's contents:
 *   listings no longer there are reported removed, new ones added. Listings still there
 *   but dead are removed when their deadline (renewed to a full TTL on reconnect) passes.
 *
 * Nothing that happens in operation is thrown: a failed put or delete, a bad value in the
 * bucket, a watch that failed, go to `onError` (and are retried by the heartbeat, the
 * reconnect or a retry timer). Only bad arguments throw (HERALD_ERR_BAD_OPTION / _SEARCH).
 */
import { systemClock, type Clock, type TimerHandle } from '@herald/runtime';
import { connect, type KV, type KvEntry, type NatsConnection, type QueuedIterator } from 'nats';
import { DiscoveryError } from '../errors.js';
import type { Listing, Registry, Search } from '../registry.js';
import { checkName, compileSearch, type NameMatcher } from '../search.js';
import {
  DEFAULT_NATS_BUCKET,
  DEFAULT_NATS_MAX_BUCKET_BYTES,
  DEFAULT_NATS_RECONNECT_WAIT_MS,
  DEFAULT_NATS_REQUEST_TIMEOUT_MS,
  DEFAULT_NATS_RETRY_MS,
  DEFAULT_NATS_TTL_MS,
  MAX_LISTING_BYTES,
  MIN_NATS_TTL_MS,
  NATS_HEARTBEATS_PER_TTL,
} from './constants.js';
import {
  decodeListing,
  encodeListing,
  listingKey,
  listingProblem,
  nameFilter,
  parseListingKey,
} from './listing-codec.js';

type WatchEvent = { kind: 'added' | 'removed'; listing: Listing };

export interface NatsRegistryOptions {
  /** NATS server URLs (`nats://host:4222`); required unless `connection` is given. */
  readonly servers?: string | readonly string[];
  /**
   * A NATS connection to use instead (it is not closed by close(); its reconnect policy is
   * its owner's). The registry still re-puts and re-watches on its reconnects.
   */
  readonly connection?: NatsConnection;
  /** The KV bucket; default {@link DEFAULT_NATS_BUCKET}. Every process of a cluster uses the same one. */
  readonly bucket?: string;
  /**
   * Lifetime of a listing without a heartbeat, and the bucket's max age; default
   * {@link DEFAULT_NATS_TTL_MS}. Every process using the bucket must agree (the first one
   * to create the bucket sets its max age).
   */
  readonly ttlMs?: number;
  /**
   * Largest size of the bucket when this registry creates it; default
   * {@link DEFAULT_NATS_MAX_BUCKET_BYTES}. Puts beyond it fail (reported to onError).
   */
  readonly maxBucketBytes?: number;
  /** Time between heartbeats; default ttlMs / {@link NATS_HEARTBEATS_PER_TTL}. */
  readonly heartbeatMs?: number;
  /** Wait between reconnect attempts (own connection only); default {@link DEFAULT_NATS_RECONNECT_WAIT_MS}. */
  readonly reconnectWaitMs?: number;
  /** Wait before retrying a failed bucket set-up or watch; default {@link DEFAULT_NATS_RETRY_MS}. */
  readonly retryMs?: number;
  /** Time a KV request (put, delete, watch set-up) may take; default {@link DEFAULT_NATS_REQUEST_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Timers (heartbeats, expiry, retries); default the system clock. */
  readonly clock?: Clock;
  /** What went wrong in operation (a failed put, a bad value in the bucket); default: ignored. */
  readonly onError?: (error: Error) => void;
  /** The NATS connection's name (own connection only), as servers show it. */
  readonly name?: string;
}

interface Known {
  readonly listing: Listing;
  /** The stored value, to tell a refresh from a change. */
  readonly value: string;
  deadline: number;
}

interface Watch {
  readonly matches: NameMatcher;
  /** Key filter: one name's keys for an exact search, everything otherwise. */
  readonly filter: string;
  readonly onEvent: (e: WatchEvent) => void;
  readonly known: Map<string, Known>;
  /** The running KV watch; entries from an older one are ignored. */
  iter: QueuedIterator<KvEntry> | undefined;
  stopped: boolean;
  timer: TimerHandle | undefined;
  /** When the expiry timer fires (Infinity when none is set). */
  due: number;
  retry: TimerHandle | undefined;
}

interface Own {
  readonly listing: Listing;
  readonly key: string;
  readonly value: Uint8Array;
}

function checkWhole(name: string, value: number | undefined, min: number): void {
  if (value === undefined) return;
  if (!Number.isSafeInteger(value) || value < min)
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      `createNatsRegistry: ${name} must be a whole number of at least ${min}, got ${value}`,
    );
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/** A Registry in a NATS KV bucket. See the file comment. */
export class NatsRegistry implements Registry {
  readonly #nc: NatsConnection;
  readonly #ownConnection: boolean;
  readonly #bucket: string;
  readonly #ttlMs: number;
  readonly #heartbeatMs: number;
  readonly #retryMs: number;
  readonly #clock: Clock;
  readonly #onError: (error: Error) => void;
  readonly #own = new Map<string, Own>();
  /** Retry timers of puts that failed while connected, by listing id. */
  readonly #retrying = new Map<string, TimerHandle>();
  readonly #timeoutMs: number;
  readonly #maxBucketBytes: number;
  readonly #watches = new Set<Watch>();
  #kv: Promise<KV>;
  #connected = true;
  #closed = false;
  #heartbeat: TimerHandle | undefined;

  /** @internal Use {@link createNatsRegistry}. */
  constructor(nc: NatsConnection, ownConnection: boolean, options: NatsRegistryOptions, kv: KV) {
    this.#nc = nc;
    this.#ownConnection = ownConnection;
    this.#bucket = options.bucket ?? DEFAULT_NATS_BUCKET;
    this.#ttlMs = options.ttlMs ?? DEFAULT_NATS_TTL_MS;
    this.#heartbeatMs =
      options.heartbeatMs ?? Math.max(1, Math.floor(this.#ttlMs / NATS_HEARTBEATS_PER_TTL));
    this.#retryMs = options.retryMs ?? DEFAULT_NATS_RETRY_MS;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_NATS_REQUEST_TIMEOUT_MS;
    this.#maxBucketBytes = options.maxBucketBytes ?? DEFAULT_NATS_MAX_BUCKET_BYTES;
    this.#clock = options.clock ?? systemClock;
    this.#onError = options.onError ?? (() => {});
    this.#kv = Promise.resolve(kv);
    void this.#followStatus();
  }

  /** The bucket's name. */
  get bucket(): string {
    return this.#bucket;
  }

  /** Publishes or refreshes `listing`; heartbeats keep it alive until remove() or close(). */
  async put(listing: Listing): Promise<void> {
    checkName(listing.name);
    const problem = listingProblem(listing);
    if (problem !== undefined)
      throw new DiscoveryError('HERALD_ERR_BAD_OPTION', `NatsRegistry.put: ${problem}`);
    if (this.#closed) return;
    const value = encodeListing(listing);
    if (value.length > MAX_LISTING_BYTES)
      throw new DiscoveryError(
        'HERALD_ERR_BAD_OPTION',
        `NatsRegistry.put: listing of ${value.length} bytes (at most ${MAX_LISTING_BYTES})`,
      );
    const previous = this.#own.get(listing.id);
    const own: Own = { listing, key: listingKey(listing.name, listing.id), value };
    this.#own.set(listing.id, own);
    if (previous !== undefined && previous.key !== own.key) await this.#delete(previous.key);
    await this.#write(own);
    this.#armHeartbeat();
  }

  /** Withdraws a listing put by this registry: watchers see it removed at once. */
  async remove(id: string): Promise<void> {
    const own = this.#own.get(id);
    if (own === undefined) return;
    this.#own.delete(id);
    await this.#delete(own.key);
  }

  watch(search: Search, onEvent: (e: WatchEvent) => void): () => void {
    const matches = compileSearch(search);
    const watch: Watch = {
      matches,
      filter: search.kind === 'exact' ? nameFilter(search.pattern) : '>',
      onEvent,
      known: new Map(),
      iter: undefined,
      stopped: this.#closed,
      timer: undefined,
      due: Infinity,
      retry: undefined,
    };
    if (!this.#closed) {
      this.#watches.add(watch);
      void this.#startWatch(watch);
    }
    return () => this.#stopWatch(watch);
  }

  /** Deletes this registry's listings (so watchers see them go now), stops, and disconnects. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#heartbeat !== undefined) this.#clock.clearTimeout(this.#heartbeat);
    this.#heartbeat = undefined;
    for (const timer of this.#retrying.values()) this.#clock.clearTimeout(timer);
    this.#retrying.clear();
    for (const watch of [...this.#watches]) this.#stopWatch(watch);
    const own = [...this.#own.values()];
    this.#own.clear();
    if (this.#connected && !this.#nc.isClosed())
      await Promise.all(own.map((o) => this.#delete(o.key)));
    if (this.#ownConnection && !this.#nc.isClosed()) await this.#nc.close();
  }

  async #write(own: Own): Promise<void> {
    try {
      const kv = await this.#kv;
      await kv.put(own.key, own.value);
    } catch (error) {
      if (this.#closed) return;
      this.#onError(asError(error));
      // Not again at the next heartbeat only: a put lost to a server that was still
      // starting is retried soon (the reconnect puts everything again anyway).
      if (this.#connected && !this.#retrying.has(own.listing.id)) {
        const timer = this.#clock.setTimeout(() => {
          this.#retrying.delete(own.listing.id);
          if (this.#own.get(own.listing.id) === own && this.#connected && !this.#closed)
            void this.#write(own);
        }, this.#retryMs);
        this.#retrying.set(own.listing.id, timer);
      }
    }
  }

  async #delete(key: string): Promise<void> {
    try {
      const kv = await this.#kv;
      await kv.delete(key);
    } catch (error) {
      this.#onError(asError(error));
    }
  }

  #armHeartbeat(): void {
    if (this.#heartbeat !== undefined || this.#closed) return;
    this.#heartbeat = this.#clock.setTimeout(() => {
      this.#heartbeat = undefined;
      if (this.#closed || this.#own.size === 0) return;
      // Heartbeats wait while disconnected: the reconnect puts everything again.
      if (this.#connected) for (const own of this.#own.values()) void this.#write(own);
      this.#armHeartbeat();
    }, this.#heartbeatMs);
  }

  async #startWatch(watch: Watch): Promise<void> {
    if (watch.stopped) return;
    const seen = new Set<string>();
    let initialized = false;
    let iter: QueuedIterator<KvEntry>;
    try {
      const kv = await this.#kv;
      if (watch.stopped) return;
      iter = await kv.watch({
        key: watch.filter,
        initializedFn: () => {
          initialized = true;
          // Whatever was known before this watch started and is not in the bucket now, went.
          for (const [key, known] of [...watch.known]) {
            if (seen.has(key)) continue;
            watch.known.delete(key);
            this.#tell(watch, 'removed', known.listing);
          }
          this.#armExpiry(watch);
        },
      });
    } catch (error) {
      if (this.#closed || watch.stopped) return;
      this.#onError(asError(error));
      watch.retry = this.#clock.setTimeout(() => {
        watch.retry = undefined;
        if (this.#connected) void this.#startWatch(watch);
      }, this.#retryMs);
      return;
    }
    if (watch.stopped) {
      iter.stop();
      return;
    }
    watch.iter?.stop();
    watch.iter = iter;
    try {
      for await (const entry of iter) {
        if (watch.iter !== iter || watch.stopped) break;
        if (!initialized) seen.add(entry.key);
        this.#onEntry(watch, entry);
      }
    } catch (error) {
      if (!this.#closed && !watch.stopped && watch.iter === iter) this.#onError(asError(error));
    }
    // The watch ended by itself (not replaced, not stopped): start it again.
    if (watch.iter === iter && !watch.stopped && !this.#closed) {
      watch.iter = undefined;
      if (this.#connected)
        watch.retry = this.#clock.setTimeout(() => {
          watch.retry = undefined;
          if (this.#connected && watch.iter === undefined) void this.#startWatch(watch);
        }, this.#retryMs);
    }
  }

  #onEntry(watch: Watch, entry: KvEntry): void {
    const key = parseListingKey(entry.key);
    if (key === undefined) return;
    const old = watch.known.get(entry.key);
    if (entry.operation !== 'PUT') {
      if (old === undefined) return;
      watch.known.delete(entry.key);
      this.#tell(watch, 'removed', old.listing);
      return;
    }
    const listing = decodeListing(entry.value, key);
    if (typeof listing === 'string') {
      this.#onError(
        new DiscoveryError(
          'HERALD_ERR_BAD_OPTION',
          `bucket ${this.#bucket}: ignored key ${entry.key}: ${listing}`,
        ),
      );
      if (old !== undefined) {
        watch.known.delete(entry.key);
        this.#tell(watch, 'removed', old.listing);
      }
      return;
    }
    if (!watch.matches(listing.name)) return;
    const value = Buffer.from(entry.value).toString('utf8');
    const deadline = this.#clock.now() + this.#remainingLife(entry.created);
    if (old !== undefined && old.value === value) {
      old.deadline = Math.max(old.deadline, deadline);
      return;
    }
    watch.known.set(entry.key, { listing, value, deadline });
    if (old !== undefined) this.#tell(watch, 'removed', old.listing);
    this.#tell(watch, 'added', listing);
    // A timer already due earlier serves (a start-up snapshot does not re-scan per entry).
    if (watch.timer === undefined || deadline < watch.due) this.#armExpiry(watch);
  }

  /**
   * How long a listing written at `created` (server time) has left: the TTL less its age,
   * or the whole TTL when the clocks disagree so much the age makes no sense.
   */
  #remainingLife(created: Date): number {
    const age = Date.now() - created.getTime();
    return age >= 0 && age <= this.#ttlMs ? this.#ttlMs - age : this.#ttlMs;
  }

  #tell(watch: Watch, kind: 'added' | 'removed', listing: Listing): void {
    if (watch.stopped) return;
    try {
      watch.onEvent({ kind, listing });
    } catch (error) {
      this.#onError(asError(error));
    }
  }

  /** One timer per watch, at its earliest deadline. */
  #armExpiry(watch: Watch): void {
    if (watch.timer !== undefined) this.#clock.clearTimeout(watch.timer);
    watch.timer = undefined;
    watch.due = Infinity;
    if (watch.stopped || watch.known.size === 0) return;
    let earliest = Infinity;
    for (const known of watch.known.values()) earliest = Math.min(earliest, known.deadline);
    watch.due = earliest;
    watch.timer = this.#clock.setTimeout(
      () => {
        watch.timer = undefined;
        watch.due = Infinity;
        // While disconnected nothing expires: the reconnect renews every deadline.
        if (!this.#connected || watch.stopped) return;
        const now = this.#clock.now();
        for (const [key, known] of [...watch.known]) {
          if (known.deadline > now) continue;
          watch.known.delete(key);
          this.#tell(watch, 'removed', known.listing);
        }
        this.#armExpiry(watch);
      },
      Math.max(0, earliest - this.#clock.now()),
    );
  }

  #stopWatch(watch: Watch): void {
    watch.stopped = true;
    this.#watches.delete(watch);
    watch.iter?.stop();
    watch.iter = undefined;
    if (watch.timer !== undefined) this.#clock.clearTimeout(watch.timer);
    if (watch.retry !== undefined) this.#clock.clearTimeout(watch.retry);
    watch.timer = watch.retry = undefined;
    watch.known.clear();
  }

  async #followStatus(): Promise<void> {
    for await (const status of this.#nc.status()) {
      if (this.#closed) return;
      if (status.type === 'disconnect') this.#connected = false;
      else if (status.type === 'reconnect') {
        this.#connected = true;
        void this.#recover();
      }
    }
  }

  /** After a reconnect: the bucket again, our listings again, every watch again. */
  async #recover(): Promise<void> {
    let kv: KV | undefined;
    while (kv === undefined && this.#connected && !this.#closed) {
      try {
        kv = await openBucket(this.#nc, this.#bucket, {
          ttlMs: this.#ttlMs,
          timeoutMs: this.#timeoutMs,
          maxBucketBytes: this.#maxBucketBytes,
        });
      } catch (error) {
        this.#onError(asError(error));
        await new Promise<void>((resolve) => this.#clock.setTimeout(resolve, this.#retryMs));
      }
    }
    if (kv === undefined) return;
    this.#kv = Promise.resolve(kv);
    await Promise.all([...this.#own.values()].map((own) => this.#write(own)));
    const renewed = this.#clock.now() + this.#ttlMs;
    for (const watch of this.#watches) {
      for (const known of watch.known.values()) known.deadline = Math.max(known.deadline, renewed);
      this.#armExpiry(watch);
      watch.iter?.stop();
      watch.iter = undefined;
      void this.#startWatch(watch);
    }
  }
}

/** Opens the bucket, creating it (history 1, max age = TTL) when it does not exist. */
async function openBucket(
  nc: NatsConnection,
  bucket: string,
  limits: { readonly ttlMs: number; readonly timeoutMs: number; readonly maxBucketBytes: number },
): Promise<KV> {
  const timeoutMs = limits.timeoutMs;
  const views = nc.jetstream({ timeout: timeoutMs }).views;
  try {
    return await views.kv(bucket, {
      history: 1,
      ttl: limits.ttlMs,
      maxValueSize: MAX_LISTING_BYTES,
      max_bytes: limits.maxBucketBytes,
      timeout: timeoutMs,
    });
  } catch (error) {
    // It exists with another configuration (another TTL): use it as it is.
    const existing = await views
      .kv(bucket, { bindOnly: true, timeout: timeoutMs })
      .catch(() => undefined);
    if (existing === undefined) throw error;
    await existing.status();
    return existing;
  }
}

/**
 * Connects to NATS (or uses `options.connection`) and opens the bucket. Rejects when the
 * server cannot be reached or has no JetStream; throws HERALD_ERR_BAD_OPTION for bad options.
 */
export async function createNatsRegistry(options: NatsRegistryOptions): Promise<NatsRegistry> {
  checkWhole('ttlMs', options.ttlMs, MIN_NATS_TTL_MS);
  checkWhole('heartbeatMs', options.heartbeatMs, 1);
  checkWhole('reconnectWaitMs', options.reconnectWaitMs, 1);
  checkWhole('retryMs', options.retryMs, 1);
  checkWhole('timeoutMs', options.timeoutMs, 1);
  checkWhole('maxBucketBytes', options.maxBucketBytes, 1024);
  const ttlMs = options.ttlMs ?? DEFAULT_NATS_TTL_MS;
  if (options.heartbeatMs !== undefined && options.heartbeatMs >= ttlMs)
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      `createNatsRegistry: heartbeatMs (${options.heartbeatMs}) must be shorter than ttlMs (${ttlMs})`,
    );
  const bucket = options.bucket ?? DEFAULT_NATS_BUCKET;
  if (!/^[-\w]+$/.test(bucket))
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      `createNatsRegistry: bucket ${JSON.stringify(bucket)} is not letters, digits, - and _`,
    );
  if (options.connection === undefined && options.servers === undefined)
    throw new DiscoveryError('HERALD_ERR_BAD_OPTION', 'createNatsRegistry: servers or connection');
  const nc =
    options.connection ??
    (await connect({
      servers: typeof options.servers === 'string' ? options.servers : [...(options.servers ?? [])],
      maxReconnectAttempts: -1,
      reconnectTimeWait: options.reconnectWaitMs ?? DEFAULT_NATS_RECONNECT_WAIT_MS,
      ...(options.name !== undefined ? { name: options.name } : {}),
    }));
  try {
    const kv = await openBucket(nc, bucket, {
      ttlMs,
      timeoutMs: options.timeoutMs ?? DEFAULT_NATS_REQUEST_TIMEOUT_MS,
      maxBucketBytes: options.maxBucketBytes ?? DEFAULT_NATS_MAX_BUCKET_BYTES,
    });
    return new NatsRegistry(nc, options.connection === undefined, options, kv);
  } catch (error) {
    if (options.connection === undefined) await nc.close();
    throw error;
  }
}
