/**
 * The trust model at the wire level (docs/security.md): a peer that was given nothing can
 * do nothing but talk to its default target with declared types. Each case is an attack
 * tried with a hand-made client that speaks the wire protocol and writes whatever header
 * it likes: any `to`, any return address, any type name.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Address } from '@herald/codec';
import {
  Completed,
  Start,
  Stop,
  Terminated,
  Timer,
  Unanswered,
  Watch,
  type DeadLetter,
} from '@herald/runtime';
import { withTimeout, DEFAULT_WAIT_MS, type TestRuntime } from '@herald/testing';
import { wireClient, type WireClient } from './support/wire-client.js';
import { AwaitDrain, Close, StopListening } from '../src/index.js';
import { Undeliverable } from '../src/messages.js';
import {
  Accepted,
  Connected,
  Echo,
  EchoReply,
  roundTrip,
  startClient,
  startServer,
  type TestServer,
} from './support/harness.js';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function server(): Promise<TestServer & { refused: DeadLetter[] }> {
  const s = await startServer();
  cleanups.push(() => s.close());
  const refused: DeadLetter[] = [];
  s.runtime.onDeadLetter((d) => {
    if (d.reason === 'refused') refused.push(d);
  });
  return { ...s, refused };
}

/** A hand-made wire client (support/wire-client.ts) on `s`, closed after the test. */
async function crafted(s: TestServer): Promise<WireClient> {
  const client = await wireClient(s.port, s.runtime.catalogue);
  cleanups.push(() => client.destroy());
  return client;
}

/** Waits until `n` refusals were counted by the server. */
async function refusals(
  s: { refused: DeadLetter[]; runtime: TestServer['runtime'] },
  n: number,
): Promise<void> {
  await withTimeout(
    new Promise<void>((resolve) => {
      if (s.refused.length >= n) return resolve();
      const stop = s.runtime.onDeadLetter(() => {
        if (s.refused.length >= n) {
          stop();
          resolve();
        }
      });
    }),
    DEFAULT_WAIT_MS,
    `${n} refusals (have ${s.refused.length})`,
  );
}

describe('trust - a peer reaches only what it was given', () => {
  it('Stop with an empty `to` (the default target) is refused; the server keeps serving', async () => {
    const s = await server();
    const c = await crafted(s);
    c.sendMessage(Stop(), []);
    await refusals(s, 1);
    expect(s.refused[0]?.detail).toMatch(/control messages/);
    expect(s.runtime.isAlive(s.controller.address)).toBe(true);
    // The same connection still works for what it may send.
    c.sendMessage(Echo({ n: 1 }), []);
    expect(c.decode(await c.next(EchoReply.type))).toEqual(EchoReply({ n: 1 }));
    expect((await roundTrip(s.port, {}, 2)).n).toBe(2);
  });

  it('every control message to every small actor id is refused: no Stop, no StopListening, no Close reaches anyone', async () => {
    const s = await server();
    const c = await crafted(s);
    const attacks = [
      Stop(),
      StopListening(),
      Close({ value: 'x' }),
      Completed({ value: 3 }),
      Timer({ key: 'herald.handshake' }),
      Start(),
      AwaitDrain(),
    ];
    let sent = 0;
    for (let id = 1; id <= 12; id++) {
      for (const m of attacks) {
        c.sendMessage(m, [id]);
        sent++;
      }
    }
    await refusals(s, Math.min(sent, 99));
    expect(s.runtime.isAlive(s.controller.address)).toBe(true);
    expect(s.runtime.isAlive(s.listener)).toBe(true);
    expect((await roundTrip(s.port, {}, 3)).n).toBe(3);
  });

  it('a Watch of an id it was not given is refused, and answers nothing (ids cannot be enumerated)', async () => {
    const s = await server();
    const c = await crafted(s);
    c.sendMessage(Watch(), [999]);
    c.sendMessage(Watch(), [s.controller.address.local]);
    await refusals(s, 2);
    c.sendMessage(Echo({ n: 5 }), []);
    await c.next(EchoReply.type);
    const types = c.events.flatMap((e) => (e.type === 'message' ? [e.message.typeName] : []));
    expect(types).not.toContain(Terminated.type);
  });

  it('one client cannot reach another client: relays through its proxy and control to its proxy are refused', async () => {
    const s = await server();
    const victim = await startClient(s.port);
    cleanups.push(() => victim.close());
    const accepted = await s.controller.next(Accepted);
    const victimProxy = accepted.message.remote.local;
    const c = await crafted(s);
    for (const m of [Stop(), Echo({ n: 9 })]) c.sendMessage(m, [1, victimProxy]);
    c.sendMessage(Close({ value: 'bye' }), [victimProxy]);
    c.sendMessage(Stop(), [victimProxy]);
    await refusals(s, 4);
    expect(s.refused.map((d) => d.detail)).toEqual(
      expect.arrayContaining([expect.stringMatching(/was not given/)]),
    );
    expect(victim.controller.types()).not.toContain(Echo.type);
    expect(s.runtime.isAlive(accepted.message.remote)).toBe(true);
  });

  it('a return address ending in the returning-home mark (posing as a local actor) is refused', async () => {
    const s = await server();
    const c = await crafted(s);
    c.sendMessage(Echo({ n: 7 }), [], [s.controller.address.local, 0]);
    await refusals(s, 1);
    expect(s.refused[0]?.detail).toMatch(/return address/);
    expect(s.controller.types()).not.toContain(Echo.type);
  });

  it('a forged Terminated (for a watch this connection never carried) is refused', async () => {
    const s = await server();
    const c = await crafted(s);
    c.sendMessage(Terminated({ address: s.listener, value: 1 }), []);
    await refusals(s, 1);
    expect(s.refused[0]?.detail).toMatch(/did not carry/);
    expect(s.runtime.isAlive(s.listener)).toBe(true);
  });

  it('addresses the server gave the peer stay reachable: the return address of its reply', async () => {
    const s = await server();
    const c = await crafted(s);
    c.sendMessage(Echo({ n: 11 }), []);
    const reply = await c.next(EchoReply.type);
    // The reply came from the controller; its return stack is the capability.
    expect(reply.ret).toEqual([s.controller.address.local]);
    c.sendMessage(Echo({ n: 12 }), reply.ret);
    expect(await s.controller.waitFor(Echo, (m) => m.n === 12)).toEqual(Echo({ n: 12 }));
    expect(s.refused).toEqual([]);
  });

  it('a peer that keeps sending what it may not is disconnected with policy-violation', async () => {
    const s = await server();
    const c = await crafted(s);
    for (let i = 0; i < 150; i++) c.sendMessage(Stop(), [1000 + i]);
    expect(await c.closed()).toBe('policy-violation');
    expect((await roundTrip(s.port, {}, 4)).n).toBe(4);
  });
});

describe('delivery feedback - the sender learns of a drop on the far side', () => {
  it('a refused or undeliverable message comes back as a dead letter on the sending side, with the far reason', async () => {
    const s = await server();
    const client = await startClient(s.port);
    cleanups.push(() => client.close());
    const connected = await client.controller.next(Connected);
    const remote = connected.message.remote;
    // An actor id on the server that this client was never given: refused there.
    client.runtime.send(new Address([9_999, remote.local]), Echo({ n: 1 }), client.address);
    const far = await (client.runtime as TestRuntime).deadLetters.waitFor(
      (d) =>
        d.reason === 'not-delivered' && /the peer did not deliver it: refused/.test(d.detail ?? ''),
      { what: 'the far refusal as a dead letter at the client' },
    );
    expect(far.message.type).toBe(Echo.type);
    expect(far.from.equals(client.address)).toBe(true);
  });

  it('an ask the far side refuses ends at once with Unanswered, carrying the far reason', async () => {
    const s = await server();
    const client = await startClient(s.port);
    cleanups.push(() => client.close());
    const connected = await client.controller.next(Connected);
    const remote = connected.message.remote;
    const answer = await client.runtime.ask(
      new Address([9_999, remote.local]),
      Echo({ n: 3 }),
      [EchoReply],
      { timeout: 30_000 },
    );
    expect(Unanswered.is(answer)).toBe(true);
    if (Unanswered.is(answer)) expect(JSON.stringify(answer.value)).toMatch(/refused/);
  });

  it('notices are bounded: a flood of undeliverable messages gives at most the notice rate', async () => {
    const s = await server();
    const c = await crafted(s);
    for (let i = 0; i < 99; i++) c.sendMessage(Echo({ n: i }), [5_000 + i], [40]);
    await refusals(s, 99);
    c.sendMessage(Echo({ n: 1 }), []);
    await c.next(EchoReply.type);
    const notices = c.events.filter(
      (e) => e.type === 'message' && e.message.typeName === Undeliverable.type,
    );
    expect(notices.length).toBeGreaterThan(0);
    expect(notices.length).toBeLessThanOrEqual(100);
  });
});
