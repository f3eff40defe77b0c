/**
 * The embedded store behind durable outboxes and persistent de-duplication windows: one
 * lmdb environment (a directory) per process role, with a named database per outbox and per
 * inbox. lmdb (by msgpackr's author) is memory-mapped, crash-safe (copy-on-write B+tree:
 * a torn write never corrupts committed data) and commits batches on a worker thread, so
 * the event loop never waits for the disk.
 *
 * fsync policy (docs/patterns.md, "Durability and fsync"), measured on this project's CI
 * disk, where one fsync costs 6-12 ms and a commit without one about 0.2 ms:
 *
 * - `sync: 'batched'` (the default): every write made in one event-loop turn joins one
 *   transaction, committed and fsynced on lmdb's worker thread; `committed()` resolves
 *   after that fsync. One fsync covers every send of the turn, so a producer that sends in
 *   bursts pays one disk flush per burst, not per message, and the event loop never waits.
 *   A persistent send is durable (SIGKILL and power loss) once `committed()` resolves;
 *   before that a crash may lose it, and the sender was not told it was safe.
 * - `sync: 'per-message'`: each persistent send commits and fsyncs its own transaction
 *   before `send()` returns (blocking the event loop for the fsync). For a producer that
 *   cannot wait for a promise; one fsync per message.
 *
 * `overlappingSync` (lmdb's default on Linux) is off: with it, even a commit that asks not
 * to wait for the flush waited for the previous one (6.8 ms per commit here against 0.24 ms).
 *
 * An inbox's record of a received message is committed synchronously, without its own
 * fsync, before the application sees the message (0.24 ms): a receiver killed at any point
 * never hands the same message to its application twice after a restart. The record
 * reaches the disk with the next fsync of the environment (any batched commit, or lmdb's
 * own). A power loss (not a process kill) may forget the last records, so the messages
 * they stood for could be delivered again after the reboot; with `'per-message'` every
 * record is fsynced too and even that cannot happen.
 */
import { randomBytes } from 'node:crypto';
import { open, TransactionFlags, type Database, type RootDatabase } from 'lmdb';
import { BadPatternOptionError, StoreError } from './errors.js';

export type SyncPolicy = 'batched' | 'per-message';

export interface DurableStoreOptions {
  /** When writes reach the disk; see the module comment. Default `'batched'`. */
  readonly sync?: SyncPolicy;
}

/** An outbox record on disk. */
export interface OutboxRecord {
  /** The target: `a` any peer, `i:<key>` an identity, `n:<name>` a declared name. */
  readonly target: string;
  /** Transmissions so far (persisted on each retransmission, so restarts do not reset it). */
  readonly attempts: number;
  /** The message, encoded self-contained by the runtime's codec. */
  readonly body: Uint8Array;
}

/** A receiver's window for one sender, as stored. */
export interface WindowRecord {
  readonly floor: number;
  readonly seen: readonly number[];
  /** Clock time it was last heard from (for forgetting the least recent sender). */
  readonly heard: number;
}

/** A durable store: open one per directory and hand it to createOutlet / createInbox. */
export interface DurableStore {
  readonly path: string;
  readonly sync: SyncPolicy;
  /** Resolves when every write made so far is committed (survives a SIGKILL). */
  committed(): Promise<void>;
  /** Resolves when every write made so far is on disk (survives power loss). */
  flushed(): Promise<void>;
  /** Closes the environment; pending writes are committed first. */
  close(): Promise<void>;
}

/** What an outlet uses (internal; reached through `outboxPartition`). */
export interface OutboxPartition {
  /** Stable across restarts: the sender id in every Reliable. */
  readonly senderId: string;
  /** Next sequence number to use (persisted with every put). */
  readonly nextSeq: number;
  /** Every record still held, in sequence order. */
  load(): Array<{ seq: number; record: OutboxRecord }>;
  /** Resolves when the record is committed (at once with per-message sync). */
  put(seq: number, record: OutboxRecord, nextSeq: number): Promise<unknown>;
  remove(seq: number): void;
}

/** What an inbox uses (internal). */
export interface InboxPartition {
  load(): Map<string, WindowRecord>;
  /** Commits synchronously (no fsync wait). */
  save(sender: string, record: WindowRecord): void;
  forget(sender: string): void;
}

/** Sub-databases one environment may hold (outboxes and inboxes together). */
const MAX_DBS = 64;
const SENDER_KEY = 'sender';
const SEQ_KEY = 'seq';

class LmdbStore implements DurableStore {
  readonly path: string;
  readonly sync: SyncPolicy;
  readonly #root: RootDatabase;
  readonly #partitions = new Set<string>();

  constructor(path: string, sync: SyncPolicy) {
    this.path = path;
    this.sync = sync;
    try {
      this.#root = open({
        path,
        maxDbs: MAX_DBS,
        overlappingSync: false,
      });
    } catch (error) {
      throw new StoreError(`cannot open the durable store at ${path}`, { cause: error });
    }
  }

  async committed(): Promise<void> {
    await this.#root.committed;
  }

  async flushed(): Promise<void> {
    await this.#root.flushed;
  }

  async close(): Promise<void> {
    await this.#root.close();
  }

  claim(kind: string, name: string): string {
    const id = `${kind}:${name}`;
    if (this.#partitions.has(id)) {
      throw new StoreError(
        `the ${kind} '${name}' of ${this.path} is already in use in this process`,
      );
    }
    this.#partitions.add(id);
    return id;
  }

  release(id: string): void {
    this.#partitions.delete(id);
  }

  #db(name: string): Database {
    return this.#root.openDB({ name });
  }

  outbox(name: string): OutboxPartition {
    const records: Database<OutboxRecord, number> = this.#db(`outbox:${name}`) as Database<
      OutboxRecord,
      number
    >;
    const meta: Database<unknown, string> = this.#db(`outbox-meta:${name}`) as Database<
      unknown,
      string
    >;
    let senderId = meta.get(SENDER_KEY);
    if (senderId === undefined) {
      senderId = randomBytes(16).toString('hex');
      meta.putSync(SENDER_KEY, senderId);
    }
    if (typeof senderId !== 'string') throw new StoreError(`bad sender id in ${this.path}`);
    const storedSeq = meta.get(SEQ_KEY) ?? 1;
    if (typeof storedSeq !== 'number') throw new StoreError(`bad sequence number in ${this.path}`);
    const perMessage = this.sync === 'per-message';
    return {
      senderId,
      nextSeq: storedSeq,
      load: () =>
        [...records.getRange()].map(({ key, value }) => {
          if (typeof key !== 'number' || typeof value?.target !== 'string') {
            throw new StoreError(`bad outbox record in ${this.path}`);
          }
          return { seq: key, record: value };
        }),
      put: (seq, record, nextSeq) => {
        if (perMessage) {
          records.transactionSync(() => {
            void records.put(seq, record);
            void meta.put(SEQ_KEY, nextSeq);
          });
          return Promise.resolve();
        }
        void records.put(seq, record);
        return meta.put(SEQ_KEY, nextSeq);
      },
      remove: (seq) => {
        void records.remove(seq);
      },
    };
  }

  inbox(name: string): InboxPartition {
    const windows = this.#db(`inbox:${name}`) as Database<WindowRecord, string>;
    const perMessage = this.sync === 'per-message';
    return {
      load: () => {
        const map = new Map<string, WindowRecord>();
        for (const { key, value } of windows.getRange()) {
          if (typeof key !== 'string' || typeof value?.floor !== 'number') {
            throw new StoreError(`bad inbox record in ${this.path}`);
          }
          map.set(key, value);
        }
        return map;
      },
      save: (sender, record) => {
        windows.transactionSync(
          () => void windows.put(sender, record),
          perMessage
            ? TransactionFlags.SYNCHRONOUS_COMMIT
            : TransactionFlags.SYNCHRONOUS_COMMIT | TransactionFlags.NO_SYNC_FLUSH,
        );
      },
      forget: (sender) => {
        void windows.remove(sender);
      },
    };
  }
}

/** Opens (creating if needed) the durable store in directory `path`. */
export function openDurableStore(path: string, options: DurableStoreOptions = {}): DurableStore {
  const sync = options.sync ?? 'batched';
  if (sync !== 'batched' && sync !== 'per-message') {
    throw new BadPatternOptionError(
      'sync',
      `sync must be 'batched' or 'per-message', not ${String(sync)}`,
    );
  }
  return new LmdbStore(path, sync);
}

/** The store's internals for outlets and inboxes of this package. */
export function storeInternals(store: DurableStore): LmdbStore {
  if (!(store instanceof LmdbStore)) {
    throw new StoreError('not a store made by openDurableStore()');
  }
  return store;
}
