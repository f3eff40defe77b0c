/**
 * What the browser inspector receives over its WebSocket, and how fast: at most
 * `updatesPerSecond` messages a second per browser, whatever the runtime does.
 *
 * Every tick (on the runtime's clock) the feed reads the runtime once and builds one
 * `update` for every browser that is in step: what changed since the last tick (actors
 * added, removed or changed, new dead letters, new xstate events) plus the small current
 * lists (status, connections, groups, message rates). A browser that is new, or that fell
 * behind, gets a whole `snapshot` instead. A browser falls behind when more than
 * `maxBufferedBytes` of what was sent to it is still unread (its WebSocket's
 * `bufferedAmount`): it is sent nothing until it has read that, then one snapshot. So a
 * slow browser costs at most one snapshot's worth of buffer plus the bound, never a queue
 * that grows. Between ticks the feed holds at most `maxEvents` dead letters and xstate
 * events; past that it drops them and sends everyone a snapshot.
 */
import { Address } from '@herald/codec';
import type { Clock, Runtime, TimerHandle, XstateInspection } from '@herald/runtime';
import type { Activity, DeadLetterRecord } from './activity.js';
import { actorEntries, connectionEntries, groupEntries } from './collect.js';
import { statusOf } from './management-actor.js';
import type { ActorEntry, ConnectionEntry, GroupEntry, Status } from './messages.js';

/** Events held between two ticks before the feed gives up on increments. */
export const DEFAULT_INSPECTOR_MAX_EVENTS = 500;

/** Entries of each list the inspector shows (actors, connections, groups). */
export const DEFAULT_INSPECTOR_LIST_LIMIT = 2_000;

/** An xstate inspection event as the inspector shows it. */
export interface XstateRecord {
  readonly at: number;
  readonly actor: string;
  /** `@xstate.snapshot`, `@xstate.event` or `@xstate.actor`. */
  readonly type: string;
  /** For snapshots the state value, for events the event's type, for actors the xstate id. */
  readonly value?: unknown;
}

/** One browser: something that takes text and says how much of it is still unsent. */
export interface FeedClient {
  send(text: string): void;
  readonly bufferedAmount: number;
}

interface Gauges {
  readonly at: number;
  readonly status: Omit<Status, 'type'>;
  readonly connections: ConnectionEntry[];
  readonly groups: GroupEntry[];
  /** Messages per second delivered to each actor that received any since the last tick. */
  readonly rates: Record<string, number>;
  readonly messagesPerSecond: number;
  readonly deadLettersBy: Record<string, number>;
}

export interface InspectorSnapshot extends Gauges {
  readonly type: 'snapshot';
  readonly actors: ActorEntry[];
  readonly totals: { readonly actors: number };
  readonly deadLetters: readonly DeadLetterRecord[];
  readonly xstate: readonly XstateRecord[];
}

export interface InspectorUpdate extends Gauges {
  readonly type: 'update';
  readonly actors: {
    readonly added: ActorEntry[];
    readonly removed: string[];
    readonly changed: ActorEntry[];
  };
  readonly deadLetters: readonly DeadLetterRecord[];
  readonly xstate: readonly XstateRecord[];
}

export interface InspectorFeedOptions {
  readonly clock: Clock;
  readonly updatesPerSecond: number;
  readonly maxBufferedBytes: number;
  readonly maxEvents?: number;
  readonly history: number;
  readonly listLimit?: number;
}

interface ClientState {
  readonly client: FeedClient;
  /** Needs a whole snapshot next (new, or fell behind). */
  stale: boolean;
}

export class InspectorFeed {
  readonly #runtime: Runtime;
  readonly #activity: Activity;
  readonly #options: Required<InspectorFeedOptions>;
  readonly #clients = new Set<ClientState>();
  /** What the in-step browsers were last told about each actor (JSON of its entry). */
  #published = new Map<string, string>();
  #pendingDeadLetters: DeadLetterRecord[] = [];
  #pendingXstate: XstateRecord[] = [];
  readonly #recentXstate: XstateRecord[] = [];
  #overflowed = false;
  #timer: TimerHandle | undefined;
  #lastTick: number;
  #lastDelivered = new Map<number, number>();
  #lastTotal = 0;
  #unlisten: (() => void) | undefined;
  #uninspect: (() => void) | undefined;
  /** Messages sent to browsers, for tests and the endpoint's own accounting. */
  sent = 0;

  constructor(runtime: Runtime, activity: Activity, options: InspectorFeedOptions) {
    this.#runtime = runtime;
    this.#activity = activity;
    this.#options = {
      maxEvents: DEFAULT_INSPECTOR_MAX_EVENTS,
      listLimit: DEFAULT_INSPECTOR_LIST_LIMIT,
      ...options,
    };
    this.#lastTick = options.clock.now();
  }

  get clients(): number {
    return this.#clients.size;
  }

  /** Adds a browser; it gets a snapshot on the next tick. Returns its removal. */
  add(client: FeedClient): () => void {
    const state: ClientState = { client, stale: true };
    this.#clients.add(state);
    if (this.#clients.size === 1) this.#start();
    return () => {
      this.#clients.delete(state);
      if (this.#clients.size === 0) this.#stop();
    };
  }

  close(): void {
    this.#clients.clear();
    this.#stop();
  }

  /** One tick: what a timer does; public for tests that drive the feed by hand. */
  tick(): void {
    const now = this.#options.clock.now();
    const gauges = this.#gauges(now);
    const actors = actorEntries(this.#runtime, this.#options.listLimit);
    const current = new Map(actors.items.map((a) => [a.address, JSON.stringify(a)] as const));
    const delta = this.#overflowed ? undefined : this.#diff(current, actors.items);
    let snapshotText: string | undefined;
    let updateText: string | undefined;
    for (const state of this.#clients) {
      if (state.client.bufferedAmount > this.#options.maxBufferedBytes) {
        state.stale = true; // behind: nothing more until it has read what it has
        continue;
      }
      if (state.stale || delta === undefined) {
        snapshotText ??= JSON.stringify({
          type: 'snapshot',
          ...gauges,
          actors: actors.items,
          totals: { actors: actors.total },
          deadLetters: this.#activity.recentDeadLetters,
          xstate: this.#recentXstate,
        } satisfies InspectorSnapshot);
        state.client.send(snapshotText);
        state.stale = false;
      } else {
        updateText ??= JSON.stringify({
          type: 'update',
          ...gauges,
          actors: delta,
          deadLetters: this.#pendingDeadLetters,
          xstate: this.#pendingXstate,
        } satisfies InspectorUpdate);
        state.client.send(updateText);
      }
      this.sent++;
    }
    this.#published = current;
    this.#pendingDeadLetters = [];
    this.#pendingXstate = [];
    this.#overflowed = false;
  }

  #diff(
    current: Map<string, string>,
    items: readonly ActorEntry[],
  ): InspectorUpdate['actors'] | undefined {
    const added: ActorEntry[] = [];
    const changed: ActorEntry[] = [];
    const removed: string[] = [];
    for (const entry of items) {
      const before = this.#published.get(entry.address);
      if (before === undefined) added.push(entry);
      else if (before !== current.get(entry.address)) changed.push(entry);
    }
    for (const address of this.#published.keys()) if (!current.has(address)) removed.push(address);
    if (added.length + changed.length + removed.length > this.#options.maxEvents) return undefined;
    return { added, removed, changed };
  }

  #gauges(now: number): Gauges {
    const seconds = Math.max(0.001, (now - this.#lastTick) / 1000);
    this.#lastTick = now;
    const rates: Record<string, number> = {};
    const counts = this.#activity.deliveredBy;
    for (const [local, count] of counts) {
      const delta = count - (this.#lastDelivered.get(local) ?? 0);
      if (delta > 0) rates[new Address([local]).toString()] = round(delta / seconds);
    }
    this.#lastDelivered = new Map(counts);
    const total = this.#activity.delivered;
    const messagesPerSecond = round((total - this.#lastTotal) / seconds);
    this.#lastTotal = total;
    return {
      at: Date.now(),
      status: statusOf(this.#runtime, this.#activity),
      connections: connectionEntries(this.#runtime, this.#options.listLimit).items,
      groups: groupEntries(this.#runtime, this.#options.listLimit).items,
      rates,
      messagesPerSecond,
      deadLettersBy: Object.fromEntries(this.#activity.deadLettersBy),
    };
  }

  #start(): void {
    this.#lastTick = this.#options.clock.now();
    this.#lastDelivered = new Map(this.#activity.deliveredBy);
    this.#lastTotal = this.#activity.delivered;
    this.#unlisten = this.#activity.listen((event) => {
      if (event.kind === 'dead-letter') this.#hold(this.#pendingDeadLetters, event.deadLetter);
    });
    // xstate events come on the runtime's inspection stream, which also turns on its
    // per-message events: listened to only while a browser is watching.
    this.#uninspect = this.#runtime.inspect((event) => {
      if (event.kind !== 'xstate') return;
      const record = xstateRecord(event);
      this.#recentXstate.push(record);
      if (this.#recentXstate.length > this.#options.history) this.#recentXstate.shift();
      this.#hold(this.#pendingXstate, record);
    });
    this.#schedule();
  }

  #stop(): void {
    if (this.#timer !== undefined) this.#options.clock.clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#unlisten?.();
    this.#uninspect?.();
    this.#unlisten = this.#uninspect = undefined;
    this.#published = new Map();
    this.#pendingDeadLetters = [];
    this.#pendingXstate = [];
  }

  #schedule(): void {
    const timer = this.#options.clock.setTimeout(() => {
      this.#timer = undefined;
      try {
        this.tick();
      } catch (error) {
        this.#runtime.logger.error({ err: error }, 'inspector tick failed');
      }
      if (this.#clients.size > 0) this.#schedule();
    }, 1000 / this.#options.updatesPerSecond);
    // A real timer must not keep the process alive on its own.
    (timer as { unref?: () => void }).unref?.();
    this.#timer = timer;
  }

  #hold<T>(list: T[], item: T): void {
    if (this.#overflowed) return;
    if (list.length >= this.#options.maxEvents) {
      this.#overflowed = true; // everyone gets a snapshot instead
      this.#pendingDeadLetters = [];
      this.#pendingXstate = [];
      return;
    }
    list.push(item);
  }
}

function xstateRecord(inspection: XstateInspection): XstateRecord {
  const { event } = inspection;
  const value =
    event.type === '@xstate.snapshot'
      ? event.snapshot.value
      : event.type === '@xstate.event'
        ? event.event.type
        : event.id;
  return {
    at: Date.now(),
    actor: inspection.actor.toString(),
    type: event.type,
    // Already JSON-safe (the runtime copies it); `undefined` stays out of the record.
    ...(value === undefined ? {} : { value }),
  };
}

function round(value: number): number {
  return Math.round(value * 10) / 10;
}
