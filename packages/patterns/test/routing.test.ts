/**
 * Handler routing (issue 13 item 5): filters, ordered groups, stop-propagation, failures as
 * typed replies; the router actor, locally and behind real connections, where filters see
 * the peer's proven identity and its address and a failure crosses back as HandlerFailed.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { defineMessage, t, type AnyMessage } from '@herald/codec';
import {
  Connected,
  Listening,
  connect,
  createIdentity,
  formatPublicKey,
  listen,
  sessionOf,
  type ConnectOptions,
} from '@herald/net';
import { closeTestRuntimes, spawnProbe, testRuntime } from '@herald/testing';
import { BadPatternOptionError } from '../src/errors.js';
import {
  HandlerFailed,
  Router,
  filters,
  routerBehavior,
  type RouteContext,
  type RoutePeer,
} from '../src/routing/router.js';

afterEach(closeTestRuntimes);

const Order = defineMessage('test.Order', { item: t.string(), qty: t.int() });
const Cancel = defineMessage('test.Cancel', { id: t.int() });
const Answer = defineMessage('test.Answer', { by: t.string() });

type Msg = Record<string, unknown>;
const noSelf = undefined as never;

async function run(router: Router<Msg>, message: Msg, peer = {}) {
  const replies: unknown[] = [];
  const outcome = await router.dispatch(message, peer, noSelf, (a) => replies.push(a));
  return { outcome, replies };
}

describe('Router', () => {
  it('calls, in each group in ascending order, the first handler whose filters all pass', async () => {
    const calls: string[] = [];
    const r = new Router<Msg>()
      .on(() => calls.push('g2'), { group: 2, name: 'g2' })
      .on(() => calls.push('g0-no'), { filters: [filters.type('other')], name: 'g0-no' })
      .on(() => calls.push('g0-yes'), { filters: [filters.type(Order)], name: 'g0-yes' })
      .on(() => calls.push('g0-second'), { filters: [filters.type(Order)], name: 'g0-second' })
      .on(() => calls.push('g-1'), { group: -1, name: 'g-1' });
    const { outcome } = await run(r, Order({ item: 'tea', qty: 1 }));
    expect(calls).toEqual(['g-1', 'g0-yes', 'g2']);
    expect(outcome).toEqual({ handled: ['g-1', 'g0-yes', 'g2'], stopped: false });
  });

  it('stopPropagation keeps later groups from running', async () => {
    const calls: string[] = [];
    const r = new Router<Msg>()
      .on((ctx: RouteContext<Msg>) => {
        calls.push('first');
        ctx.stopPropagation();
      })
      .on(() => calls.push('later'), { group: 1 });
    expect((await run(r, { type: 'x' })).outcome.stopped).toBe(true);
    expect(calls).toEqual(['first']);
  });

  it('a handler that throws or rejects becomes a typed failure and stops dispatch', async () => {
    const r = new Router<Msg>()
      .on(async () => Promise.reject(new Error('no stock')), { name: 'stock' })
      .on(
        () => {
          throw new Error('never');
        },
        { group: 1 },
      );
    expect((await run(r, { type: 'x' })).outcome).toEqual({
      handled: ['stock'],
      stopped: true,
      failure: { handler: 'stock', error: 'no stock' },
    });
  });

  it('fields: presence, regular expressions on String(value), equality, predicates, and exact sets', async () => {
    const hit = async (f: ReturnType<typeof filters.fields<Msg>>, m: Msg) =>
      (
        await run(
          new Router<Msg>().on(() => {}, { filters: [f] }),
          m,
        )
      ).outcome.handled.length === 1;
    expect(await hit(filters.fields({ item: null }), { item: 1 })).toBe(true);
    expect(await hit(filters.fields({ item: null }), { other: 1 })).toBe(false);
    expect(await hit(filters.fields({ qty: /^\d+$/ }), { qty: 12 })).toBe(true);
    expect(await hit(filters.fields({ qty: /^\d+$/ }), { qty: 'x' })).toBe(false);
    expect(await hit(filters.fields({ qty: 3 }), { qty: 3 })).toBe(true);
    expect(await hit(filters.fields({ qty: (v) => (v as number) > 5 }), { qty: 3 })).toBe(false);
    expect(await hit(filters.fields({ a: null }, { exact: true }), { a: 1, b: 2 })).toBe(false);
    expect(await hit(filters.fields({ a: null, b: null }, { exact: true }), { a: 1, b: 2 })).toBe(
      true,
    );
  });

  it('peer filters: identity and address; predicates; a filter that throws does not pass', async () => {
    const r = new Router<Msg>()
      .on(() => {}, {
        name: 'boom',
        filters: [
          filters.where(() => {
            throw new Error('x');
          }),
        ],
      })
      .on(() => {}, { name: 'alice', filters: [filters.identity('alice')] })
      .on(() => {}, { name: 'local', filters: [filters.address(/^127\.0\.0\.1:/)] })
      .on(() => {}, { name: 'big', filters: [filters.where((m) => (m['qty'] as number) > 10)] });
    expect((await run(r, {}, { identity: 'alice' })).outcome.handled).toEqual(['alice']);
    expect((await run(r, {}, { address: '127.0.0.1:5000' })).outcome.handled).toEqual(['local']);
    expect((await run(r, { qty: 11 }, { address: '10.0.0.1:1' })).outcome.handled).toEqual(['big']);
    expect((await run(r, { qty: 1 })).outcome.handled).toEqual([]);
  });
});

describe('router actor', () => {
  it('answers through the handlers, turns a failure into HandlerFailed, and dead-letters what no route takes', async () => {
    const rt = testRuntime();
    const router = new Router<AnyMessage>()
      .on((ctx) => ctx.reply(Answer({ by: 'orders' })), {
        filters: [filters.type(Order)],
        name: 'orders',
      })
      .on(
        () => {
          throw new Error('cannot cancel');
        },
        { filters: [filters.type(Cancel)], name: 'cancel' },
      );
    const actor = rt.spawn(routerBehavior(router));
    const client = await spawnProbe(rt, 'client');
    client.self.send(actor, Order({ item: 'tea', qty: 2 }));
    expect((await client.next(Answer)).message.by).toBe('orders');
    client.self.send(actor, Cancel({ id: 1 }));
    expect((await client.next(HandlerFailed)).message).toEqual(
      HandlerFailed({
        handler: 'cancel',
        error: 'cannot cancel',
        code: 'HERALD_ERR_HANDLER_FAILED',
      }),
    );
    client.self.send(actor, Answer({ by: 'nobody' }));
    const dead = await rt.deadLetters.next((d) => d.message.type === Answer.type);
    expect([dead.reason, dead.detail]).toEqual(['unhandled', 'no route matched']);
    expect(rt.isAlive(actor)).toBe(true);
  });

  it('keeps order: a slow handler holds the next message back', async () => {
    const rt = testRuntime();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const seen: number[] = [];
    const router = new Router<AnyMessage>().on(async (ctx) => {
      const n = (ctx.message as unknown as { id: number }).id;
      if (n === 1) await gate;
      seen.push(n);
      ctx.reply(Answer({ by: String(n) }));
    });
    const actor = rt.spawn(routerBehavior(router));
    const client = await spawnProbe(rt, 'client');
    client.self.send(actor, Cancel({ id: 1 }));
    client.self.send(actor, Cancel({ id: 2 }));
    release();
    await client.next(Answer);
    await client.next(Answer);
    expect(seen).toEqual([1, 2]);
  });
});

describe('router options', () => {
  it('refuses a group that is not a finite number, at the call', () => {
    expect(() => new Router().on(() => {}, { group: Number.NaN })).toThrow(BadPatternOptionError);
  });
});

describe('router actor behind a connection', () => {
  const Whoami = defineMessage('test.Whoami', {});
  const You = defineMessage('test.You', { who: t.string(), address: t.string() });
  const messages = [Order, Cancel, Answer, Whoami, You, HandlerFailed];

  /** A listener whose sessions are router actors: each peer's messages are routed. */
  async function routedServer(router: Router<AnyMessage>) {
    const serverId = createIdentity();
    const server = await spawnProbe(testRuntime({ messages }), 'server');
    listen(
      server.self,
      { port: 0 },
      { messages, identity: serverId, session: sessionOf(routerBehavior(router)) },
    );
    const port = (await server.next(Listening)).message.listening.port;
    return { port, serverKey: formatPublicKey(serverId.publicKey) };
  }

  async function client(port: number, name: string, options: ConnectOptions) {
    const probe = await spawnProbe(testRuntime({ messages }), name);
    connect(probe.self, { host: '127.0.0.1', port }, { messages, ...options });
    const { from } = await probe.next(Connected);
    return { probe, remote: from };
  }

  it("filters on the peer's proven identity and address; a failure comes back over the wire as HandlerFailed", async () => {
    const alice = createIdentity();
    const aliceKey = formatPublicKey(alice.publicKey);
    const seen: RoutePeer[] = [];
    const router = new Router<AnyMessage>()
      .on(
        (ctx) => {
          seen.push(ctx.peer);
        },
        { group: -1, name: 'audit' },
      )
      .on((ctx) => ctx.reply(You({ who: 'alice', address: ctx.peer.address ?? '' })), {
        filters: [filters.type(Whoami), filters.identity(aliceKey)],
        name: 'alice',
      })
      .on((ctx) => ctx.reply(You({ who: 'stranger', address: ctx.peer.address ?? '' })), {
        filters: [filters.type(Whoami), filters.address(/^127\.0\.0\.1:\d+$/)],
        name: 'local',
      })
      .on(
        () => {
          throw new Error('only alice may cancel');
        },
        { filters: [filters.type(Cancel)], name: 'cancel' },
      );
    const { port, serverKey } = await routedServer(router);

    const a = await client(port, 'alice', { identity: alice, peerKey: serverKey });
    a.probe.self.send(a.remote, Whoami());
    const you = (await a.probe.next(You)).message;
    expect(you.who).toBe('alice');
    expect(you.address).toMatch(/^127\.0\.0\.1:\d+$/);

    const s = await client(port, 'stranger', { peerKey: serverKey });
    s.probe.self.send(s.remote, Whoami());
    expect((await s.probe.next(You)).message.who).toBe('stranger');
    s.probe.self.send(s.remote, Cancel({ id: 7 }));
    expect((await s.probe.next(HandlerFailed)).message).toEqual(
      HandlerFailed({
        handler: 'cancel',
        error: 'only alice may cancel',
        code: 'HERALD_ERR_HANDLER_FAILED',
      }),
    );
    // every message was seen with its connection; alice's with her key, the stranger's without
    expect(seen.map((p) => p.identity)).toEqual([aliceKey, undefined, undefined]);
    expect(seen.every((p) => p.connection !== undefined)).toBe(true);
  });
});
