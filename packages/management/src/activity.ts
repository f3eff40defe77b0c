/**
 * Counts what happens in one runtime, from the diagnostics channels (docs/observability.md):
 * messages delivered (in all and per actor, for message rates), dead letters by reason
 * with a bounded ring of the recent ones, actors created and ended, connections opened
 * and closed. The management endpoint, the inspector and the Prometheus metrics read it.
 *
 * A channel is process-wide, so every event is checked against this runtime. Subscribing
 * costs the runtime one object per published event while it lasts; `close()` unsubscribes
 * and the channels go back to costing one property read.
 */
import diagnostics from 'node:diagnostics_channel';
import type { Address, AnyMessage } from '@herald/codec';
import { CHANNEL_CONNECTION_CLOSED, CHANNEL_CONNECTION_OPENED } from '@herald/net';
import {
  CHANNEL_ACTOR_CREATED,
  CHANNEL_ACTOR_DESTROYED,
  CHANNEL_DEAD_LETTER,
  CHANNEL_MESSAGE_DELIVERED,
  type DeadLetter,
  type Runtime,
} from '@herald/runtime';
import { DEFAULT_INSPECTOR_HISTORY } from './constants.js';

/** A dead letter as tools show it: strings only, the body left out (it may be large or secret). */
export interface DeadLetterRecord {
  readonly at: number;
  readonly to: string;
  readonly from: string;
  readonly messageType: string;
  readonly reason: string;
  readonly detail?: string;
}

/** What the activity tells its listeners as it happens. */
export type ActivityEvent =
  | {
      readonly kind: 'created';
      readonly actor: string;
      readonly name: string;
      readonly parent: string | null;
    }
  | { readonly kind: 'destroyed'; readonly actor: string; readonly name: string }
  | { readonly kind: 'dead-letter'; readonly deadLetter: DeadLetterRecord }
  | { readonly kind: 'connection-opened'; readonly proxy: string }
  | { readonly kind: 'connection-closed'; readonly proxy: string; readonly reason: string };

interface RuntimeTagged {
  readonly runtime?: unknown;
}

export class Activity {
  /** Messages delivered to this runtime's actors since the activity started. */
  delivered = 0;
  /**
   * Messages delivered per actor, keyed by its local id (a number: this runs for every
   * message, and formatting the address each time would cost more than the count).
   */
  readonly deliveredBy = new Map<number, number>();
  readonly deadLettersBy = new Map<string, number>();
  deadLetters = 0;
  created = 0;
  destroyed = 0;
  connectionsOpened = 0;
  connectionsClosed = 0;
  readonly recentDeadLetters: DeadLetterRecord[] = [];
  readonly startedAt = Date.now();

  readonly #runtime: Runtime;
  readonly #history: number;
  readonly #listeners = new Set<(event: ActivityEvent) => void>();
  readonly #subscriptions: [string, (message: unknown) => void][] = [];

  constructor(runtime: Runtime, options: { history?: number } = {}) {
    this.#runtime = runtime;
    this.#history = options.history ?? DEFAULT_INSPECTOR_HISTORY;
    this.#on(CHANNEL_MESSAGE_DELIVERED, (m: { actor: Address }) => {
      this.delivered++;
      const key = m.actor.local;
      this.deliveredBy.set(key, (this.deliveredBy.get(key) ?? 0) + 1);
    });
    this.#on(CHANNEL_DEAD_LETTER, (m: { deadLetter: DeadLetter }) =>
      this.#deadLetter(m.deadLetter),
    );
    this.#on(CHANNEL_ACTOR_CREATED, (m: { actor: Address; name: string; parent?: Address }) => {
      this.created++;
      this.#emit({
        kind: 'created',
        actor: m.actor.toString(),
        name: m.name,
        parent: m.parent === undefined ? null : m.parent.toString(),
      });
    });
    this.#on(CHANNEL_ACTOR_DESTROYED, (m: { actor: Address; name: string }) => {
      this.destroyed++;
      const actor = m.actor.toString();
      this.deliveredBy.delete(m.actor.local);
      this.#emit({ kind: 'destroyed', actor, name: m.name });
    });
    this.#on(CHANNEL_CONNECTION_OPENED, (m: { proxy: Address }) => {
      this.connectionsOpened++;
      this.#emit({ kind: 'connection-opened', proxy: m.proxy.toString() });
    });
    this.#on(CHANNEL_CONNECTION_CLOSED, (m: { proxy: Address; reason?: unknown }) => {
      this.connectionsClosed++;
      this.#emit({
        kind: 'connection-closed',
        proxy: m.proxy.toString(),
        reason: String(m.reason ?? ''),
      });
    });
  }

  /** Calls `listener` for each event until the returned function is called. */
  listen(listener: (event: ActivityEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  close(): void {
    for (const [name, handler] of this.#subscriptions) diagnostics.unsubscribe(name, handler);
    this.#subscriptions.length = 0;
    this.#listeners.clear();
  }

  #on<M>(name: string, handler: (message: M) => void): void {
    const runtime = this.#runtime;
    const filtered = (message: unknown) => {
      if ((message as RuntimeTagged).runtime === runtime) handler(message as M);
    };
    diagnostics.subscribe(name, filtered);
    this.#subscriptions.push([name, filtered]);
  }

  #deadLetter(d: DeadLetter): void {
    this.deadLetters++;
    this.deadLettersBy.set(d.reason, (this.deadLettersBy.get(d.reason) ?? 0) + 1);
    const record: DeadLetterRecord = {
      at: Date.now(),
      to: d.to.toString(),
      from: d.from.toString(),
      messageType: typeName(d.message),
      reason: d.reason,
      ...(d.detail === undefined ? {} : { detail: d.detail }),
    };
    this.recentDeadLetters.push(record);
    if (this.recentDeadLetters.length > this.#history) this.recentDeadLetters.shift();
    this.#emit({ kind: 'dead-letter', deadLetter: record });
  }

  #emit(event: ActivityEvent): void {
    for (const listener of this.#listeners) {
      try {
        listener(event);
      } catch (error) {
        this.#runtime.logger.error({ err: error }, 'management activity listener threw');
      }
    }
  }
}

function typeName(message: AnyMessage | undefined): string {
  return typeof message?.type === 'string' ? message.type : 'unknown';
}
