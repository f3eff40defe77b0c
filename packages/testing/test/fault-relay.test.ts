/**
 * The TCP fault relay on real sockets (127.0.0.1, port 0): forwarding, black hole, heal,
 * reset, refuse, delay, byte-by-byte delivery and rewriting.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { startFaultRelay, waitFor, type FaultRelay } from '../src/index.js';

/** Resolves once `condition` holds, re-checked on every event of `emitters`; bounded. */
async function until(
  emitters: readonly NodeJS.EventEmitter[],
  events: readonly string[],
  condition: () => boolean,
  description: string,
): Promise<void> {
  await waitFor(condition, {
    what: description,
    on: (notify) => {
      for (const emitter of emitters) for (const event of events) emitter.on(event, notify);
      return () => {
        for (const emitter of emitters) for (const event of events) emitter.off(event, notify);
      };
    },
  });
}

const SOCKET_EVENTS = ['data', 'end', 'close', 'error', 'connect'] as const;

/** One TCP endpoint with everything it has seen recorded. */
class Peer {
  received = '';
  ended = false;
  closed = false;
  error: NodeJS.ErrnoException | undefined;

  constructor(readonly socket: net.Socket) {
    socket.setEncoding('utf8');
    socket.on('data', (text: string) => {
      this.received += text;
    });
    socket.on('end', () => {
      this.ended = true;
    });
    socket.on('close', () => {
      this.closed = true;
    });
    socket.on('error', (error: NodeJS.ErrnoException) => {
      this.error = error;
    });
  }

  waitFor(condition: (peer: this) => boolean, description: string): Promise<void> {
    return until([this.socket], SOCKET_EVENTS, () => condition(this), description);
  }

  waitForText(text: string): Promise<void> {
    return this.waitFor((peer) => peer.received.includes(text), `${JSON.stringify(text)}`);
  }

  /** Nothing has told this end that the connection is over. */
  get open(): boolean {
    return !this.ended && !this.closed && this.error === undefined && !this.socket.destroyed;
  }
}

/** The far end for the relay: echoes what it receives and keeps each accepted socket. */
class TargetServer {
  readonly peers: Peer[] = [];
  readonly server = net.createServer({ allowHalfOpen: true }, (socket) => {
    const peer = new Peer(socket);
    socket.on('data', (text: string) => socket.write(text));
    this.peers.push(peer);
    this.server.emit('peer');
  });

  get port(): number {
    const address = this.server.address();
    if (address === null || typeof address === 'string') throw new Error('not listening');
    return address.port;
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
  }

  waitForPeers(count: number): Promise<void> {
    return until([this.server], ['peer'], () => this.peers.length >= count, `${count} peer(s)`);
  }

  async close(): Promise<void> {
    for (const peer of this.peers) peer.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

const cleanups: Array<() => Promise<void> | void> = [];

afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

async function setup(): Promise<{ target: TargetServer; relay: FaultRelay }> {
  const target = new TargetServer();
  await target.start();
  cleanups.push(() => target.close());
  const relay = await startFaultRelay({ target: { host: '127.0.0.1', port: target.port } });
  cleanups.push(() => relay.close());
  return { target, relay };
}

async function connect(port: number): Promise<Peer> {
  const socket = net.connect({ host: '127.0.0.1', port, allowHalfOpen: true });
  const peer = new Peer(socket);
  cleanups.push(() => {
    socket.destroy();
  });
  await peer.waitFor(
    (p) => !p.socket.connecting || p.error !== undefined,
    'the client to connect or fail',
  );
  return peer;
}

describe('fault relay', () => {
  it('fault relay - forwards bytes both ways and counts accepted connections', async () => {
    const { target, relay } = await setup();
    expect(relay.connections).toBe(0);
    const first = await connect(relay.port);
    const second = await connect(relay.port);
    first.socket.write('hello from one');
    second.socket.write('hello from two');
    await first.waitForText('hello from one');
    await second.waitForText('hello from two');
    await relay.waitForConnections(2);
    expect(relay.connections).toBe(2);
    expect(relay.active).toBe(2);
    expect(target.peers.map((peer) => peer.received).sort()).toEqual([
      'hello from one',
      'hello from two',
    ]);
    expect(first.received).toBe('hello from one');
    expect(relay.droppedBytes).toBe(0);
  });

  it('fault relay - passes a FIN through and forgets the link once both sides close', async () => {
    const { target, relay } = await setup();
    const client = await connect(relay.port);
    await target.waitForPeers(1);
    client.socket.end('last words');
    const serverSide = target.peers[0]!;
    await serverSide.waitFor((peer) => peer.ended, 'the target to see the FIN');
    expect(serverSide.received).toBe('last words');
    serverSide.socket.end();
    await client.waitFor((peer) => peer.closed, 'the client to close');
    expect(client.error).toBeUndefined();
    expect(client.received).toBe('last words');
    await relay.waitForActive(0);
  });

  it('fault relay - blackhole silences both directions without the client seeing a close', async () => {
    const { target, relay } = await setup();
    const client = await connect(relay.port);
    client.socket.write('before');
    await client.waitForText('before');
    const serverSide = target.peers[0]!;

    relay.blackhole();
    client.socket.write('lost-up'); // 7 bytes, would be echoed if forwarded
    await relay.waitForDroppedBytes(7);
    serverSide.socket.write('lost-down'); // 9 bytes
    await relay.waitForDroppedBytes(16);
    expect(relay.events.filter((event) => event.type === 'dropped')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ direction: 'to-target' }),
        expect.objectContaining({ direction: 'to-client' }),
      ]),
    );

    // The target hangs up: in a partition the client must not hear about it.
    serverSide.socket.end();
    await relay.waitFor(
      () => relay.events.some((event) => event.type === 'close-held' && event.from === 'target'),
      'the target FIN to be held',
    );
    expect(client.open).toBe(true);
    expect(client.socket.readyState).toBe('open');
    expect(relay.active).toBe(1);

    // Anything the relay had wrongly passed on (bytes, the FIN) was sent before this RST, so
    // once the client sees the reset it has seen all of it: nothing, if the partition held.
    relay.resetAll();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see the reset');
    expect(client.error?.code).toBe('ECONNRESET');
    expect(client.ended).toBe(false);
    expect(client.received).toBe('before');
    expect(serverSide.received).toBe('before');
  });

  it('fault relay - a client that connects during a blackhole is accepted but never reaches the target', async () => {
    const { target, relay } = await setup();
    relay.blackhole();
    const client = await connect(relay.port);
    expect(client.error).toBeUndefined();
    await relay.waitForConnections(1);
    client.socket.write('anyone?');
    await relay.waitForDroppedBytes(7);
    expect(relay.events).toContainEqual({ type: 'connection', id: 1, blackholed: true });
    expect(relay.events.some((event) => event.type === 'upstream-connected')).toBe(false);
    expect(target.peers).toHaveLength(0);
    expect(client.open).toBe(true);
  });

  it('fault relay - heal serves new connections while black-holed ones stay dead', async () => {
    const { target, relay } = await setup();
    const old = await connect(relay.port);
    old.socket.write('a');
    await old.waitForText('a');
    relay.blackhole();
    relay.heal();

    const fresh = await connect(relay.port);
    fresh.socket.write('fresh');
    await fresh.waitForText('fresh');
    await target.waitForPeers(2);

    old.socket.write('still dead');
    await relay.waitForDroppedBytes('still dead'.length);
    expect(old.open).toBe(true);

    // Bytes wrongly forwarded would have been sent before the reset, so they would show now.
    relay.resetAll();
    await old.waitFor((peer) => peer.error !== undefined, 'the old client to see the reset');
    await target.peers[0]!.waitFor((peer) => peer.error !== undefined, 'the target to see it');
    expect(old.received).toBe('a');
    expect(target.peers[0]!.received).toBe('a');
  });

  it('fault relay - resetAll gives the client ECONNRESET', async () => {
    const { target, relay } = await setup();
    const client = await connect(relay.port);
    client.socket.write('ping');
    await client.waitForText('ping');
    relay.resetAll();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see an error');
    expect(client.error?.code).toBe('ECONNRESET');
    const serverSide = target.peers[0]!;
    await serverSide.waitFor((peer) => peer.error !== undefined, 'the target to see an error');
    expect(serverSide.error?.code).toBe('ECONNRESET');
    await relay.waitForActive(0);
  });

  it('fault relay - resetAll also resets black-holed links', async () => {
    const { relay } = await setup();
    const client = await connect(relay.port);
    relay.blackhole();
    relay.resetAll();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see an error');
    expect(client.error?.code).toBe('ECONNRESET');
  });

  it('fault relay - a reset from the target reaches the client as ECONNRESET', async () => {
    const { target, relay } = await setup();
    const client = await connect(relay.port);
    await target.waitForPeers(1);
    target.peers[0]!.socket.resetAndDestroy();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see an error');
    expect(client.error?.code).toBe('ECONNRESET');
  });

  it('fault relay - refuse(true) gives ECONNREFUSED on the same port until refuse(false)', async () => {
    const { relay } = await setup();
    const kept = await connect(relay.port);
    const port = relay.port;
    await relay.refuse(true);
    expect(relay.refusing).toBe(true);
    const refused = await connect(port);
    expect(refused.error?.code).toBe('ECONNREFUSED');
    expect(relay.connections).toBe(1);

    // Existing links are untouched by refusing.
    kept.socket.write('still here');
    await kept.waitForText('still here');

    await relay.refuse(false);
    expect(relay.port).toBe(port);
    const back = await connect(port);
    back.socket.write('back');
    await back.waitForText('back');
    expect(relay.connections).toBe(2);
  });

  it('fault relay - a target that is down resets the client', async () => {
    const target = new TargetServer();
    await target.start();
    const deadPort = target.port;
    await target.close();
    const relay = await startFaultRelay({ target: { host: '127.0.0.1', port: deadPort } });
    cleanups.push(() => relay.close());
    const client = await connect(relay.port);
    await client.waitFor((peer) => peer.closed, 'the client to be closed');
    expect(client.error?.code).toBe('ECONNRESET');
  });

  it('fault relay - close() stops listening and ends every link', async () => {
    const { relay } = await setup();
    const client = await connect(relay.port);
    await relay.waitForConnections(1);
    await relay.close();
    expect(relay.active).toBe(0);
    // The client is half-open capable, so it sees the FIN rather than a full close.
    await client.waitFor((peer) => peer.ended, 'the client to see the end');
    const late = await connect(relay.port);
    expect(late.error?.code).toBe('ECONNREFUSED');
  });

  it('fault relay - a wait that cannot be met times out describing the relay', async () => {
    const { relay } = await setup();
    await expect(relay.waitForConnections(1, 50)).rejects.toThrow(
      /timed out after 50 ms waiting for 1 accepted connection.*connections=0/,
    );
  });
});

describe('fault relay - shaping the stream', () => {
  it('fault relay - delay holds each chunk in both directions, keeps the order, and the FIN waits behind the data', async () => {
    const { target, relay } = await setup();
    const DELAY_MS = 100;
    relay.delay(DELAY_MS);
    expect(relay.delayMs).toBe(DELAY_MS);
    const client = await connect(relay.port);
    const started = performance.now();
    client.socket.write('one,');
    client.socket.write('two');
    await client.waitForText('one,two');
    // Out through the relay and echoed back: held once each way (1 ms of clock granularity).
    expect(performance.now() - started).toBeGreaterThanOrEqual(2 * DELAY_MS - 1);
    expect(client.received).toBe('one,two');

    client.socket.end('bye');
    const serverSide = target.peers[0]!;
    await serverSide.waitFor((peer) => peer.ended, 'the target to see the FIN');
    expect(serverSide.received).toBe('one,twobye');
    for (const ms of [-1, Number.NaN]) {
      expect(() => relay.delay(ms)).toThrow(
        expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }),
      );
    }
  });

  it('fault relay - a black hole discards bytes still held back by a delay', async () => {
    const target = new TargetServer();
    await target.start();
    cleanups.push(() => target.close());
    let read: () => void = () => undefined;
    const readByRelay = new Promise<void>((resolve) => (read = resolve));
    const relay = await startFaultRelay({
      target: { host: '127.0.0.1', port: target.port },
      delayMs: 60_000,
      rewrite: (chunk) => {
        read();
        return chunk;
      },
    });
    cleanups.push(() => relay.close());
    const client = await connect(relay.port);
    client.socket.write('held');
    await readByRelay;
    relay.blackhole();
    await relay.waitForDroppedBytes(4);
    expect(relay.events).toContainEqual({
      type: 'dropped',
      id: 1,
      direction: 'to-target',
      bytes: 4,
    });
    expect(relay.forwardedBytes).toBe(0);
    expect(client.open).toBe(true);
  });

  it('fault relay - byteByByte writes every byte on its own, both ways', async () => {
    const target = new TargetServer();
    await target.start();
    cleanups.push(() => target.close());
    const relay = await startFaultRelay({
      target: { host: '127.0.0.1', port: target.port },
      byteByByte: true,
    });
    cleanups.push(() => relay.close());
    const client = await connect(relay.port);
    client.socket.write('hello');
    await client.waitForText('hello');
    expect(relay.forwardedBytes).toBe(10);
    expect(relay.writes).toBe(10);
  });

  it('fault relay - rewrite sees each direction with stream offsets and forwards what it returns', async () => {
    const target = new TargetServer();
    await target.start();
    cleanups.push(() => target.close());
    const seen: [string, number, string][] = [];
    const relay = await startFaultRelay({
      target: { host: '127.0.0.1', port: target.port },
      rewrite: (chunk, direction, offset) => {
        seen.push([direction, offset, chunk.toString('utf8')]);
        return direction === 'to-target'
          ? Buffer.from(chunk.toString('utf8').toUpperCase())
          : chunk;
      },
    });
    cleanups.push(() => relay.close());
    const client = await connect(relay.port);
    client.socket.write('abc');
    await client.waitForText('ABC');
    client.socket.write('de');
    await client.waitForText('ABCDE');
    expect(target.peers[0]!.received).toBe('ABCDE');
    expect(seen).toEqual([
      ['to-target', 0, 'abc'],
      ['to-client', 0, 'ABC'],
      ['to-target', 3, 'de'],
      ['to-client', 3, 'DE'],
    ]);
  });
});
