/**
 * Round-trip probes: MeasureRoundTrip sent to a proxy is answered by RoundTrip when the
 * wire PONG arrives (no application message involved), and by NoRoundTrip when it cannot
 * be: before the handshake, past MAX_ROUND_TRIP_PROBES, or when the connection ends first.
 * Real loopback sockets; the fault relay makes the peer silent so a probe stays in flight.
 */
import { Address } from '@herald/codec';
import {
  Abandoned,
  Accepted,
  close,
  Closed,
  connect,
  Connected,
  listen,
  Listening,
  MAX_ROUND_TRIP_PROBES,
  MeasureRoundTrip,
  NoRoundTrip,
  RoundTrip,
} from '@herald/net';
import { Envelope } from '@herald/runtime/internal';
import {
  closeTestRuntimes,
  spawnProbe,
  startFaultRelay,
  testRuntime,
  type FaultRelay,
} from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { RoundTripProbes } from '../src/connection/probe.js';

const relays: FaultRelay[] = [];
afterEach(async () => {
  for (const relay of relays.splice(0)) await relay.close();
  await closeTestRuntimes();
});

/** A server runtime that knows no application message at all, and a client connected to it. */
async function pair(options: { throughRelay?: boolean } = {}) {
  const serverRt = testRuntime({ name: 'server' });
  const clientRt = testRuntime({ name: 'client' });
  const server = await spawnProbe(serverRt, 'server');
  listen(server.self, { port: 0 });
  let port = (await server.next(Listening)).message.listening.port;
  let relay: FaultRelay | undefined;
  if (options.throughRelay === true) {
    relay = await startFaultRelay({ target: { host: '127.0.0.1', port } });
    relays.push(relay);
    port = relay.port;
  }
  const client = await spawnProbe(clientRt, 'client');
  connect(client.self, { host: '127.0.0.1', port });
  const remote = (await client.next(Connected)).from;
  await server.next(Accepted);
  return { client, remote, relay };
}

describe('round-trip probe', () => {
  it('probe - answers each MeasureRoundTrip with a RoundTrip from the wire PONG, in turn', async () => {
    const { client, remote } = await pair();
    for (let i = 0; i < 3; i++) client.self.send(remote, MeasureRoundTrip());
    const answers = [];
    for (let i = 0; i < 3; i++) answers.push((await client.next(RoundTrip)).message);
    for (const answer of answers) {
      expect(answer.remote.equals(remote)).toBe(true);
      expect(answer.micros).toBeGreaterThanOrEqual(0);
      expect(Number.isInteger(answer.micros)).toBe(true);
    }
    const seqs = answers.map((a) => a.seq);
    expect(new Set(seqs).size).toBe(3);
    expect([...seqs].sort((a, b) => a - b)).toEqual(seqs);
    expect(client.count(NoRoundTrip)).toBe(0);
  });

  it('probe - an ask gets its RoundTrip as the answer', async () => {
    const { client, remote } = await pair();
    const answer = await client.self.ask(remote, MeasureRoundTrip(), RoundTrip, NoRoundTrip, {
      timeout: 5000,
    });
    expect(RoundTrip.is(answer)).toBe(true);
  });

  it('probe - before the handshake completes the asker gets NoRoundTrip not-open', async () => {
    const serverRt = testRuntime({ name: 'server' });
    const clientRt = testRuntime({ name: 'client' });
    const server = await spawnProbe(serverRt, 'server');
    listen(server.self, { port: 0 });
    const port = (await server.next(Listening)).message.listening.port;
    const client = await spawnProbe(clientRt, 'client');
    const remote = connect(client.self, { host: '127.0.0.1', port });
    client.self.send(remote, MeasureRoundTrip());
    const refused = (await client.next(NoRoundTrip)).message;
    expect(refused.reason).toBe('not-open');
    expect(refused.code).toBe('HERALD_NO_ROUND_TRIP');
    await client.next(Connected);
  });

  it('probe - a connection lost mid-probe answers the asker with NoRoundTrip abandoned', async () => {
    const { client, remote, relay } = await pair({ throughRelay: true });
    if (relay === undefined) throw new Error('no relay');
    relay.blackhole();
    client.self.send(remote, MeasureRoundTrip());
    // The PING left the client and was swallowed: the probe is in flight with no answer.
    await relay.waitForDroppedBytes(1);
    relay.resetAll();
    const failed = (await client.next(NoRoundTrip)).message;
    expect(failed.reason).toBe('abandoned');
    expect(failed.remote.equals(remote)).toBe(true);
    await client.next(Abandoned);
    expect(client.count(RoundTrip)).toBe(0);
  });

  it('probe - holds at most MAX_ROUND_TRIP_PROBES; the next is refused at once, the rest fail closed on close', async () => {
    const { client, remote, relay } = await pair({ throughRelay: true });
    if (relay === undefined) throw new Error('no relay');
    relay.blackhole();
    for (let i = 0; i <= MAX_ROUND_TRIP_PROBES; i++) client.self.send(remote, MeasureRoundTrip());
    const refused = (await client.next(NoRoundTrip)).message;
    expect(refused.reason).toBe('too-many-probes');
    close(client.self, remote, 'done');
    await client.next(Closed);
    const failures = client.all(NoRoundTrip);
    expect(failures.length).toBe(MAX_ROUND_TRIP_PROBES + 1);
    expect(failures.slice(1).every((f) => f.reason === 'closed')).toBe(true);
    expect(failures[1]?.detail).toBe('closed-by-request');
    expect(client.count(RoundTrip)).toBe(0);
  });
});

describe('RoundTripProbes', () => {
  const asker = (n: number) => new Envelope(new Address([n]), new Address([n]), MeasureRoundTrip());

  it('probes - one PING in flight; a PONG for a later PING answers it, an earlier one does not', () => {
    const probes = new RoundTripProbes(2);
    expect(probes.add(asker(1))).toBe(true);
    expect(probes.add(asker(2))).toBe(true);
    expect(probes.add(asker(3))).toBe(false);
    expect(probes.due).toBe(true);
    probes.sent(10, 100);
    expect(probes.due).toBe(false);
    expect(probes.answered(9, 101)).toBeUndefined();
    const first = probes.answered(11, 100.25);
    expect(first?.micros).toBe(250);
    expect(first?.seq).toBe(10);
    expect(probes.due).toBe(true);
    // Across the u32 wrap, 0 comes after 0xffffffff.
    probes.sent(0xffffffff, 200);
    expect(probes.answered(0, 200.001)?.micros).toBe(1);
    expect(probes.size).toBe(0);
    expect(probes.due).toBe(false);
  });

  it('probes - drain hands back every waiting asker', () => {
    const probes = new RoundTripProbes();
    probes.add(asker(1));
    probes.add(asker(2));
    probes.sent(0, 0);
    expect(probes.drain().length).toBe(2);
    expect(probes.answered(0, 1)).toBeUndefined();
  });
});
