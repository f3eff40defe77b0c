/**
 * A publish/subscribe broker by topic (issue 13 item 7; aioconnectors' broker, without its
 * faults), built from Herald pieces: a listener whose sessions forward to one broker actor
 * (brokerSession), and the broker actor itself a router (routing/router.ts) with a route per
 * request type, so access rules are route filters on the peer's proven identity.
 *
 * - `Subscribe{ pattern }` with wildcards (`*` one token, `>` the rest; topics.ts), answered
 *   `Subscribed`; `Unsubscribe{ pattern }`; `Publish{ topic, data }` goes to every actor whose
 *   pattern matches, once each, as `Published{ topic, data }`.
 * - A subscriber is watched: when it ends or its connection drops, its subscriptions go.
 * - Bounded: patterns per subscriber and subscribers in all (a refusal says which bound);
 *   a publish with `receipt: true` is answered with the number of subscribers it reached.
 * - A refused request is answered `BrokerRefused{ request, topic, reason }`, never dropped.
 */
import { defineMessage, t, type AnyMessage, type MessageOf } from '@herald/codec';
import type { SessionContext } from '@herald/net';
import { Terminated, type Address, type Self } from '@herald/runtime';
import { BadPatternOptionError } from '../errors.js';
import {
  Router,
  filters,
  routerBehavior,
  type RouteContext,
  type RoutePeer,
} from '../routing/router.js';
import { MAX_TOPIC_LENGTH, TopicTable, badPattern, badTopic } from './topics.js';

/** Patterns one subscriber may hold. */
export const DEFAULT_MAX_PATTERNS_PER_SUBSCRIBER = 256;

/** Subscribers one broker holds. */
export const DEFAULT_MAX_SUBSCRIBERS = 10_000;

const topic = t.string({ maxLength: MAX_TOPIC_LENGTH });

/** Subscriber → broker: deliver what is published to topics matching `pattern`. */
export const Subscribe = defineMessage('patterns.broker.Subscribe', { pattern: topic });
export type Subscribe = MessageOf<typeof Subscribe>;

/** Broker → subscriber: the subscription holds. */
export const Subscribed = defineMessage('patterns.broker.Subscribed', { pattern: topic });
export type Subscribed = MessageOf<typeof Subscribed>;

/** Subscriber → broker: stop delivering for `pattern`. Answered Unsubscribed. */
export const Unsubscribe = defineMessage('patterns.broker.Unsubscribe', { pattern: topic });
export type Unsubscribe = MessageOf<typeof Unsubscribe>;

export const Unsubscribed = defineMessage('patterns.broker.Unsubscribed', {
  pattern: topic,
  /** False when there was no such subscription. */
  held: t.boolean(),
});
export type Unsubscribed = MessageOf<typeof Unsubscribed>;

/** Publisher → broker. */
export const Publish = defineMessage('patterns.broker.Publish', {
  topic,
  data: t.unknown(),
  /** Answer with a PublishReceipt. */
  receipt: t.optional(t.boolean()),
});
export type Publish = MessageOf<typeof Publish>;

/** Broker → subscriber: one publication on a topic its pattern matches. */
export const Published = defineMessage('patterns.broker.Published', { topic, data: t.unknown() });
export type Published = MessageOf<typeof Published>;

/** Broker → publisher, when asked: how many subscribers the publication went to. */
export const PublishReceipt = defineMessage('patterns.broker.PublishReceipt', {
  topic,
  subscribers: t.int(),
});
export type PublishReceipt = MessageOf<typeof PublishReceipt>;

/** Broker → requester: the request was not carried out. */
export const BrokerRefused = defineMessage('patterns.broker.Refused', {
  request: t.enum('subscribe', 'publish'),
  topic,
  reason: t.enum('bad-topic', 'not-allowed', 'too-many-patterns', 'too-many-subscribers'),
  detail: t.string({ maxLength: 512 }),
});
export type BrokerRefused = MessageOf<typeof BrokerRefused>;

/** Every broker type: give it to listen() / connect() `messages` at both ends. */
export const brokerMessages = [
  Subscribe,
  Subscribed,
  Unsubscribe,
  Unsubscribed,
  Publish,
  Published,
  PublishReceipt,
  BrokerRefused,
] as const;

export interface BrokerOptions {
  /** May this peer subscribe to `pattern`? Default: anyone may. */
  readonly allowSubscribe?: (peer: RoutePeer, pattern: string) => boolean;
  /** May this peer publish on `topic`? Default: anyone may. */
  readonly allowPublish?: (peer: RoutePeer, topic: string) => boolean;
  /** Default DEFAULT_MAX_PATTERNS_PER_SUBSCRIBER. */
  readonly maxPatternsPerSubscriber?: number;
  /** Default DEFAULT_MAX_SUBSCRIBERS. */
  readonly maxSubscribers?: number;
  /** The broker actor's name. Default 'broker'. */
  readonly name?: string;
}

function positive(field: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < 1)
    throw new BadPatternOptionError(field, `${field} must be a whole number of at least 1`);
  return value;
}

/**
 * Starts a broker actor as a child of `self` and returns its address. Peers reach it
 * through sessions: `listen(self, at, { messages: brokerMessages, session:
 * sessionOf(brokerSession, broker) })`; local actors send to it directly.
 */
export function spawnBroker(self: Self, options: BrokerOptions = {}): Address {
  const maxPatterns = positive(
    'maxPatternsPerSubscriber',
    options.maxPatternsPerSubscriber,
    DEFAULT_MAX_PATTERNS_PER_SUBSCRIBER,
  );
  const maxSubscribers = positive(
    'maxSubscribers',
    options.maxSubscribers,
    DEFAULT_MAX_SUBSCRIBERS,
  );
  const allowSubscribe = options.allowSubscribe ?? (() => true);
  const allowPublish = options.allowPublish ?? (() => true);
  const table = new TopicTable<string>();
  /** Per subscriber (by address key): its address and its patterns. */
  const subscribers = new Map<string, { address: Address; patterns: Set<string> }>();

  const refuse = (
    ctx: RouteContext<AnyMessage>,
    request: 'subscribe' | 'publish',
    t: string,
    reason: BrokerRefused['reason'],
    detail: string,
  ): void => {
    ctx.reply(BrokerRefused({ request, topic: t.slice(0, MAX_TOPIC_LENGTH), reason, detail }));
  };

  const drop = (key: string): void => {
    const entry = subscribers.get(key);
    if (entry === undefined) return;
    for (const p of entry.patterns) table.remove(p, key);
    subscribers.delete(key);
  };

  const router = new Router<AnyMessage>()
    .on(
      (ctx) => {
        const m = ctx.message as Subscribe;
        const why = badPattern(m.pattern);
        if (why !== undefined) return refuse(ctx, 'subscribe', m.pattern, 'bad-topic', why);
        if (!allowSubscribe(ctx.peer, m.pattern))
          return refuse(ctx, 'subscribe', m.pattern, 'not-allowed', 'refused for this peer');
        const from = ctx.peer.actor as Address;
        let entry = subscribers.get(from.key);
        if (entry === undefined) {
          if (subscribers.size >= maxSubscribers)
            return refuse(
              ctx,
              'subscribe',
              m.pattern,
              'too-many-subscribers',
              `${maxSubscribers} held`,
            );
          entry = { address: from, patterns: new Set() };
          subscribers.set(from.key, entry);
          ctx.self.watch(from);
        }
        if (!entry.patterns.has(m.pattern)) {
          if (entry.patterns.size >= maxPatterns)
            return refuse(ctx, 'subscribe', m.pattern, 'too-many-patterns', `${maxPatterns} held`);
          entry.patterns.add(m.pattern);
          table.add(m.pattern, from.key);
        }
        ctx.reply(Subscribed({ pattern: m.pattern }));
      },
      { filters: [filters.type(Subscribe)], name: 'subscribe' },
    )
    .on(
      (ctx) => {
        const m = ctx.message as Unsubscribe;
        const from = ctx.peer.actor as Address;
        const entry = subscribers.get(from.key);
        const held = entry?.patterns.delete(m.pattern) === true;
        if (held) table.remove(m.pattern, from.key);
        if (entry !== undefined && entry.patterns.size === 0) {
          subscribers.delete(from.key);
          ctx.self.unwatch(from);
        }
        ctx.reply(Unsubscribed({ pattern: m.pattern, held }));
      },
      { filters: [filters.type(Unsubscribe)], name: 'unsubscribe' },
    )
    .on(
      (ctx) => {
        const m = ctx.message as Publish;
        const why = badTopic(m.topic);
        if (why !== undefined) return refuse(ctx, 'publish', m.topic, 'bad-topic', why);
        if (!allowPublish(ctx.peer, m.topic))
          return refuse(ctx, 'publish', m.topic, 'not-allowed', 'refused for this peer');
        const published = Published({ topic: m.topic, data: m.data });
        const reached = table.match(m.topic);
        for (const key of reached) {
          const entry = subscribers.get(key);
          if (entry !== undefined) ctx.self.send(entry.address, published);
        }
        if (m.receipt === true)
          ctx.reply(PublishReceipt({ topic: m.topic, subscribers: reached.size }));
      },
      { filters: [filters.type(Publish)], name: 'publish' },
    )
    .on((ctx) => drop((ctx.message as Terminated).address.key), {
      filters: [filters.type(Terminated)],
      name: 'subscriber-ended',
    });

  return self.spawn(routerBehavior(router, { name: options.name ?? 'broker' }));
}

const BROKER_REQUESTS = [Subscribe, Unsubscribe, Publish] as const;

/**
 * A session (for `sessionOf(brokerSession, broker)`) that forwards its peer's broker
 * requests to `broker` with the peer as the return address, so answers and publications
 * go straight to the peer's actor. Ends on Stop.
 */
export async function brokerSession(
  self: Self,
  _context: SessionContext,
  broker: Address,
): Promise<void> {
  for (;;) {
    const m = await self.receive(...BROKER_REQUESTS);
    self.forward(broker, m, self.returnAddress);
  }
}
