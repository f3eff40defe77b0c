/**
 * The in-memory transport: the compliance suite, then what only it can show exactly
 * (the buffering bound, a dial that never completes, resets, hosts and ports).
 */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MEMORY_HIGH_WATER_BYTES,
  DEFAULT_MEMORY_WINDOW_BYTES,
  createMemoryNetwork,
  type MemoryLink,
} from '../../src/transport/memory.js';
import type { TransportConnection } from '../../src/transport/transport.js';
import { once, patternBytes, readAll, within } from './compliance.js';
import { transportCompliance } from './compliance.js';

transportCompliance('memory', () => {
  const network = createMemoryNetwork();
  return {
    server: network.transport('server'),
    client: network.transport('client'),
    listenAt: { host: 'server', port: 0 },
  };
});

/** Lets every segment already handed to the default link arrive (a few loop turns). */
async function turns(n = 5): Promise<void> {
  for (let i = 0; i < n; i++) await new Promise<void>((resolve) => setImmediate(resolve));
}

async function connectedPair(): Promise<{
  client: TransportConnection;
  server: TransportConnection;
}> {
  const network = createMemoryNetwork();
  let accepted: TransportConnection | undefined;
  const listener = await network
    .transport('server')
    .listen({ host: 'server', port: 7 }, (connection) => (accepted = connection));
  const client = await network.transport('client').dial(listener.address);
  await turns();
  if (accepted === undefined) throw new Error('no accepted connection');
  return { client, server: accepted };
}

describe('memory transport', () => {
  it('memory - a paused reader holds the writer to its window and buffers, and no drain comes until it reads', async () => {
    const { client, server } = await connectedPair();
    server.stream.pause();
    const chunk = 4096;
    let written = 0;
    let drained = false;
    client.stream.on('drain', () => (drained = true));
    for (;;) {
      await turns(2);
      written += chunk;
      if (!client.stream.write(patternBytes(chunk, written))) break;
    }
    // Window in flight + the reader's buffer + the writer's buffer, each at most one chunk over.
    const bound = DEFAULT_MEMORY_WINDOW_BYTES + 2 * DEFAULT_MEMORY_HIGH_WATER_BYTES + 3 * chunk;
    expect(written).toBeLessThanOrEqual(bound);
    expect(written).toBeGreaterThan(DEFAULT_MEMORY_WINDOW_BYTES);
    await turns(20);
    expect(drained).toBe(false);
    const drain = once(client.stream, 'drain');
    server.stream.resume();
    await drain;
    expect(drained).toBe(true);
  });

  it('memory - 100,000 one-byte writes to a paused reader all arrive, in order, once it reads', async () => {
    const { client, server } = await connectedPair();
    server.stream.pause();
    const bytes = patternBytes(100_000, 5);
    for (let i = 0; i < bytes.length; i++) client.stream.write(bytes.subarray(i, i + 1));
    client.stream.end();
    await turns(10);
    const reading = readAll(server.stream);
    server.stream.resume(); // an explicit pause() is not undone by a 'data' listener
    expect((await reading).equals(bytes)).toBe(true);
  });

  it('memory - a dial whose SYN never arrives waits until its signal aborts it', async () => {
    const lost: MemoryLink = { carry: () => {} };
    const network = createMemoryNetwork({ link: () => lost });
    await network.transport('server').listen({ host: 'server', port: 80 }, () => {
      throw new Error('nothing should be accepted');
    });
    const controller = new AbortController();
    let settled = false;
    const dialing = network
      .transport('client')
      .dial({ host: 'server', port: 80 }, { signal: controller.signal })
      .finally(() => (settled = true));
    await turns(10);
    expect(settled).toBe(false);
    controller.abort();
    await expect(dialing).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('memory - a dial aborted while its SYN-ACK is on the way resets the accepted end', async () => {
    const network = createMemoryNetwork();
    const controller = new AbortController();
    let accepted: TransportConnection | undefined;
    await network.transport('server').listen({ host: 'server', port: 80 }, (connection) => {
      accepted = connection;
      controller.abort();
    });
    const dialing = network
      .transport('client')
      .dial({ host: 'server', port: 80 }, { signal: controller.signal });
    await expect(within(dialing, 'the dial')).rejects.toMatchObject({ name: 'AbortError' });
    if (accepted === undefined) throw new Error('the SYN was not accepted');
    accepted.stream.resume();
    await once(accepted.stream, 'close', 'the accepted end closing');
    expect(network.connections()).toHaveLength(0);
  });

  it('memory - reset() destroys both ends with ECONNRESET and forgets the connection', async () => {
    const network = createMemoryNetwork();
    const accepted: TransportConnection[] = [];
    await network.transport('server').listen({ host: 'server', port: 1 }, (c) => accepted.push(c));
    const client = await network.transport('alice').dial({ host: 'server', port: 1 });
    const [info] = network.connections();
    expect(info?.client).toEqual(client.local);
    expect(info?.server).toEqual({ host: 'server', port: 1 });
    const errors = [once<Error>(client.stream, 'error'), once<Error>(accepted[0]!.stream, 'error')];
    info?.reset();
    for (const error of await Promise.all(errors))
      expect(error).toMatchObject({ code: 'ECONNRESET' });
    expect(network.connections()).toHaveLength(0);
  });

  it('memory - the far end reads what was written before destroy(), then sees end and close', async () => {
    const { client, server } = await connectedPair();
    const bytes = patternBytes(30_000, 9);
    const closed = once(server.stream, 'close');
    client.stream.write(bytes);
    client.stream.destroy();
    const got = await readAll(server.stream);
    expect(got.equals(bytes)).toBe(true);
    await closed;
  });

  it('memory - a host listens only on its own name (or a wildcard), and ports are handed out in order', async () => {
    const network = createMemoryNetwork();
    const server = network.transport('server');
    await expect(server.listen({ host: 'other', port: 1 }, () => {})).rejects.toMatchObject({
      code: 'EADDRNOTAVAIL',
    });
    const wildcard = await server.listen({ host: '0.0.0.0', port: 0 }, () => {});
    const next = await server.listen({ host: 'server', port: 0 }, () => {});
    expect(wildcard.address).toEqual({ host: 'server', port: 49152 });
    expect(next.address).toEqual({ host: 'server', port: 49153 });
    expect(network.listening()).toEqual([wildcard.address, next.address]);
    await expect(server.listen({ host: 'server', port: 70_000 }, () => {})).rejects.toMatchObject({
      code: 'ERR_SOCKET_BAD_PORT',
    });
  });

  it('memory - a window or high-water mark that is not a positive whole number is HERALD_ERR_BAD_OPTION', () => {
    for (const options of [{ windowBytes: 0 }, { highWaterMark: 1.5 }, { windowBytes: -1 }])
      expect(() => createMemoryNetwork(options)).toThrow(
        expect.objectContaining({ name: 'NetError', code: 'HERALD_ERR_BAD_OPTION' }),
      );
  });

  it('memory - two networks never see each other', async () => {
    const a = createMemoryNetwork();
    const b = createMemoryNetwork();
    await a.transport('server').listen({ host: 'server', port: 5 }, () => {});
    await expect(b.transport().dial({ host: 'server', port: 5 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });
});
