/**
 * Send modes and at-least-once delivery inside one runtime on a TestClock: peers are actors
 * added by hand, so every retransmission and backoff step is driven exactly. Each aiomsg
 * fault listed in issue 13 has a test here named after it.
 */
import { Congested, Drained } from '@herald/net';
import { Completed, TestClock, settle, type Runtime } from '@herald/runtime';
import { closeTestRuntimes, spawnProbe, testRuntime, type Probe } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { BadPatternOptionError } from '../src/errors.js';
import { Delivered, NotDelivered, Reliable } from '../src/messages.js';
import { createOutlet, type Outlet, type OutletOptions } from '../src/outlet.js';
import { Job, spawnReceiver } from './support.js';

afterEach(closeTestRuntimes);

async function owner(
  runtime: Runtime,
  options: OutletOptions = {},
): Promise<{ probe: Probe; outlet: Outlet }> {
  let outlet: Outlet | undefined;
  const probe = await spawnProbe(runtime, {
    name: 'owner',
    onStart: (self) => {
      outlet = createOutlet(self, options);
    },
    onMessage: (message) => {
      outlet?.observe(message);
    },
  });
  if (outlet === undefined) throw new Error('outlet not created');
  return { probe, outlet };
}

const jobs = (received: readonly unknown[]): number[] =>
  received.map((m) => (Job.is(m) ? m.n : -1));

describe('outlet send modes', () => {
  it('round-robin gives each message to one peer in turn', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const peers = await Promise.all([0, 1, 2].map(() => spawnReceiver(runtime)));
    const { outlet } = await owner(runtime);
    for (const peer of peers) outlet.addPeer(peer.address);
    for (let n = 0; n < 6; n++) outlet.send(Job({ n }));
    await settle();
    expect(peers.map((p) => jobs(p.plain.entries))).toEqual([
      [0, 3],
      [1, 4],
      [2, 5],
    ]);
  });

  it('round-robin skips a congested peer until it drains', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const [a, b] = await Promise.all([spawnReceiver(runtime), spawnReceiver(runtime)]);
    const { outlet } = await owner(runtime);
    outlet.addPeer(a!.address);
    outlet.addPeer(b!.address);
    outlet.observe(
      Congested({ remote: a!.address, pendingBytes: 2_000_000, highWaterBytes: 1_000_000 }),
    );
    for (let n = 0; n < 4; n++) outlet.send(Job({ n }));
    await settle();
    expect(jobs(a!.plain.entries)).toEqual([]);
    expect(jobs(b!.plain.entries)).toEqual([0, 1, 2, 3]);
    outlet.observe(Drained({ remote: a!.address, pendingBytes: 0 }));
    outlet.send(Job({ n: 4 }));
    outlet.send(Job({ n: 5 }));
    await settle();
    expect(jobs(a!.plain.entries).length + jobs(b!.plain.entries).length).toBe(6);
    expect(jobs(a!.plain.entries).length).toBeGreaterThan(0);
  });

  it('a round-robin message waits (bounded) while every peer is congested', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const a = await spawnReceiver(runtime);
    const { outlet, probe } = await owner(runtime, { bufferLimit: 1 });
    outlet.addPeer(a.address);
    outlet.observe(Congested({ remote: a.address, pendingBytes: 2, highWaterBytes: 1 }));
    outlet.send(Job({ n: 0 }));
    const second = outlet.send(Job({ n: 1 }));
    const refused = await probe.next(NotDelivered);
    expect(refused.message).toMatchObject({
      id: second,
      reason: 'buffer-full',
      messageType: Job.type,
    });
    outlet.observe(Drained({ remote: a.address, pendingBytes: 0 }));
    await a.plain.waitFor(() => true);
    expect(jobs(a.plain.entries)).toEqual([0]);
  });

  it('all sends a copy to every peer', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const peers = await Promise.all([0, 1, 2].map(() => spawnReceiver(runtime)));
    const { outlet } = await owner(runtime, { mode: 'all' });
    for (const peer of peers) outlet.addPeer(peer.address);
    outlet.send(Job({ n: 7 }));
    await settle();
    expect(peers.map((p) => jobs(p.plain.entries))).toEqual([[7], [7], [7]]);
  });

  it('by identity reaches only the peer with that proven key; by name the declared one', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const [a, b] = await Promise.all([spawnReceiver(runtime), spawnReceiver(runtime)]);
    const { outlet } = await owner(runtime, { mode: 'all' });
    outlet.addPeer(a!.address, { identity: 'herald-x25519:AAA', name: 'alpha' });
    outlet.addPeer(b!.address, { identity: 'herald-x25519:BBB', name: 'beta' });
    outlet.send(Job({ n: 1 }), { identity: 'herald-x25519:BBB' });
    outlet.send(Job({ n: 2 }), { peer: 'alpha' });
    await settle();
    expect(jobs(a!.plain.entries)).toEqual([2]);
    expect(jobs(b!.plain.entries)).toEqual([1]);
  });

  it("a discovery subscription's Available / NotAvailable add and remove peers (name and proven key)", async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const [a, b] = await Promise.all([spawnReceiver(runtime), spawnReceiver(runtime)]);
    const { outlet } = await owner(runtime);
    const available = (listing: string, remote: typeof a.address, peerKey?: string) => ({
      type: 'herald.discovery.Available',
      search: 'jobs',
      name: 'jobs',
      scope: 'host',
      listing,
      opened: new Date(0),
      remote,
      agent: remote,
      ...(peerKey === undefined ? {} : { peerKey }),
    });
    expect(outlet.observe(available('L1', a.address, 'herald-x25519:AAA'))).toBe(true);
    expect(outlet.observe(available('L2', b.address))).toBe(true);
    expect(outlet.peers().map((p) => [p.name, p.identity])).toEqual([
      ['jobs', 'herald-x25519:AAA'],
      ['jobs', undefined],
    ]);
    outlet.send(Job({ n: 1 }), { identity: 'herald-x25519:AAA' });
    await settle();
    expect(jobs(a.plain.entries)).toEqual([1]);
    const notAvailable = {
      type: 'herald.discovery.NotAvailable',
      search: 'jobs',
      name: 'jobs',
      listing: 'L1',
      reason: 'gone',
    };
    outlet.observe(notAvailable);
    expect(outlet.peers().map((p) => p.address.key)).toEqual([b.address.key]);
    outlet.send(Job({ n: 2 }));
    await settle();
    expect(jobs(b.plain.entries)).toEqual([2]);
  });

  it("passes a send's priority on; an at-least-once wrapper takes its body's priority", async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const peer = await spawnReceiver(runtime);
    const { outlet } = await owner(runtime);
    outlet.addPeer(peer.address);
    outlet.send(Job({ n: 1 }), { priority: 'low' });
    outlet.send(Job({ n: 2 }), { priority: 'high', delivery: 'at-least-once' });
    outlet.send(Job({ n: 3 }), { delivery: 'at-least-once' });
    await peer.accepted.waitFor(() => peer.accepted.entries.length === 2);
    // All three were in the receiver's mailbox at once: served by lane, high first.
    expect(peer.priorities).toEqual([0, 1, 2]);
    expect(peer.plain.entries).toEqual([Job({ n: 1 })]);
    expect(peer.accepted.entries).toEqual([Job({ n: 2 }), Job({ n: 3 })]);
  });

  it('with no peer: buffers up to the bound, refuses beyond it with NotDelivered, delivers the rest once', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const { outlet, probe } = await owner(runtime, { bufferLimit: 2 });
    outlet.send(Job({ n: 0 }));
    outlet.send(Job({ n: 1 }));
    const third = outlet.send(Job({ n: 2 }));
    const refused = await probe.next(NotDelivered);
    expect(refused.message).toMatchObject({
      id: third,
      reason: 'buffer-full',
      code: 'HERALD_NOT_DELIVERED',
    });
    expect(outlet.pending).toBe(2);
    const peer = await spawnReceiver(runtime);
    outlet.addPeer(peer.address);
    await peer.plain.waitFor(() => peer.plain.entries.length === 2);
    runtime.clock.advance(60_000);
    await settle();
    expect(jobs(peer.plain.entries)).toEqual([0, 1]);
    expect(outlet.pending).toBe(0);
  });

  it('a message that waits longer than bufferTimeoutMs is given up with NotDelivered', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const { outlet, probe } = await owner(runtime, { bufferTimeoutMs: 500 });
    const id = outlet.send(Job({ n: 0 }), { identity: 'herald-x25519:nobody' });
    await settle();
    runtime.clock.advance(499);
    await settle();
    expect(probe.count(NotDelivered)).toBe(0);
    runtime.clock.advance(1);
    const refused = await probe.next(NotDelivered);
    expect(refused.message).toMatchObject({ id, reason: 'buffer-timeout' });
  });

  it('stopping the outlet answers every message it still holds with NotDelivered{ outlet-stopped }', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const { outlet, probe } = await owner(runtime, { delivery: 'at-least-once' });
    const ids = [outlet.send(Job({ n: 1 })), outlet.send(Job({ n: 2 }), { peer: 'nobody' })];
    await settle();
    outlet.stop();
    await probe.recorder.waitFor(() => probe.count(NotDelivered) === 2);
    expect(probe.all(NotDelivered).map((m) => [m.id, m.reason])).toEqual([
      [ids[0], 'outlet-stopped'],
      [ids[1], 'outlet-stopped'],
    ]);
    await probe.waitFor(Completed); // the outlet (the probe's child) has ended
    const late = outlet.send(Job({ n: 3 }));
    const refused = await probe.next(NotDelivered, (m) => m.id === late);
    expect(refused.message.reason).toBe('outlet-stopped');
    expect(outlet.pending).toBe(0);
  });

  it('rejects bad options at the call with HERALD_ERR_BAD_OPTION', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const { outlet, probe } = await owner(runtime);
    expect(() => createOutlet(probe.self, { bufferLimit: -1 })).toThrow(BadPatternOptionError);
    expect(() => createOutlet(probe.self, { ackTimeoutMs: Number.NaN })).toThrow(
      BadPatternOptionError,
    );
    expect(() => outlet.send(Job({ n: 0 }), { persistent: true })).toThrow(BadPatternOptionError);
    expect(() => outlet.send(Job({ n: 0 }), { mode: 'sideways' as 'all' })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }) as Error,
    );
  });
});

describe('at-least-once (the aiomsg faults, one test each)', () => {
  it('retries are bounded, with backoff, then NotDelivered (aiomsg retried every 5 s for ever)', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const peer = await spawnReceiver(runtime, { drop: () => true });
    const { outlet, probe } = await owner(runtime, {
      delivery: 'at-least-once',
      ackTimeoutMs: 100,
      retryFactor: 2,
      maxRetryDelayMs: 500,
      maxAttempts: 5,
    });
    outlet.addPeer(peer.address);
    const id = outlet.send(Job({ n: 1 }));
    const times: number[] = [];
    await peer.transmissions.waitFor(() => true);
    times.push(runtime.clock.now());
    for (let i = 0; i < 60 && probe.count(NotDelivered) === 0; i++) {
      runtime.clock.advance(50);
      await settle();
      if (peer.transmissions.entries.length > times.length) times.push(runtime.clock.now());
    }
    // 1 transmission + 4 retries after 100, 200, 400, 500 (capped) ms; then given up.
    expect(times).toEqual([0, 100, 300, 700, 1200]);
    const given = await probe.next(NotDelivered);
    expect(given.message).toMatchObject({ id, reason: 'retries-exhausted', attempts: 5 });
    runtime.clock.advance(10_000);
    await settle();
    expect(peer.transmissions.entries.length).toBe(5);
    expect(outlet.pending).toBe(0);
  });

  it('a retransmission keeps the message id, so the receiver delivers it once (aiomsg gave each resend a new id)', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    // The first two transmissions are "lost"; the third is accepted; its ack is lost too
    // (simulated by dropping the 3rd and accepting from the 4th: duplicates are re-acked).
    let seen = 0;
    const peer = await spawnReceiver(runtime, { drop: () => ++seen <= 2 });
    const { outlet, probe } = await owner(runtime, {
      delivery: 'at-least-once',
      confirm: true,
      ackTimeoutMs: 100,
    });
    outlet.addPeer(peer.address);
    const id = outlet.send(Job({ n: 42 }));
    for (let i = 0; i < 10 && probe.count(Delivered) === 0; i++) {
      runtime.clock.advance(100);
      await settle();
    }
    const ids = peer.transmissions.entries.map((m) => `${m.sender}:${String(m.seq)}`);
    expect(ids.length).toBe(3);
    expect(new Set(ids)).toEqual(new Set([id]));
    expect(peer.transmissions.entries.map((m) => m.attempt)).toEqual([1, 2, 3]);
    expect(jobs(peer.accepted.entries)).toEqual([42]);
    expect((await probe.next(Delivered)).message).toMatchObject({ id, messageType: Job.type });
  });

  it('a duplicate that arrives after the ack is recognised and acknowledged, not delivered again', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const peer = await spawnReceiver(runtime);
    const self = (await spawnProbe(runtime)).self;
    const copy = Reliable({ sender: 'abc', seq: 5, floor: 5, attempt: 1, body: Job({ n: 5 }) });
    self.send(peer.address, copy);
    self.send(peer.address, Reliable({ ...copy, attempt: 2 }));
    await settle();
    expect(jobs(peer.accepted.entries)).toEqual([5]);
    expect(peer.inbox.duplicates).toBe(1);
  });

  it('publish with at-least-once is acknowledged per peer, never degraded (aiomsg silently sent it at most once)', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const good = await Promise.all([spawnReceiver(runtime), spawnReceiver(runtime)]);
    const deaf = await spawnReceiver(runtime, { drop: () => true });
    const { outlet, probe } = await owner(runtime, {
      mode: 'all',
      delivery: 'at-least-once',
      confirm: true,
      ackTimeoutMs: 100,
      maxAttempts: 3,
    });
    outlet.addPeer(good[0]!.address, { name: 'g0' });
    outlet.addPeer(good[1]!.address, { name: 'g1' });
    outlet.addPeer(deaf.address, { name: 'deaf' });
    const id = outlet.send(Job({ n: 9 }));
    for (let i = 0; i < 20 && probe.count(NotDelivered) === 0; i++) {
      runtime.clock.advance(100);
      await settle();
    }
    expect(
      probe
        .all(Delivered)
        .map((d) => [d.id, d.peer])
        .sort(),
    ).toEqual([
      [id, 'g0'],
      [id, 'g1'],
    ]);
    expect(probe.all(NotDelivered)).toEqual([
      expect.objectContaining({ id, peer: 'deaf', reason: 'retries-exhausted', attempts: 3 }),
    ]);
    expect(deaf.transmissions.entries.length).toBe(3);
    expect(good.map((g) => jobs(g.accepted.entries))).toEqual([[9], [9]]);
  });

  it('a message buffered longer than the ack timeout is delivered once when a peer appears (aiomsg delivered it twice)', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const { outlet, probe } = await owner(runtime, {
      delivery: 'at-least-once',
      ackTimeoutMs: 100,
      confirm: true,
    });
    outlet.send(Job({ n: 1 }));
    outlet.send(Job({ n: 2 }));
    await settle();
    runtime.clock.advance(10_000); // far past the ack timeout while buffered
    await settle();
    const peer = await spawnReceiver(runtime);
    outlet.addPeer(peer.address);
    await probe.recorder.waitFor(() => probe.count(Delivered) === 2);
    runtime.clock.advance(10_000);
    await settle();
    expect(peer.transmissions.entries.length).toBe(2);
    expect(jobs(peer.accepted.entries)).toEqual([1, 2]);
  });

  it('a full receive mailbox loses nothing: what did not fit is retransmitted (aiomsg dropped it)', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const peer = await spawnReceiver(runtime, { capacity: 4 });
    const { outlet, probe } = await owner(runtime, {
      delivery: 'at-least-once',
      ackTimeoutMs: 100,
      confirm: true,
    });
    outlet.addPeer(peer.address);
    for (let n = 0; n < 20; n++) outlet.send(Job({ n }));
    await settle();
    expect(runtime.deadLetters.entries.length).toBeGreaterThan(0); // the mailbox overflowed
    for (let i = 0; i < 40 && probe.count(Delivered) < 20; i++) {
      runtime.clock.advance(100);
      await settle();
    }
    expect(probe.count(Delivered)).toBe(20);
    expect(jobs(peer.accepted.entries).sort((x, y) => x - y)).toEqual([...Array(20).keys()]);
    expect(probe.count(NotDelivered)).toBe(0);
  });

  it('in-flight messages to a peer that leaves go to another peer at once (aiomsg lost what was queued on a dead connection)', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const a = await spawnReceiver(runtime, { drop: () => true }); // receives but never acks
    const b = await spawnReceiver(runtime);
    const { outlet, probe } = await owner(runtime, {
      delivery: 'at-least-once',
      ackTimeoutMs: 1_000,
      confirm: true,
    });
    outlet.addPeer(a.address);
    outlet.send(Job({ n: 1 }));
    await a.transmissions.waitFor(() => true);
    outlet.addPeer(b.address);
    outlet.removePeer(a.address);
    const delivered = await probe.next(Delivered);
    expect(runtime.clock.now()).toBe(0); // no timer had to fire
    expect(delivered.message.messageType).toBe(Job.type);
    expect(jobs(b.accepted.entries)).toEqual([1]);
  });
});
