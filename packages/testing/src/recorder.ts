/**
 * A list that a test can await: log lines, the messages a probe received, dead letters.
 * Whoever records calls {@link Recorder.record}; a test reads the list, or waits for an
 * entry, either the first one that matches ({@link Recorder.waitFor}) or the next one after
 * the previous {@link Recorder.next} ({@link Recorder.next}).
 */
import { DEFAULT_WAIT_MS, Signal, waitFor } from './wait.js';

export interface RecorderWaitOptions {
  /** Bound on the wait. Default {@link DEFAULT_WAIT_MS}. */
  readonly timeoutMs?: number;
  /** What is awaited, for the timeout error. */
  readonly what?: string;
}

/** How many entries a timeout error quotes (the most recent). */
const QUOTED_ENTRIES = 8;

export class Recorder<T> {
  /** Everything recorded, oldest first. */
  readonly entries: T[] = [];
  /** Changes after every {@link Recorder.record}. */
  readonly signal = new Signal();
  /** Index after the entry the previous {@link Recorder.next} returned. */
  #cursor = 0;
  readonly #name: string;
  readonly #show: (entry: T) => string;

  /**
   * @param name What the entries are, for timeout errors ("log lines", "inbox").
   * @param show How an entry is quoted in a timeout error.
   */
  constructor(name: string, show: (entry: T) => string = (entry) => JSON.stringify(entry)) {
    this.#name = name;
    this.#show = show;
  }

  /** Appends `entry` and wakes every wait. */
  record(entry: T): void {
    this.entries.push(entry);
    this.signal.changed();
  }

  /** The first entry that `match` accepts, if any. */
  find(match: (entry: T) => boolean): T | undefined {
    return this.entries.find(match);
  }

  /** Every entry that `match` accepts, in order. */
  filter(match: (entry: T) => boolean): T[] {
    return this.entries.filter(match);
  }

  /** How many entries `match` accepts. */
  count(match: (entry: T) => boolean): number {
    return this.filter(match).length;
  }

  /** Resolves with the first entry, old or new, that `match` accepts. Does not move the cursor. */
  waitFor(match: (entry: T) => boolean, options: RecorderWaitOptions = {}): Promise<T> {
    return waitFor(() => this.find(match), this.#waitOptions(options));
  }

  /**
   * Resolves with the first entry that `match` accepts among those after the entry the
   * previous `next` returned, so successive calls walk forward in order and an entry that
   * arrived before the call is still found. Entries skipped over are not returned by a later
   * `next` (use {@link Recorder.waitFor} or {@link Recorder.find} to look back).
   */
  next(match: (entry: T) => boolean, options: RecorderWaitOptions = {}): Promise<T> {
    return waitFor(() => {
      for (let index = this.#cursor; index < this.entries.length; index++) {
        const entry = this.entries[index] as T;
        if (match(entry)) {
          this.#cursor = index + 1;
          return { entry };
        }
      }
      return undefined;
    }, this.#waitOptions(options)).then(({ entry }) => entry);
  }

  #waitOptions(options: RecorderWaitOptions) {
    return {
      on: this.signal,
      timeoutMs: options.timeoutMs ?? DEFAULT_WAIT_MS,
      what: options.what ?? `a matching entry in ${this.#name}`,
      describe: () => {
        const recent = this.entries.slice(-QUOTED_ENTRIES).map(this.#show);
        return `${this.#name} (${this.entries.length}, most recent last): ${recent.join(', ') || 'nothing'}`;
      },
    };
  }
}
