/**
 * The keep-alive defaults notice a black-holed peer in seconds: with nothing configured, a
 * connection whose link goes silent (no FIN, no RST) is Abandoned with keepalive-timeout
 * DEFAULT_KEEPALIVE_IDLE_MS + DEFAULT_KEEPALIVE_TIMEOUT_MS (10 s) after the last frame, on
 * the client's TestClock, and not before.
 */
import {
  Abandoned,
  Connected,
  DEFAULT_KEEPALIVE_IDLE_MS,
  DEFAULT_KEEPALIVE_TIMEOUT_MS,
  connect,
} from '@herald/net';
import { TestClock, settle } from '@herald/runtime';
import {
  closeTestRuntimes,
  spawnProbe,
  startFaultRelay,
  testRuntime,
  welcomingServer,
  type FaultRelay,
} from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';

const relays: FaultRelay[] = [];
afterEach(async () => {
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await closeTestRuntimes();
});

describe('keep-alive defaults', () => {
  it('notice a black-holed peer within 10 s (idle 5 s, then 5 s for any byte back)', async () => {
    expect(DEFAULT_KEEPALIVE_IDLE_MS + DEFAULT_KEEPALIVE_TIMEOUT_MS).toBe(10_000);
    const { port } = await welcomingServer(testRuntime());
    const relay = await startFaultRelay({ target: { host: '127.0.0.1', port } });
    relays.push(relay);
    const clock = new TestClock();
    const client = await spawnProbe(testRuntime({ clock }));
    connect(client.self, { host: '127.0.0.1', port: relay.port });
    await client.next(Connected);
    relay.blackhole();
    await clock.advanceAsync(DEFAULT_KEEPALIVE_IDLE_MS); // quiet: a PING goes out
    await clock.advanceAsync(DEFAULT_KEEPALIVE_TIMEOUT_MS - 1);
    await settle();
    expect(client.count(Abandoned)).toBe(0);
    await clock.advanceAsync(1);
    const abandoned = await client.next(Abandoned);
    expect(abandoned.message.reason).toBe('keepalive-timeout');
  });
});
