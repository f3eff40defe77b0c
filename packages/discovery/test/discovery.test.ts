/**
 * publish / subscribe in one process: the process directory (no sockets), and a host
 * directory on a real loopback socket (port 0) that two runtimes meet through. Every wait is
 * an awaited message, bounded by the probe's timeout.
 */
import { defineMessage, t } from '@herald/codec';
import {
  Accepted,
  Listening,
  NotConnected,
  connect,
  listen,
  createIdentity,
  formatPublicKey,
  sessionOf,
  type SessionContext,
} from '@herald/net';
import { TestClock, type Runtime, type Self } from '@herald/runtime';
import { closeTestRuntimes, spawnProbe, testRuntime, waitFor, type Probe } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Available,
  Cleared,
  Delivered,
  DirectoryLink,
  Dropped,
  NotAvailable,
  NotDelivered,
  Published,
  Subscribed,
  clear,
  configureDiscovery,
  publish,
  retract,
  startDirectory,
  subscribe,
  type PublishOptions,
  type RunningDirectory,
  type SubscribeOptions,
} from '../src/index.js';
import type { SearchInput } from '../src/search.js';

const Ping = defineMessage('test.Ping', { n: t.int() });
const Pong = defineMessage('test.Pong', { n: t.int() });
const messages = [Ping, Pong];

afterEach(closeTestRuntimes);

function runtimeAt(directory?: RunningDirectory, clock?: TestClock): Runtime {
  const runtime = testRuntime({ messages, ...(clock === undefined ? {} : { clock }) });
  if (directory !== undefined) {
    configureDiscovery(runtime, { directory: directory.listening });
  }
  return runtime;
}

/** A publisher that answers every Ping with a Pong. */
function publisher(runtime: Runtime, name: string, options: PublishOptions = {}): Promise<Probe> {
  return spawnProbe(runtime, {
    name: `publisher ${name}`,
    onStart: (self) => publish(self, name, { messages, ...options }),
    onMessage: (message, self) => {
      if (Ping.is(message)) self.reply(Pong({ n: message.n }));
    },
  });
}

function subscriber(
  runtime: Runtime,
  search: SearchInput,
  options: SubscribeOptions = {},
): Promise<Probe> {
  return spawnProbe(runtime, {
    name: 'subscriber',
    onStart: (self) => subscribe(self, search, { messages, ...options }),
  });
}

async function pingThrough(probe: Probe, peer: Parameters<Self['send']>[0], n: number) {
  probe.self.send(peer, Ping({ n }));
  const pong = await probe.next(Pong, (m) => m.n === n);
  expect(pong.message.n).toBe(n);
}

describe('process scope', () => {
  it('finds a publisher of the same runtime by exact name, without a socket', async () => {
    const runtime = runtimeAt();
    const pub = await publisher(runtime, 'echo', { scope: 'process' });
    const published = await pub.waitFor(Published);
    expect(published.listening).toEqual({ host: 'process', port: 0 });
    const sub = await subscriber(runtime, 'echo', { scope: 'process' });
    await sub.waitFor(Subscribed);
    const available = await sub.next(Available);
    expect(available.message).toMatchObject({ name: 'echo', scope: 'process' });
    expect(available.from.equals(pub.self.address)).toBe(true);
    const delivered = await pub.next(Delivered);
    expect(delivered.from.equals(sub.self.address)).toBe(true);
    await pingThrough(sub, available.from, 1);
  });

  it('tells the subscriber Dropped and NotAvailable when the publication is retracted', async () => {
    const runtime = runtimeAt();
    const pub = await publisher(runtime, 'echo', { scope: 'process' });
    const { agent } = await pub.waitFor(Published);
    const sub = await subscriber(runtime, 'echo', { scope: 'process' });
    await sub.next(Available);
    retract(pub.self, agent);
    await sub.next(Dropped);
    const gone = await sub.next(NotAvailable);
    expect(gone.message).toMatchObject({ name: 'echo', faulted: true });
  });

  it('gives many subscribers the one publisher, and one subscriber every match of a glob', async () => {
    const runtime = runtimeAt();
    await publisher(runtime, 'svc.a', { scope: 'process' });
    await publisher(runtime, 'svc.b', { scope: 'process' });
    await publisher(runtime, 'other', { scope: 'process' });
    const glob = await subscriber(
      runtime,
      { kind: 'glob', pattern: 'svc.*' },
      { scope: 'process' },
    );
    const regex = await subscriber(runtime, /svc\.[ab]/u, { scope: 'process' });
    const exact = await subscriber(runtime, 'svc.a', { scope: 'process' });
    for (const probe of [glob, regex]) {
      const names = [
        (await probe.next(Available)).message.name,
        (await probe.next(Available)).message.name,
      ];
      expect(names.sort()).toEqual(['svc.a', 'svc.b']);
    }
    expect((await exact.next(Available)).message.name).toBe('svc.a');
    expect(glob.count(Available) + regex.count(Available) + exact.count(Available)).toBe(5);
  });

  it('keeps two runtimes in one process apart', async () => {
    const a = runtimeAt();
    const b = runtimeAt();
    await publisher(a, 'echo', { scope: 'process' });
    const there = await subscriber(b, 'echo', { scope: 'process' });
    const here = await subscriber(a, 'echo', { scope: 'process' });
    await here.next(Available);
    await there.waitFor(Subscribed);
    expect(there.count(Available)).toBe(0);
  });

  it('clear() ends the route: Cleared here, Dropped there', async () => {
    const runtime = runtimeAt();
    const pub = await publisher(runtime, 'echo', { scope: 'process' });
    const sub = await subscriber(runtime, 'echo', { scope: 'process' });
    const available = await sub.next(Available);
    clear(sub.self, available.message, 'done');
    expect((await sub.next(Cleared)).message).toMatchObject({ value: 'done' });
    await pub.next(Dropped);
  });
});

describe('host directory', () => {
  it('connects a subscriber to a publisher in another runtime; the return address is the SocketProxy', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, { port: 0 });
    const a = runtimeAt(directory);
    const b = runtimeAt(directory);
    const pub = await publisher(a, 'echo');
    const published = await pub.waitFor(Published);
    expect(published.listening.port).toBeGreaterThan(0);
    const sub = await subscriber(b, 'echo');
    const available = await sub.next(Available);
    expect(available.message).toMatchObject({ name: 'echo', scope: 'host' });
    expect(available.from.equals(available.message.remote)).toBe(true);
    await pub.next(Delivered);
    await pingThrough(sub, available.from, 7);
  });

  it('tells the subscriber Dropped and NotAvailable when the publisher runtime closes, and Available when a new one publishes', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, { port: 0 });
    const a = runtimeAt(directory);
    const b = runtimeAt(directory);
    await publisher(a, 'echo');
    const sub = await subscriber(b, 'echo');
    await sub.next(Available);
    await a.close();
    await sub.next(Dropped);
    await sub.next(NotAvailable);
    const c = runtimeAt(directory);
    await publisher(c, 'echo');
    const again = await sub.next(Available);
    await pingThrough(sub, again.from, 2);
  });

  it('shows a listing with an allow list only to allowed identities, and the listener refuses the rest', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, { port: 0 });
    const friend = createIdentity();
    const stranger = createIdentity();
    const a = runtimeAt(directory);
    const b = runtimeAt(directory);
    const c = runtimeAt(directory);
    configureDiscovery(b, { directory: directory.listening, identity: friend });
    configureDiscovery(c, { directory: directory.listening, identity: stranger });
    const pub = await publisher(a, 'secret', { allow: [formatPublicKey(friend.publicKey)] });
    await pub.waitFor(Published);
    const denied = await subscriber(c, 'secret');
    const allowed = await subscriber(b, 'secret');
    const available = await allowed.next(Available);
    await pingThrough(allowed, available.from, 3);
    // The stranger subscribed first, yet the directory never told it about the listing.
    await denied.waitFor(Subscribed);
    expect(denied.count(Available)).toBe(0);
    // A stranger that knows the port anyway is refused by the publisher's listener.
    const { listening } = await pub.waitFor(Published);
    const intruder = await spawnProbe(c, {
      onStart: (self) => connect(self, listening, { identity: stranger, messages }),
    });
    expect((await intruder.next(NotConnected)).message.reason).toBe('not-authorized');
    const refused = await pub.next(NotDelivered);
    expect(refused.message).toMatchObject({
      reason: 'not-allowed',
      peerKey: formatPublicKey(stranger.publicKey),
    });
  });
});

describe('LAN directory', () => {
  async function threeDirectories() {
    const home = testRuntime();
    const lan = await startDirectory(home, { scope: 'lan', host: '127.0.0.1', port: 0 });
    const hostA = await startDirectory(home, { port: 0, upstream: lan.listening });
    const hostB = await startDirectory(home, { port: 0, upstream: lan.listening });
    return { lan, hostA, hostB };
  }

  it('finds a publisher under another host directory through the LAN directory', async () => {
    const { hostA, hostB } = await threeDirectories();
    const a = runtimeAt(hostA);
    const b = runtimeAt(hostB);
    const pub = await publisher(a, 'echo', { scope: 'lan' });
    await pub.waitFor(Published);
    const sub = await subscriber(b, 'echo', { scope: 'lan' });
    const available = await sub.next(Available);
    expect(available.message).toMatchObject({ name: 'echo', scope: 'lan' });
    await pingThrough(sub, available.from, 4);
    // A host-scope subscriber under the other host directory does not see it.
    const near = await subscriber(b, 'echo', { scope: 'host' });
    await near.waitFor(Subscribed);
    expect(near.count(Available)).toBe(0);
  });

  it('uses the nearest route, falls back to a farther one, and moves back after the holding time', async () => {
    const { hostA } = await threeDirectories();
    const clock = new TestClock();
    const a = runtimeAt(hostA);
    const b = runtimeAt(hostA, clock);
    configureDiscovery(b, {
      directory: hostA.listening,
      promotionHoldMs: 30_000,
      routeRetryMs: 2_000,
    });
    const pub = await publisher(a, 'echo', { scope: 'lan' });
    await pub.waitFor(Published);
    // Keep-alive off: this runtime's clock jumps while the publisher's runs in real time.
    const sub = await subscriber(b, 'echo', { scope: 'lan', connect: { keepaliveIdleMs: 0 } });
    const first = await sub.next(Available);
    expect(first.message.scope).toBe('host');
    // Wait until the lan route is known too: the LAN directory reported the listing upwards.
    const delivered = await pub.next(Delivered);
    clear(pub.self, delivered.message, 'go away');
    await sub.next(Dropped);
    await sub.next(NotAvailable);
    const fallback = await sub.next(Available);
    expect(fallback.message.scope).toBe('lan');
    await pingThrough(sub, fallback.from, 5);
    // The host route may be tried again after routeRetryMs; then the holding time runs.
    await clock.advanceAsync(2_000);
    await clock.advanceAsync(29_000);
    expect(sub.count(Available)).toBe(2);
    await clock.advanceAsync(1_000);
    const promoted = await sub.next(Available);
    expect(promoted.message.scope).toBe('host');
    await pingThrough(sub, promoted.from, 6);
    expect(sub.count(NotAvailable)).toBe(1);
  });
});

describe('directory bounds', () => {
  it('refuses a catastrophic regex sent straight to it, and keeps serving', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, { port: 0 });
    const hostile = testRuntime({ messages });
    const link = new DirectoryLink(hostile, directory.listening);
    link.watchScoped({ kind: 'regex', pattern: '(a+)+b' }, 'host', () => undefined);
    const refused = await home.log.waitFor(
      (line) => line.msg === 'refused a request' && String(line['reason']).startsWith('bad-search'),
      'the search refused',
    );
    expect(String(refused['reason'])).toMatch(/quantified group/u);
    const pub = await publisher(runtimeAt(directory), 'echo');
    await pub.waitFor(Published);
    const sub = await subscriber(runtimeAt(directory), 'echo');
    await pingThrough(sub, (await sub.next(Available)).from, 1);
    await link.close();
  });

  it('refuses searches and listings beyond its per-connection limits, and serves the rest', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, {
      port: 0,
      maxSearchesPerConnection: 2,
      maxListingsPerConnection: 1,
    });
    const runtime = runtimeAt(directory);
    const first = await publisher(runtime, 'one');
    await first.waitFor(Published);
    await publisher(runtime, 'two');
    await home.log.waitFor((line) => line['reason'] === 'limit', 'a listing refused');
    const other = runtimeAt(directory);
    const subs = [
      await subscriber(other, 'one'),
      await subscriber(other, 'two'),
      await subscriber(other, 'three'),
    ];
    await home.log.waitFor(
      () => home.log.withMessage('refused a request').length >= 2,
      'a search refused too',
    );
    expect(home.log.withMessage('refused a request').length).toBe(2);
    // The one listing within the limit is found by one of the two searches within it.
    const found = await Promise.race(subs.slice(0, 2).map((s) => s.waitFor(Available)));
    expect(found.name).toBe('one');
  });
});

/** The publisher's session answers Ping with ten times n. */
async function answering(self: Self): Promise<void> {
  for (;;) {
    const ping = await self.receive(Ping);
    self.reply(Pong({ n: ping.n * 10 }));
  }
}

/** The subscriber's session pings once and returns the Pong. */
async function asking(self: Self, context: SessionContext): Promise<unknown> {
  self.send(context.remote, Ping({ n: 4 }));
  return self.receive(Pong);
}

describe('sessions per match', () => {
  it('gives each route a session on both sides; Available and Delivered carry them as the peer', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, { port: 0 });
    const a = runtimeAt(directory);
    const b = runtimeAt(directory);
    const pub = await publisher(a, 'echo', { session: sessionOf(answering) });
    await pub.waitFor(Published);
    const sub = await subscriber(b, 'echo', { session: sessionOf(asking) });
    const available = await sub.next(Available);
    expect(available.message.session).toBeDefined();
    expect(available.from.equals(available.message.session!)).toBe(true);
    const delivered = await pub.next(Delivered);
    expect(delivered.from.equals(delivered.message.session!)).toBe(true);
    // The subscriber's session got Pong{40} and completed: its value closes the route.
    const cleared = await sub.next(Cleared);
    expect(cleared.message.value).toMatchObject({ type: 'test.Pong', n: 40 });
    await pub.next(Dropped);
  });

  it('gives a process route sessions too: the same calls, no connection', async () => {
    const runtime = runtimeAt();
    const pub = await publisher(runtime, 'echo', {
      scope: 'process',
      session: sessionOf(answering),
    });
    await pub.waitFor(Published);
    const sub = await subscriber(runtime, 'echo', {
      scope: 'process',
      session: sessionOf(asking),
    });
    const available = await sub.next(Available);
    expect(available.from.equals(available.message.session!)).toBe(true);
    const delivered = await pub.next(Delivered);
    expect(delivered.from.equals(delivered.message.session!)).toBe(true);
    const cleared = await sub.next(Cleared);
    expect(cleared.message).toMatchObject({
      reason: 'session-completed',
      value: { type: 'test.Pong', n: 40 },
    });
    await pub.next(Dropped);
    // A subscriber without a session talks to the publisher's session directly.
    const plain = await subscriber(runtime, 'echo', { scope: 'process' });
    const route = await plain.next(Available);
    plain.self.send(route.from, Ping({ n: 5 }));
    expect((await plain.next(Pong)).message.n).toBe(50);
  });
});

describe('forged listings', () => {
  it('a listing that claims another publisher identity is refused or leads nowhere', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, { port: 0 });
    const victim = createIdentity();
    const victimHex = Buffer.from(victim.publicKey).toString('hex');
    const real = runtimeAt(directory);
    configureDiscovery(real, { directory: directory.listening, identity: victim });
    const pub = await publisher(real, 'bank');
    const published = await pub.waitFor(Published);

    // An anonymous attacker lists its own listener under the victim's key...
    const attacker = runtimeAt(directory);
    const trap = await spawnProbe(attacker, {
      onStart: (self) => listen(self, { port: 0 }, { encrypted: true, messages }),
    });
    const { listening } = (await trap.next(Listening)).message;
    const forged = new DirectoryLink(attacker, directory.listening);
    await forged.put({
      id: 'forged',
      name: 'bank',
      endpoints: [{ host: '127.0.0.1', port: listening.port, scope: 'host' }],
      identity: victimHex,
    });
    // ...and one with a key of its own claims the victim's key outright: refused.
    const other = runtimeAt(directory);
    const claimant = new DirectoryLink(other, directory.listening, { identity: createIdentity() });
    await claimant.put({
      id: 'claim',
      name: 'bank',
      endpoints: [{ host: '127.0.0.1', port: listening.port, scope: 'host' }],
      identity: victimHex,
    });
    await home.log.waitFor((line) => line['reason'] === 'identity-mismatch', 'the claim refused');

    const watcher = testRuntime({ messages });
    configureDiscovery(watcher, { directory: directory.listening });
    const sub = await subscriber(watcher, 'bank');
    const available = await sub.next(Available);
    expect(available.message.listing).toBe(published.listing);
    await pingThrough(sub, available.from, 9);
    // The forged route failed its handshake: the trap cannot prove the victim's key.
    await watcher.log.waitFor(
      (line) => line.msg === 'not connected' && line['reason'] === 'peer-key-mismatch',
      'the forged route refused',
    );
    expect(trap.count(Accepted)).toBe(0);
    expect(sub.all(Available).map((m) => m.listing)).toEqual([published.listing]);
    await forged.close();
    await claimant.close();
  });
});

describe('directory restarts', () => {
  it('a LAN directory that restarts gets the listings and searches of the host directories back', async () => {
    const home = testRuntime();
    const quick = { steps: [50], regular: 100, jitter: 0, jitterQuantumMs: 50 };
    const lan = await startDirectory(home, { scope: 'lan', host: '127.0.0.1', port: 0 });
    const hostA = await startDirectory(home, { port: 0, upstream: lan.listening, backoff: quick });
    const hostB = await startDirectory(home, { port: 0, upstream: lan.listening, backoff: quick });
    const pub = await publisher(runtimeAt(hostA), 'echo', { scope: 'lan' });
    await pub.waitFor(Published);
    const sub = await subscriber(runtimeAt(hostB), 'echo', { scope: 'lan' });
    const first = await sub.next(Available);

    await lan.close();
    // The route in use does not go through any directory.
    await pingThrough(sub, first.from, 1);
    const again = await startDirectory(home, {
      scope: 'lan',
      host: '127.0.0.1',
      port: lan.listening.port,
    });
    // A newcomer under host B finds the publisher under host A: both host directories
    // passed their listings and searches up again by themselves.
    const newcomer = await subscriber(runtimeAt(hostB), 'echo', { scope: 'lan' });
    const found = await newcomer.next(Available);
    expect(found.message).toMatchObject({ scope: 'lan', listing: first.message.listing });
    await pingThrough(newcomer, found.from, 2);
    expect(sub.count(Dropped)).toBe(0);
    await again.close();
  });
});

describe('retract', () => {
  it('retract(self) ends every publication and subscription self started', async () => {
    const runtime = runtimeAt();
    const pub = await publisher(runtime, 'echo', { scope: 'process' });
    await pub.waitFor(Published);
    const watcher = await subscriber(runtime, 'echo', { scope: 'process' });
    await watcher.next(Available);
    const both = await spawnProbe(runtime, {
      onStart: (self) => {
        publish(self, 'second', { scope: 'process' });
        subscribe(self, 'echo', { scope: 'process' });
      },
    });
    await both.next(Available);
    const { agent } = await both.waitFor(Published);
    retract(both.self);
    await waitFor(() => !runtime.isAlive(agent), { what: 'the publishing agent ended' });
    // Its subscription's route ends at the publisher, its publication is withdrawn.
    await pub.next(Dropped);
    const late = await subscriber(runtime, 'second', { scope: 'process' });
    await late.waitFor(Subscribed);
    expect(late.count(Available)).toBe(0);
    expect(watcher.count(NotAvailable)).toBe(0);
  });
});

describe('directory access', () => {
  it('admits only allowed keys to a directory, and a runtime pins the directory key', async () => {
    const home = testRuntime();
    const directoryIdentity = createIdentity();
    const friend = createIdentity();
    const directory = await startDirectory(home, {
      port: 0,
      identity: directoryIdentity,
      allowedPeerKeys: [formatPublicKey(friend.publicKey)],
    });
    const withKeys = (identity: ReturnType<typeof createIdentity>, directoryKey: string) => {
      const runtime = testRuntime({ messages });
      configureDiscovery(runtime, { directory: directory.listening, identity, directoryKey });
      return runtime;
    };
    const realKey = formatPublicKey(directoryIdentity.publicKey);
    const pub = await publisher(withKeys(friend, realKey), 'echo');
    await pub.waitFor(Published);
    const sub = await subscriber(withKeys(friend, realKey), 'echo');
    await pingThrough(sub, (await sub.next(Available)).from, 1);

    // A stranger is refused by the directory; a friend pinning another key refuses it.
    const stranger = withKeys(createIdentity(), realKey);
    const outsider = await subscriber(stranger, 'echo');
    await stranger.log.waitFor(
      (line) => line.msg === 'not connected' && line['reason'] === 'not-authorized',
      'the directory refused the stranger',
    );
    const misled = withKeys(friend, formatPublicKey(createIdentity().publicKey));
    const pinned = await subscriber(misled, 'echo');
    await misled.log.waitFor(
      (line) => line.msg === 'not connected' && line['reason'] === 'peer-key-mismatch',
      'the pin refused the directory',
    );
    expect(outsider.count(Available) + pinned.count(Available)).toBe(0);
  });
});

describe('configureDiscovery', () => {
  it('refuses to change a runtime that already reached its directory', async () => {
    const home = testRuntime();
    const directory = await startDirectory(home, { port: 0 });
    const runtime = runtimeAt(directory);
    const sub = await subscriber(runtime, 'echo');
    await sub.waitFor(Subscribed);
    expect(() => configureDiscovery(runtime, { identity: createIdentity() })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
    );
    expect(() => configureDiscovery(testRuntime(), { promotionHoldMs: -1 })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
    );
  });
});
