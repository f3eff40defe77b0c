/**
 * A subscriber's routes to one matching listing, and the policy that picks among them
 * (ansar's SubscriberLoop): use the nearest route that has not just failed; when a nearer
 * one appears while a farther one is open, hold for the holding time, then promote. Pure:
 * the subscribing agent (subscriber.ts) applies each decision with its timers and sockets,
 * so the policy is tested here without either.
 */
import type { Address } from '@herald/runtime';
import type { Scope } from './messages.js';
import type { Endpoint } from './registry.js';

export interface Route {
  /** The scope, or 'relay' for the cluster's relay route. */
  readonly key: string;
  readonly scope: Scope;
  /** Nearness: the scope's rank; the relay route ranks just beyond a direct cluster route. */
  readonly rank: number;
  /** The relay subject's address, for the relay route. */
  readonly relay?: { readonly host: string; readonly port: number };
  readonly endpoint?: Endpoint;
  /** The publishing agent of a process route. */
  readonly agent?: Address;
  failedUntil: number;
}

export interface Conn {
  readonly match: Match;
  readonly scope: Scope;
  readonly route: string;
  readonly rank: number;
  /** The SocketProxy, or the publishing agent of a process route. */
  readonly key: Address;
  readonly process: boolean;
  state: 'connecting' | 'open';
  /** What the application was given as the peer (its return address). */
  peer?: Address;
  /** The far end as Available names it (`remote`). */
  remote?: Address;
  /** This side's session of a process route. */
  session?: Address;
  /** What a process route's publisher was told the subscriber is (its session, or the owner). */
  attachedAs?: Address;
  /** Replaced by a nearer route: its end is not news to the application. */
  superseded: boolean;
}

export interface Match {
  readonly id: string;
  name: string;
  identity: string | undefined;
  readonly routes: Map<string, Route>;
  current: Conn | undefined;
  pending: Conn | undefined;
  /** Available was sent and no NotAvailable since. */
  available: boolean;
  /** The application cleared the route: not reopened for this listing. */
  cleared: boolean;
  /** The holding time before a promotion has passed. */
  holdDone: boolean;
  holding: boolean;
}

/** What to do next for one match. */
export type Decision =
  /** No route and no connection left: forget the match. */
  | { readonly kind: 'forget' }
  /** The application cleared it, or a connection or promotion is under way: nothing. */
  | { readonly kind: 'nothing' }
  /** Every route failed a moment ago: wait for the soonest retry. */
  | { readonly kind: 'wait' }
  /** Nothing open: open this route. */
  | { readonly kind: 'open'; readonly route: Route }
  /** The open route is the nearest: stay (and stop holding). */
  | { readonly kind: 'stay' }
  /** A nearer route appeared: start the holding time. */
  | { readonly kind: 'hold' }
  /** The holding time passed and a nearer route is still there: open it beside the current. */
  | { readonly kind: 'promote'; readonly route: Route };

/** The nearest route not in its retry pause at `now`. */
export function nearest(match: Match, now: number): Route | undefined {
  let best: Route | undefined;
  for (const route of match.routes.values()) {
    if (route.failedUntil > now) continue;
    if (best === undefined || route.rank < best.rank) best = route;
  }
  return best;
}

/** When the soonest paused route may be tried again (undefined: none is paused). */
export function soonestRetry(match: Match, now: number): number | undefined {
  let soonest: number | undefined;
  for (const route of match.routes.values()) {
    if (route.failedUntil > now && (soonest === undefined || route.failedUntil < soonest)) {
      soonest = route.failedUntil;
    }
  }
  return soonest;
}

/** The policy: what the agent does next for `match` at `now`. */
export function decide(match: Match, now: number): Decision {
  if (match.routes.size === 0 && match.current === undefined && match.pending === undefined) {
    return { kind: 'forget' };
  }
  if (match.cleared) return { kind: 'nothing' };
  const best = nearest(match, now);
  const current = match.current;
  if (best === undefined) return current === undefined ? { kind: 'wait' } : { kind: 'nothing' };
  if (current === undefined) return { kind: 'open', route: best };
  if (match.pending !== undefined || current.state !== 'open') return { kind: 'nothing' };
  if (best.rank >= current.rank) return { kind: 'stay' };
  if (match.holdDone) return { kind: 'promote', route: best };
  return match.holding ? { kind: 'nothing' } : { kind: 'hold' };
}
