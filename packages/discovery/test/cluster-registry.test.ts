/**
 * The NATS registry against a real nats-server (JetStream): listings put, watched by exact,
 * glob and regex searches, removed; a dead publisher's listing expiring within its TTL; bad
 * values in the bucket ignored; and a restart of the NATS server (same store, then an empty
 * one): reconnect, own listings put again, watches re-established. One nats-server per
 * file, killed in afterAll. Every wait is on an event, bounded.
 */
import { connect as natsConnect, type NatsConnection } from 'nats';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { killAll, spawnScript } from '@herald/testing';
import { DiscoveryError } from '../src/errors.js';
import type { Listing, Search } from '../src/registry.js';
import { createNatsRegistry, type NatsRegistry } from '../src/cluster/index.js';
import { listingKey } from '../src/cluster/listing-codec.js';
import { natsTestsRun, startNatsServer, type NatsServer } from './cluster-nats-server.js';

/** Bound on every wait. */
const WAIT_MS = 15_000;

const haveNats = natsTestsRun();
let server: NatsServer;
const registries: NatsRegistry[] = [];
const connections: NatsConnection[] = [];
let buckets = 0;

beforeAll(async () => {
  if (haveNats) server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await killAll();
  for (const registry of registries.splice(0)) await registry.close();
  for (const nc of connections.splice(0)) if (!nc.isClosed()) await nc.close();
});

type Event = { kind: 'added' | 'removed'; listing: Listing };

/** What one watch reported, and the listings it holds now. */
class Watched {
  readonly events: Event[] = [];
  readonly present = new Map<string, Listing>();
  readonly #waiters = new Set<() => void>();

  readonly onEvent = (event: Event): void => {
    this.events.push(event);
    if (event.kind === 'added') this.present.set(event.listing.id, event.listing);
    else this.present.delete(event.listing.id);
    for (const waiter of [...this.#waiters]) waiter();
  };

  /** Resolves once `condition` holds (checked after every event), or fails naming `what`. */
  until(condition: () => boolean, what: string): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters.delete(check);
        reject(
          new Error(
            `timed out after ${WAIT_MS} ms waiting for ${what}; events: ${this.describe()}`,
          ),
        );
      }, WAIT_MS);
      const check = (): void => {
        if (!condition()) return;
        clearTimeout(timer);
        this.#waiters.delete(check);
        resolve();
      };
      this.#waiters.add(check);
    });
  }

  ids(): string[] {
    return [...this.present.keys()].sort();
  }

  describe(): string {
    return this.events.map((e) => `${e.kind}:${e.listing.id}`).join(' ');
  }
}

function listing(id: string, name: string, port = 4000): Listing {
  return { id, name, endpoints: [{ host: '10.0.0.1', port, scope: 'cluster' }] };
}

async function registry(options: {
  bucket: string;
  ttlMs?: number;
  connection?: NatsConnection;
  errors?: Error[];
}): Promise<NatsRegistry> {
  const created = await createNatsRegistry({
    ...(options.connection !== undefined
      ? { connection: options.connection }
      : { servers: server.url }),
    bucket: options.bucket,
    ttlMs: options.ttlMs ?? 15_000,
    reconnectWaitMs: 50,
    retryMs: 100,
    timeoutMs: 1_000,
    onError: (error) => options.errors?.push(error),
  });
  registries.push(created);
  return created;
}

function watch(on: NatsRegistry, search: Search): Watched {
  const watched = new Watched();
  on.watch(search, watched.onEvent);
  return watched;
}

function bucket(): string {
  buckets++;
  return `herald-test-${buckets}`;
}

describe.skipIf(!haveNats)('nats registry - listings by name in a KV bucket', () => {
  it('registry - put, then watchers of exact, glob and regex searches see it added; remove() removes it', async () => {
    const b = bucket();
    const publisher = await registry({ bucket: b });
    const subscriber = await registry({ bucket: b });
    const exact = watch(subscriber, { kind: 'exact', pattern: 'billing.eu' });
    const glob = watch(subscriber, { kind: 'glob', pattern: 'billing.*' });
    const regex = watch(subscriber, { kind: 'regex', pattern: 'bill(ing)?\\.(eu|us)' });
    const other = watch(subscriber, { kind: 'exact', pattern: 'billing.us' });
    await publisher.put({
      ...listing('a', 'billing.eu'),
      identity: 'ab'.repeat(32),
      relay: 'herald.r.x.l.7',
    });
    await publisher.put(listing('b', 'billing.us'));
    await publisher.put(listing('c', 'search'));
    await exact.until(() => exact.ids().join() === 'a', 'exact to see a');
    await glob.until(() => glob.ids().join() === 'a,b', 'glob to see a and b');
    await regex.until(() => regex.ids().join() === 'a,b', 'regex to see a and b');
    await other.until(() => other.ids().join() === 'b', 'the other exact to see b');
    expect(exact.present.get('a')).toEqual({
      ...listing('a', 'billing.eu'),
      identity: 'ab'.repeat(32),
      relay: 'herald.r.x.l.7',
    });
    await publisher.remove('a');
    await glob.until(() => glob.ids().join() === 'b', 'glob to see a removed');
    await exact.until(() => exact.ids().length === 0, 'exact to see a removed');
    expect(exact.describe()).toBe('added:a removed:a');
    expect(other.describe()).toBe('added:b');
  });

  it('registry - a watcher that starts late gets every live listing; a changed listing is removed then added', async () => {
    const b = bucket();
    const publisher = await registry({ bucket: b });
    await publisher.put(listing('one', 'svc'));
    await publisher.put(listing('two', 'svc'));
    const late = watch(await registry({ bucket: b }), { kind: 'glob', pattern: 's*' });
    await late.until(() => late.ids().join() === 'one,two', 'both listings');
    await publisher.put(listing('one', 'svc', 5000));
    await late.until(() => late.present.get('one')?.endpoints[0]?.port === 5000, 'the new port');
    expect(late.describe()).toBe('added:one added:two removed:one added:one');
  });

  it('registry - a publication renamed under the same id leaves the old name and appears under the new', async () => {
    const b = bucket();
    const publisher = await registry({ bucket: b });
    const subscriber = await registry({ bucket: b });
    const oldName = watch(subscriber, { kind: 'exact', pattern: 'old' });
    const newName = watch(subscriber, { kind: 'exact', pattern: 'new' });
    await publisher.put(listing('same', 'old'));
    await oldName.until(() => oldName.present.has('same'), 'the old name');
    await publisher.put(listing('same', 'new'));
    await newName.until(() => newName.present.has('same'), 'the new name');
    await oldName.until(() => !oldName.present.has('same'), 'the old name to go');
  });

  it("registry - a dead publisher's listing is removed within its TTL, and a later watcher never sees it", async () => {
    const b = bucket();
    const ttlMs = 1_000;
    const nc = await natsConnect({ servers: server.url });
    connections.push(nc);
    const publisher = await registry({ bucket: b, ttlMs, connection: nc });
    const subscriber = await registry({ bucket: b, ttlMs });
    const watched = watch(subscriber, { kind: 'exact', pattern: 'doomed' });
    await publisher.put(listing('d', 'doomed'));
    await watched.until(() => watched.present.has('d'), 'the listing');
    // The publisher dies: its connection goes without deleting anything.
    await nc.close();
    const died = Date.now();
    await watched.until(() => !watched.present.has('d'), 'the listing to expire');
    const took = Date.now() - died;
    expect(took).toBeLessThanOrEqual(ttlMs + 500);
    expect(watched.describe()).toBe('added:d removed:d');
    // The bucket dropped it too (max age): a new watcher finds nothing.
    const fresh = await registry({ bucket: b, ttlMs });
    const later = watch(fresh, { kind: 'glob', pattern: '*' });
    await fresh.put(listing('marker', 'marker'));
    await later.until(() => later.present.has('marker'), 'the marker');
    expect(later.present.has('d')).toBe(false);
  });

  it('registry - heartbeats keep a live listing for many TTLs', async () => {
    const b = bucket();
    const ttlMs = 600;
    const publisher = await registry({ bucket: b, ttlMs });
    const subscriber = await registry({ bucket: b, ttlMs });
    const watched = watch(subscriber, { kind: 'exact', pattern: 'alive' });
    const clock = watch(subscriber, { kind: 'exact', pattern: 'tick' });
    await publisher.put(listing('alive', 'alive'));
    await watched.until(() => watched.present.has('alive'), 'the listing');
    // Time passes by events, not by sleeping: three publishers in turn die and their
    // listings expire, each at least most of a TTL after it was last refreshed.
    for (let i = 0; i < 3; i++) {
      const nc = await natsConnect({ servers: server.url });
      connections.push(nc);
      const mortal = await registry({ bucket: b, ttlMs, connection: nc });
      await mortal.put(listing(`mortal${i}`, 'tick'));
      await clock.until(() => clock.present.has(`mortal${i}`), `mortal ${i}`);
      await nc.close();
      await clock.until(() => !clock.present.has(`mortal${i}`), `mortal ${i} to expire`);
    }
    expect(watched.describe()).toBe('added:alive');
  });

  it('registry - bad values in the bucket are ignored and reported; good ones still arrive', async () => {
    const b = bucket();
    const errors: Error[] = [];
    const subscriber = await registry({ bucket: b, errors });
    const watched = watch(subscriber, { kind: 'glob', pattern: '*' });
    const nc = await natsConnect({ servers: server.url });
    connections.push(nc);
    const kv = await nc.jetstream().views.kv(b, { bindOnly: true });
    await kv.put(listingKey('evil', 'x1'), new TextEncoder().encode('{not json'));
    await kv.put(
      listingKey('evil', 'x2'),
      new TextEncoder().encode('{"id":"x2","name":"other","endpoints":[]}'),
    );
    await kv.put(
      listingKey('evil', 'x3'),
      new TextEncoder().encode(
        JSON.stringify({
          id: 'x3',
          name: 'evil',
          endpoints: [{ host: 'h', port: 99999, scope: 'lan' }],
        }),
      ),
    );
    await kv.put('not-a-listing-key', new TextEncoder().encode('{}'));
    const publisher = await registry({ bucket: b });
    await publisher.put(listing('good', 'fine'));
    await watched.until(() => watched.present.has('good'), 'the good listing');
    expect(watched.ids()).toEqual(['good']);
    expect(errors.map((e) => e.message).join('\n')).toMatch(
      /not JSON[\s\S]*does not match its key[\s\S]*port/,
    );
  });

  it('registry - bad listings and searches are refused with typed errors', async () => {
    const r = await registry({ bucket: bucket() });
    await expect(r.put({ id: '', name: 'x', endpoints: [] })).rejects.toBeInstanceOf(
      DiscoveryError,
    );
    await expect(
      r.put({ id: 'i', name: 'x', endpoints: [{ host: 'h', port: 0, scope: 'lan' }] }),
    ).rejects.toMatchObject({ code: 'HERALD_ERR_BAD_OPTION' });
    expect(() => r.watch({ kind: 'regex', pattern: '(a+)+' }, () => {})).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_BAD_SEARCH' }),
    );
    await expect(createNatsRegistry({ servers: server.url, ttlMs: 10 })).rejects.toMatchObject({
      code: 'HERALD_ERR_BAD_OPTION',
    });
  });
});

describe.skipIf(!haveNats)('nats registry - a publisher process dies', () => {
  const child = fileURLToPath(new URL('./cluster-publisher-child.ts', import.meta.url));

  it('process - a publisher killed with SIGKILL is removed within its TTL, and added again when it returns', async () => {
    const b = bucket();
    const ttlMs = 1_000;
    const subscriber = await registry({ bucket: b, ttlMs });
    const watched = watch(subscriber, { kind: 'exact', pattern: 'echo' });
    const first = spawnScript(child, [server.url, b, String(ttlMs), 'echo', 'p1']);
    await first.waitForLine(/^published p1$/, WAIT_MS);
    await watched.until(() => watched.present.has('p1'), 'the listing of the process');
    first.kill('SIGKILL');
    await first.exited;
    const died = Date.now();
    await watched.until(() => !watched.present.has('p1'), 'the listing to expire');
    expect(Date.now() - died).toBeLessThanOrEqual(ttlMs + 500);
    // It comes back (a new process, a new publication).
    const second = spawnScript(child, [server.url, b, String(ttlMs), 'echo', 'p2']);
    await second.waitForLine(/^published p2$/, WAIT_MS);
    await watched.until(() => watched.present.has('p2'), 'the listing of the new process');
    expect(watched.describe()).toBe('added:p1 removed:p1 added:p2');
  });
});

describe.skipIf(!haveNats)('nats registry - the NATS server restarts', () => {
  it('restart - same store: watches and heartbeats carry on, nothing is removed, new listings arrive', async () => {
    const b = bucket();
    const publisher = await registry({ bucket: b });
    const subscriber = await registry({ bucket: b });
    const watched = watch(subscriber, { kind: 'glob', pattern: 'svc.*' });
    await publisher.put(listing('before', 'svc.a'));
    await watched.until(() => watched.present.has('before'), 'the first listing');
    await server.restart();
    // (A put right after the restart may be lost to a JetStream still starting: it is retried.)
    await publisher.put(listing('after', 'svc.b'));
    await watched.until(
      () => watched.ids().join() === 'after,before',
      'the listing put after the restart',
    );
    expect(watched.events.filter((e) => e.kind === 'removed')).toEqual([]);
  });

  it('restart - empty store: own listings are put again, watches see them, a dead publisher is gone', async () => {
    const b = bucket();
    const publisher = await registry({ bucket: b });
    const subscriber = await registry({ bucket: b });
    const deadNc = await natsConnect({ servers: server.url, reconnect: false });
    connections.push(deadNc);
    const dead = await registry({ bucket: b, connection: deadNc });
    const watched = watch(subscriber, { kind: 'regex', pattern: 'svc\\..+' });
    await publisher.put(listing('kept', 'svc.a'));
    await dead.put(listing('lost', 'svc.z'));
    await watched.until(() => watched.ids().join() === 'kept,lost', 'both listings');
    // The server comes back with nothing: the bucket is gone with its contents.
    await server.restart({ freshStore: true });
    await watched.until(() => watched.ids().join() === 'kept', 'only the live listing');
    await publisher.put(listing('new', 'svc.b'));
    await watched.until(() => watched.ids().join() === 'kept,new', 'the new listing');
    // A watcher that starts now sees exactly what is alive.
    const late = watch(await registry({ bucket: b }), { kind: 'glob', pattern: '*' });
    await late.until(() => late.ids().join() === 'kept,new', 'the late watcher');
  });
});
