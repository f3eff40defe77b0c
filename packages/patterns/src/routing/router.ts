/**
 * Handler routing (issue 13 item 5; docs/routing.md), AsyncAPY's filters and groups as an
 * actor kind: each message goes to handlers chosen by filters, in ordered groups.
 *
 * - Groups run in ascending order. In each group, the first handler (in registration
 *   order) whose filters all pass is called; the others of that group are not.
 * - A handler can stop propagation (`ctx.stopPropagation()`): no later group runs.
 * - A handler that throws or rejects does not crash anything: dispatch stops there and the
 *   outcome carries a typed failure, which the router actor sends back as `HandlerFailed`
 *   (and the AsyncAProto server of @herald/interop as its JSON failure).
 * - Filters see the message and the peer: its proven identity key and its network address
 *   when the message came over a connection (looked up from the connection the sender's
 *   address runs through), or its Herald address when it is local.
 *
 * Handlers run one message at a time per router (a handler that awaits holds the next
 * message back), so a conversation's order is kept.
 */
import { defineMessage, t, type AnyMessage, type MessageOf } from '@herald/codec';
import { connections } from '@herald/net';
import { Address, Stop, type Envelope, type Handler, type Self } from '@herald/runtime';
import { BadPatternOptionError } from '../errors.js';

/** Who sent the message, as far as the carrier knows. */
export interface RoutePeer {
  /** A proven identity key (`herald-x25519:…`) or a declared one (an aiomsg identity). */
  readonly identity?: string;
  /**
   * The peer's network address `host:port` when the message came over a connection; a
   * Herald address as a string (`<0000000a>`) when it came from a local actor.
   */
  readonly address?: string;
  /** The connection (its SocketProxy) the message came through, when it did. */
  readonly connection?: Address;
  /** The sending actor (the message's return address), when the carrier is Herald. */
  readonly actor?: Address;
}

export interface RouteContext<M> {
  readonly message: M;
  readonly peer: RoutePeer;
  /** The actor the router runs in: handlers may send, ask, spawn. */
  readonly self: Self;
  /** Sends an answer to the sender of the message (any number of times). */
  reply(answer: unknown): void;
  /** No later group runs for this message. */
  stopPropagation(): void;
}

export type RouteFilter<M> = (message: M, peer: RoutePeer) => boolean;
export type RouteHandler<M> = (ctx: RouteContext<M>) => unknown;

export interface RouteOptions<M> {
  /** Group number (ascending order); 0 by default. */
  readonly group?: number;
  /** All must pass. None: the handler takes every message that reaches its group. */
  readonly filters?: readonly RouteFilter<M>[];
  /** For logs and failures; the function's name by default. */
  readonly name?: string;
}

interface Route<M> {
  readonly name: string;
  readonly filters: readonly RouteFilter<M>[];
  readonly handle: RouteHandler<M>;
}

/** What one dispatch did. */
export interface DispatchOutcome {
  /** Names of the handlers called, in order. */
  readonly handled: readonly string[];
  readonly stopped: boolean;
  /** Set when a handler threw: dispatch stopped at it. */
  readonly failure?: { readonly handler: string; readonly error: string };
}

/** A field test: null = present, RegExp = matches `String(value)`, function, or `===`. */
export type FieldTest = null | RegExp | string | number | boolean | ((value: unknown) => boolean);

function fieldsOf(message: unknown): Record<string, unknown> | undefined {
  return typeof message === 'object' && message !== null && !Array.isArray(message)
    ? (message as Record<string, unknown>)
    : undefined;
}

/** Filter builders. */
export const filters = {
  /** The message's `type` is one of these (names or declared message types). */
  type<M>(...types: readonly (string | { readonly type: string })[]): RouteFilter<M> {
    const names = new Set(types.map((x) => (typeof x === 'string' ? x : x.type)));
    return (m) => names.has(String(fieldsOf(m)?.['type']));
  },
  /**
   * Every named field is present and passes its test. `exact: true` also refuses fields
   * not named (AsyncAPY's `Filters.Fields` semantics).
   */
  fields<M>(
    spec: Readonly<Record<string, FieldTest>>,
    options: { exact?: boolean } = {},
  ): RouteFilter<M> {
    const names = Object.keys(spec);
    return (m) => {
      const f = fieldsOf(m);
      if (f === undefined) return false;
      for (const name of names) {
        if (!Object.hasOwn(f, name)) return false;
        const test = spec[name];
        const value = f[name];
        if (test === null || test === undefined) continue;
        if (test instanceof RegExp) {
          test.lastIndex = 0;
          if (!test.test(String(value))) return false;
        } else if (typeof test === 'function') {
          if (!test(value)) return false;
        } else if (value !== test) return false;
      }
      if (options.exact === true && Object.keys(f).some((k) => !Object.hasOwn(spec, k)))
        return false;
      return true;
    };
  },
  /** The peer's identity is one of these. */
  identity<M>(...identities: readonly string[]): RouteFilter<M> {
    const set = new Set(identities);
    return (_m, peer) => peer.identity !== undefined && set.has(peer.identity);
  },
  /** The peer's address equals one of these strings or matches one of these patterns. */
  address<M>(...addresses: readonly (string | RegExp)[]): RouteFilter<M> {
    return (_m, peer) =>
      peer.address !== undefined &&
      addresses.some((a) => {
        if (typeof a === 'string') return a === peer.address;
        a.lastIndex = 0;
        return a.test(peer.address as string);
      });
  },
  /** Any predicate. */
  where<M>(predicate: (message: M, peer: RoutePeer) => boolean): RouteFilter<M> {
    return predicate;
  },
};

export class Router<M = unknown> {
  readonly #groups = new Map<number, Route<M>[]>();
  #order: number[] = [];

  /** Adds a handler. Returns the router, for chaining. Throws BadPatternOptionError for a bad group. */
  on(handle: RouteHandler<M>, options: RouteOptions<M> = {}): this {
    const group = options.group ?? 0;
    if (!Number.isFinite(group))
      throw new BadPatternOptionError('group', 'group must be a finite number');
    if (typeof handle !== 'function')
      throw new BadPatternOptionError('handler', 'a route needs a handler function');
    let routes = this.#groups.get(group);
    if (routes === undefined) {
      routes = [];
      this.#groups.set(group, routes);
      this.#order = [...this.#groups.keys()].sort((a, b) => a - b);
    }
    routes.push({
      name: options.name ?? (handle.name === '' ? `handler-${routes.length}` : handle.name),
      filters: options.filters ?? [],
      handle,
    });
    return this;
  }

  /** Runs the handlers for one message. Never rejects. */
  async dispatch(
    message: M,
    peer: RoutePeer,
    self: Self,
    reply: (answer: unknown) => void,
  ): Promise<DispatchOutcome> {
    const handled: string[] = [];
    let stopped = false;
    for (const group of this.#order) {
      const routes = this.#groups.get(group) ?? [];
      const route = routes.find((r) => {
        try {
          return r.filters.every((f) => f(message, peer));
        } catch {
          return false; // a filter that throws does not pass
        }
      });
      if (route === undefined) continue;
      handled.push(route.name);
      try {
        await route.handle({
          message,
          peer,
          self,
          reply,
          stopPropagation: () => {
            stopped = true;
          },
        });
      } catch (error) {
        const text = error instanceof Error ? error.message : String(error);
        return { handled, stopped: true, failure: { handler: route.name, error: text } };
      }
      if (stopped) break;
    }
    return { handled, stopped };
  }
}

/**
 * The router actor's answer when a handler failed (instead of a crash). Named
 * `patterns.*`, not `herald.*`, so it crosses connections: a peer refuses `herald.*` types.
 */
export const HandlerFailed = defineMessage('patterns.routing.HandlerFailed', {
  handler: t.string({ maxLength: 256 }),
  error: t.string({ maxLength: 4096 }),
  code: t.literal('HERALD_ERR_HANDLER_FAILED'),
});
export type HandlerFailed = MessageOf<typeof HandlerFailed>;

/** Largest handler error text carried in HandlerFailed (the rest is cut). */
export const MAX_HANDLER_ERROR_CHARS = 4096;

/** Connections remembered by a router actor for peer look-ups (cleared when full). */
const PEER_CACHE_ENTRIES = 1024;

/**
 * The peer behind `from`: for an address through a connection, the connection's proven
 * identity and `host:port` (from `connections(runtime)`); for a local one, its address.
 */
export function peerOf(self: Self, from: Address, cache?: Map<string, RoutePeer>): RoutePeer {
  if (from.isLocal) return { address: from.toString() };
  const proxy = new Address([from.local]);
  const cached = cache?.get(proxy.key);
  if (cached !== undefined) return cached;
  const info = connections(self.runtime).find((c) => c.address.equals(proxy));
  const peer: RoutePeer =
    info === undefined
      ? { address: from.toString() }
      : {
          address: `${info.peer.host}:${String(info.peer.port)}`,
          connection: proxy,
          ...(info.identity === undefined ? {} : { identity: info.identity }),
        };
  if (cache !== undefined && info !== undefined) {
    if (cache.size >= PEER_CACHE_ENTRIES) cache.clear();
    cache.set(proxy.key, peer);
  }
  return peer;
}

export interface RouterBehaviorOptions {
  /** The actor's name. Default 'router'. */
  readonly name?: string;
  /** Who sent a message; default {@link peerOf} (the connection's identity and address). */
  readonly peer?: (self: Self, envelope: Envelope) => RoutePeer;
}

/**
 * An actor that routes every message it receives through `router`: replies go to the
 * message's sender (so asks work); a handler failure is answered with HandlerFailed; a
 * message no handler took becomes a dead letter (`'unhandled'`). Stop ends it after the
 * message in progress.
 */
export function routerBehavior<M extends AnyMessage = AnyMessage>(
  router: Router<M>,
  options: RouterBehaviorOptions = {},
): Handler {
  let chain: Promise<void> = Promise.resolve();
  let stopping = false;
  const cache = new Map<string, RoutePeer>();
  const lookup =
    options.peer ??
    ((self, envelope) => ({ ...peerOf(self, envelope.from, cache), actor: envelope.from }));
  return {
    name: options.name ?? 'router',
    receive(self, message, envelope) {
      if (Stop.is(message)) {
        stopping = true;
        void chain.then(() => self.complete());
        return;
      }
      if (stopping) {
        self.runtime.reportDeadLetter({
          to: self.address,
          from: envelope.from,
          message,
          reason: 'actor-ended',
        });
        return;
      }
      const peer = lookup(self, envelope);
      chain = chain.then(async () => {
        const outcome = await router.dispatch(message as M, peer, self, (answer) =>
          self.replyTo(envelope, answer as AnyMessage),
        );
        if (outcome.failure !== undefined) {
          self.log.warn({ handler: outcome.failure.handler, type: message.type }, 'handler failed');
          self.replyTo(
            envelope,
            HandlerFailed({
              handler: outcome.failure.handler.slice(0, 256),
              error: outcome.failure.error.slice(0, MAX_HANDLER_ERROR_CHARS),
              code: 'HERALD_ERR_HANDLER_FAILED',
            }),
          );
        } else if (outcome.handled.length === 0) {
          self.runtime.reportDeadLetter({
            to: self.address,
            from: envelope.from,
            message,
            reason: 'unhandled',
            detail: 'no route matched',
          });
        }
      });
    },
  };
}
