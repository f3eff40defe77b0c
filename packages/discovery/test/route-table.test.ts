/**
 * The subscriber's route policy, without sockets or timers: nearest first, failed routes
 * paused, a nearer route held for, then promoted.
 */
import { Address } from '@herald/codec';
import { describe, expect, it } from 'vitest';
import {
  decide,
  nearest,
  soonestRetry,
  type Conn,
  type Match,
  type Route,
} from '../src/route-table.js';
import { SCOPE_RANK } from '../src/scopes.js';
import type { Scope } from '../src/messages.js';

function route(scope: Scope, failedUntil = 0): Route {
  return {
    key: scope,
    scope,
    rank: SCOPE_RANK[scope],
    endpoint: { host: '127.0.0.1', port: 1, scope: scope === 'process' ? 'host' : scope },
    failedUntil,
  };
}

function match(routes: Route[], patch: Partial<Match> = {}): Match {
  return {
    id: 'l1',
    name: 'echo',
    identity: undefined,
    routes: new Map(routes.map((r) => [r.key, r])),
    current: undefined,
    pending: undefined,
    available: false,
    cleared: false,
    holdDone: false,
    holding: false,
    ...patch,
  };
}

function conn(m: Match, scope: Scope, state: Conn['state'] = 'open'): Conn {
  return {
    match: m,
    scope,
    route: scope,
    rank: SCOPE_RANK[scope],
    key: new Address([1]),
    process: false,
    state,
    superseded: false,
  };
}

describe('route table', () => {
  it('opens the nearest route that is not paused', () => {
    const m = match([route('lan'), route('host'), route('cluster')]);
    expect(decide(m, 0)).toMatchObject({ kind: 'open', route: { scope: 'host' } });
    const paused = match([route('lan'), route('host', 1_000)]);
    expect(decide(paused, 0)).toMatchObject({ kind: 'open', route: { scope: 'lan' } });
    expect(decide(paused, 1_000)).toMatchObject({ kind: 'open', route: { scope: 'host' } });
  });

  it('waits for the soonest retry when every route is paused, and forgets a match with nothing left', () => {
    const m = match([route('host', 500), route('lan', 300)]);
    expect(decide(m, 0)).toEqual({ kind: 'wait' });
    expect(soonestRetry(m, 0)).toBe(300);
    expect(nearest(m, 300)?.scope).toBe('lan');
    expect(decide(match([]), 0)).toEqual({ kind: 'forget' });
    expect(decide(match([route('host')], { cleared: true }), 0)).toEqual({ kind: 'nothing' });
  });

  it('holds when a nearer route appears beside an open farther one, then promotes', () => {
    const m = match([route('host'), route('lan')]);
    m.current = conn(m, 'lan');
    expect(decide(m, 0)).toEqual({ kind: 'hold' });
    m.holding = true;
    expect(decide(m, 0)).toEqual({ kind: 'nothing' });
    m.holding = false;
    m.holdDone = true;
    expect(decide(m, 0)).toMatchObject({ kind: 'promote', route: { scope: 'host' } });
  });

  it('stays on the nearest open route, and never promotes while connecting or already promoting', () => {
    const m = match([route('host'), route('lan')]);
    m.current = conn(m, 'host');
    expect(decide(m, 0)).toEqual({ kind: 'stay' });
    const connecting = match([route('host'), route('lan')]);
    connecting.current = conn(connecting, 'lan', 'connecting');
    expect(decide(connecting, 0)).toEqual({ kind: 'nothing' });
    const promoting = match([route('host'), route('lan')], { holdDone: true });
    promoting.current = conn(promoting, 'lan');
    promoting.pending = conn(promoting, 'host', 'connecting');
    expect(decide(promoting, 0)).toEqual({ kind: 'nothing' });
  });
});
