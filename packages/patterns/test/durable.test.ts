/**
 * The durable store in one process: the outbox's bound on disk use (a typed error), its
 * replay after the store is reopened, and the inbox's window surviving a reopen. The
 * multi-process SIGKILL tests are in test/patterns-durable.test.ts.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Completed, TestClock, settle, type Runtime } from '@herald/runtime';
import { closeTestRuntimes, spawnProbe, testRuntime } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { openDurableStore, type DurableStore } from '../src/durable-store.js';
import { OutboxFullError, StoreError } from '../src/errors.js';
import { Delivered, Reliable } from '../src/messages.js';
import { createOutlet, type Outlet, type OutletOptions } from '../src/outlet.js';
import { Job, spawnReceiver } from './support.js';

const dirs: string[] = [];
const stores: DurableStore[] = [];
afterEach(async () => {
  await closeTestRuntimes();
  await Promise.all(stores.splice(0).map((s) => s.close()));
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

function storeAt(dir: string, sync: 'batched' | 'per-message' = 'batched'): DurableStore {
  const store = openDurableStore(dir, { sync });
  stores.push(store);
  return store;
}

function tempDir(): string {
  const dir = mkdtempSync(join(tmpdir(), 'herald-durable-'));
  dirs.push(dir);
  return dir;
}

async function outletIn(runtime: Runtime, options: OutletOptions) {
  let outlet: Outlet | undefined;
  const probe = await spawnProbe(runtime, {
    onStart: (self) => {
      outlet = createOutlet(self, options);
    },
  });
  return { probe, outlet: outlet! };
}

describe('durable outbox', () => {
  it('refuses a persistent send beyond maxMessages or maxBytes with OutboxFullError, and takes one again after an ack', async () => {
    const runtime = testRuntime({ clock: new TestClock(), messages: [Job] });
    const { outlet, probe } = await outletIn(runtime, {
      store: storeAt(tempDir()),
      maxMessages: 2,
      confirm: true,
    });
    outlet.send(Job({ n: 0 }), { persistent: true });
    outlet.send(Job({ n: 1 }), { persistent: true });
    let thrown: unknown;
    try {
      outlet.send(Job({ n: 2 }), { persistent: true });
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(OutboxFullError);
    expect(thrown).toMatchObject({ code: 'HERALD_ERR_OUTBOX_FULL', messages: 2 });
    const peer = await spawnReceiver(runtime);
    outlet.addPeer(peer.address);
    await probe.recorder.waitFor(() => probe.count(Delivered) === 2);
    expect(() => outlet.send(Job({ n: 2 }), { persistent: true })).not.toThrow();

    const small = await outletIn(runtime, {
      store: storeAt(tempDir()),
      maxBytes: 40,
      name: 'small',
    });
    expect(() => small.outlet.send(Job({ n: 1 }), { persistent: true })).not.toThrow();
    expect(() => small.outlet.send(Job({ n: 2 }), { persistent: true })).toThrow(OutboxFullError);
  });

  it('replays what was not acknowledged after the store is reopened, with the same ids', async () => {
    const dir = tempDir();
    const first = testRuntime({ clock: new TestClock(), messages: [Job] });
    const store1 = openDurableStore(dir);
    const a = await outletIn(first, { store: store1 });
    const ids = [0, 1, 2].map((n) => a.outlet.send(Job({ n }), { persistent: true }));
    await a.outlet.committed();
    await first.close();
    await store1.close();

    const second = testRuntime({ clock: new TestClock(), messages: [Job] });
    const b = await outletIn(second, { store: storeAt(dir), confirm: true });
    expect(b.outlet.senderId).toBe(a.outlet.senderId);
    expect(b.outlet.pending).toBe(3);
    const peer = await spawnReceiver(second);
    b.outlet.addPeer(peer.address);
    await probe3(b.probe);
    expect(b.probe.all(Delivered).map((d) => d.id)).toEqual(ids);
    expect(peer.accepted.entries).toEqual([Job({ n: 0 }), Job({ n: 1 }), Job({ n: 2 })]);
    // New sends continue the sequence: never an id the receiver has already seen.
    const next = b.outlet.send(Job({ n: 3 }), { persistent: true });
    expect(ids).not.toContain(next);
  });

  it('one outbox name per store in a process', async () => {
    const runtime = testRuntime({ clock: new TestClock(), messages: [Job] });
    const store = storeAt(tempDir());
    const probe = await spawnProbe(runtime);
    const first = createOutlet(probe.self, { store });
    expect(() => createOutlet(probe.self, { store })).toThrow(StoreError);
    first.stop();
    await probe.waitFor(Completed); // the outlet (the probe's child) has ended
    expect(() => createOutlet(probe.self, { store })).not.toThrow(); // released when it ended
  });
});

async function probe3(probe: Awaited<ReturnType<typeof spawnProbe>>): Promise<void> {
  await probe.recorder.waitFor(() => probe.count(Delivered) === 3);
}

describe('persistent receiver window', () => {
  it('recognises a duplicate after the store is reopened', async () => {
    const dir = tempDir();
    const runtime = testRuntime({ clock: new TestClock(), messages: [Job] });
    const store1 = openDurableStore(dir);
    const first = await spawnReceiver(runtime, { store: store1 });
    const sender = await spawnProbe(runtime);
    const message = Reliable({ sender: 'feed', seq: 7, floor: 7, attempt: 1, body: Job({ n: 7 }) });
    sender.self.send(first.address, message);
    await first.accepted.waitFor(() => true);
    runtime.stop(first.address);
    await runtime.completion(first.address);
    await store1.close();

    const second = await spawnReceiver(runtime, { store: storeAt(dir) });
    sender.self.send(second.address, Reliable({ ...message, attempt: 2 }));
    await second.transmissions.waitFor(() => true);
    await settle();
    expect(second.accepted.entries).toEqual([]);
    expect(second.inbox.duplicates).toBe(1);
  });
});
