/**
 * Tests for the multi-process and fault-test harness in test/support: the TCP proxy (real
 * sockets on 127.0.0.1, port 0) and the child-process helpers (a real tsx child).
 */
import net from 'node:net';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript } from './support/child.js';
import { startTcpProxy, type TcpProxy } from './support/tcp-proxy.js';

const WAIT_MS = 5000;

/** Resolves once `condition` holds, re-checked on every event of `emitters`; bounded. */
function until(
  emitters: readonly NodeJS.EventEmitter[],
  events: readonly string[],
  condition: () => boolean,
  description: string,
): Promise<void> {
  if (condition()) return Promise.resolve();
  return new Promise<void>((resolve, reject) => {
    const check = (): void => {
      if (condition()) done(resolve);
    };
    const timer = setTimeout(
      () => done(() => reject(new Error(`timed out waiting for ${description}`))),
      WAIT_MS,
    );
    const done = (settle: () => void): void => {
      clearTimeout(timer);
      for (const emitter of emitters) for (const event of events) emitter.off(event, check);
      settle();
    };
    for (const emitter of emitters) for (const event of events) emitter.on(event, check);
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

/** The far end for the proxy: echoes what it receives and keeps each accepted socket. */
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

async function setup(): Promise<{ target: TargetServer; proxy: TcpProxy }> {
  const target = new TargetServer();
  await target.start();
  cleanups.push(() => target.close());
  const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: target.port } });
  cleanups.push(() => proxy.close());
  return { target, proxy };
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

describe('tcp-proxy', () => {
  it('tcp-proxy - forwards bytes both ways and counts accepted connections', async () => {
    const { target, proxy } = await setup();
    expect(proxy.connections).toBe(0);
    const first = await connect(proxy.port);
    const second = await connect(proxy.port);
    first.socket.write('hello from one');
    second.socket.write('hello from two');
    await first.waitForText('hello from one');
    await second.waitForText('hello from two');
    await proxy.waitForConnections(2);
    expect(proxy.connections).toBe(2);
    expect(proxy.active).toBe(2);
    expect(target.peers.map((peer) => peer.received).sort()).toEqual([
      'hello from one',
      'hello from two',
    ]);
    expect(first.received).toBe('hello from one');
    expect(proxy.droppedBytes).toBe(0);
  });

  it('tcp-proxy - passes a FIN through and forgets the link once both sides close', async () => {
    const { target, proxy } = await setup();
    const client = await connect(proxy.port);
    await target.waitForPeers(1);
    client.socket.end('last words');
    const serverSide = target.peers[0]!;
    await serverSide.waitFor((peer) => peer.ended, 'the target to see the FIN');
    expect(serverSide.received).toBe('last words');
    serverSide.socket.end();
    await client.waitFor((peer) => peer.closed, 'the client to close');
    expect(client.error).toBeUndefined();
    expect(client.received).toBe('last words');
    await proxy.waitForActive(0);
  });

  it('tcp-proxy - blackhole silences both directions without the client seeing a close', async () => {
    const { target, proxy } = await setup();
    const client = await connect(proxy.port);
    client.socket.write('before');
    await client.waitForText('before');
    const serverSide = target.peers[0]!;

    proxy.blackhole();
    client.socket.write('lost-up'); // 7 bytes, would be echoed if forwarded
    await proxy.waitForDroppedBytes(7);
    serverSide.socket.write('lost-down'); // 9 bytes
    await proxy.waitForDroppedBytes(16);
    expect(proxy.events.filter((event) => event.type === 'dropped')).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ direction: 'to-target' }),
        expect.objectContaining({ direction: 'to-client' }),
      ]),
    );

    // The target hangs up: in a partition the client must not hear about it.
    serverSide.socket.end();
    await proxy.waitFor(
      () => proxy.events.some((event) => event.type === 'close-held' && event.from === 'target'),
      'the target FIN to be held',
    );
    expect(client.open).toBe(true);
    expect(client.socket.readyState).toBe('open');
    expect(proxy.active).toBe(1);

    // Anything the proxy had wrongly passed on (bytes, the FIN) was sent before this RST, so
    // once the client sees the reset it has seen all of it: nothing, if the partition held.
    proxy.resetAll();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see the reset');
    expect(client.error?.code).toBe('ECONNRESET');
    expect(client.ended).toBe(false);
    expect(client.received).toBe('before');
    expect(serverSide.received).toBe('before');
  });

  it('tcp-proxy - a client that connects during a blackhole is accepted but never reaches the target', async () => {
    const { target, proxy } = await setup();
    proxy.blackhole();
    const client = await connect(proxy.port);
    expect(client.error).toBeUndefined();
    await proxy.waitForConnections(1);
    client.socket.write('anyone?');
    await proxy.waitForDroppedBytes(7);
    expect(proxy.events).toContainEqual({ type: 'connection', id: 1, blackholed: true });
    expect(proxy.events.some((event) => event.type === 'upstream-connected')).toBe(false);
    expect(target.peers).toHaveLength(0);
    expect(client.open).toBe(true);
  });

  it('tcp-proxy - heal serves new connections while black-holed ones stay dead', async () => {
    const { target, proxy } = await setup();
    const old = await connect(proxy.port);
    old.socket.write('a');
    await old.waitForText('a');
    proxy.blackhole();
    proxy.heal();

    const fresh = await connect(proxy.port);
    fresh.socket.write('fresh');
    await fresh.waitForText('fresh');
    await target.waitForPeers(2);

    old.socket.write('still dead');
    await proxy.waitForDroppedBytes('still dead'.length);
    expect(old.open).toBe(true);

    // Bytes wrongly forwarded would have been sent before the reset, so they would show now.
    proxy.resetAll();
    await old.waitFor((peer) => peer.error !== undefined, 'the old client to see the reset');
    await target.peers[0]!.waitFor((peer) => peer.error !== undefined, 'the target to see it');
    expect(old.received).toBe('a');
    expect(target.peers[0]!.received).toBe('a');
  });

  it('tcp-proxy - resetAll gives the client ECONNRESET', async () => {
    const { target, proxy } = await setup();
    const client = await connect(proxy.port);
    client.socket.write('ping');
    await client.waitForText('ping');
    proxy.resetAll();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see an error');
    expect(client.error?.code).toBe('ECONNRESET');
    const serverSide = target.peers[0]!;
    await serverSide.waitFor((peer) => peer.error !== undefined, 'the target to see an error');
    expect(serverSide.error?.code).toBe('ECONNRESET');
    await proxy.waitForActive(0);
  });

  it('tcp-proxy - resetAll also resets black-holed links', async () => {
    const { proxy } = await setup();
    const client = await connect(proxy.port);
    proxy.blackhole();
    proxy.resetAll();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see an error');
    expect(client.error?.code).toBe('ECONNRESET');
  });

  it('tcp-proxy - a reset from the target reaches the client as ECONNRESET', async () => {
    const { target, proxy } = await setup();
    const client = await connect(proxy.port);
    await target.waitForPeers(1);
    target.peers[0]!.socket.resetAndDestroy();
    await client.waitFor((peer) => peer.error !== undefined, 'the client to see an error');
    expect(client.error?.code).toBe('ECONNRESET');
  });

  it('tcp-proxy - refuse(true) gives ECONNREFUSED on the same port until refuse(false)', async () => {
    const { proxy } = await setup();
    const kept = await connect(proxy.port);
    const port = proxy.port;
    await proxy.refuse(true);
    expect(proxy.refusing).toBe(true);
    const refused = await connect(port);
    expect(refused.error?.code).toBe('ECONNREFUSED');
    expect(proxy.connections).toBe(1);

    // Existing links are untouched by refusing.
    kept.socket.write('still here');
    await kept.waitForText('still here');

    await proxy.refuse(false);
    expect(proxy.port).toBe(port);
    const back = await connect(port);
    back.socket.write('back');
    await back.waitForText('back');
    expect(proxy.connections).toBe(2);
  });

  it('tcp-proxy - a target that is down resets the client', async () => {
    const target = new TargetServer();
    await target.start();
    const deadPort = target.port;
    await target.close();
    const proxy = await startTcpProxy({ target: { host: '127.0.0.1', port: deadPort } });
    cleanups.push(() => proxy.close());
    const client = await connect(proxy.port);
    await client.waitFor((peer) => peer.closed, 'the client to be closed');
    expect(client.error?.code).toBe('ECONNRESET');
  });

  it('tcp-proxy - close() stops listening and ends every link', async () => {
    const { proxy } = await setup();
    const client = await connect(proxy.port);
    await proxy.waitForConnections(1);
    await proxy.close();
    expect(proxy.active).toBe(0);
    // The client is half-open capable, so it sees the FIN rather than a full close.
    await client.waitFor((peer) => peer.ended, 'the client to see the end');
    const late = await connect(proxy.port);
    expect(late.error?.code).toBe('ECONNREFUSED');
  });

  it('tcp-proxy - a wait that cannot be met times out describing the proxy', async () => {
    const { proxy } = await setup();
    await expect(proxy.waitForConnections(1, 50)).rejects.toThrow(
      /timed out after 50 ms waiting for 1 accepted connection.*connections=0/,
    );
  });
});

const ECHO_CHILD = fileURLToPath(new URL('./fixtures/echo-child.ts', import.meta.url));

describe('child', () => {
  afterEach(killAll);

  it('child - waits for lines, echoes stdin and exits 0 on SIGTERM', async () => {
    const child = spawnScript(ECHO_CHILD);
    await child.waitForLine(/^ready$/);
    child.writeLine('one');
    child.writeLine('two');
    await child.waitForLine(/^one$/);
    const match = await child.waitForLine(/^t(\w+)$/);
    expect(match[1]).toBe('wo');
    child.kill('SIGTERM');
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.stdout).toEqual(['ready', 'args []', 'one', 'two', 'bye']);
    await expect(child.exited).resolves.toEqual({ code: 0, signal: null });
  });

  it('child - passes arguments and environment', async () => {
    const child = spawnScript(ECHO_CHILD, ['--name', 'a b'], { env: { ECHO_PREFIX: '> ' } });
    const args = await child.waitForLine(/^args (.*)$/);
    expect(JSON.parse(args[1]!)).toEqual(['--name', 'a b']);
    child.writeLine('hi');
    await child.waitForLine(/^> hi$/);
    child.endInput();
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('child - successive waits walk forward instead of matching the same line twice', async () => {
    const child = spawnScript(ECHO_CHILD);
    child.writeLine('same');
    child.writeLine('same');
    await child.waitForLine(/^same$/);
    await child.waitForLine(/^same$/);
    child.writeLine('exit 0');
    await expect(child.waitForLine(/^same$/)).rejects.toThrow(/exited first/);
  });

  it('child - a timed-out wait quotes the recent stderr', async () => {
    const child = spawnScript(ECHO_CHILD);
    await child.waitForLine(/^ready$/);
    child.writeLine('stderr boom-4711');
    await child.waitForLine(/boom-4711/, undefined, { stream: 'stderr' });
    await expect(child.waitForLine(/^never$/, 100)).rejects.toThrow(
      /timed out after 100 ms[\s\S]*recent stderr:\n {2}\| boom-4711/,
    );
  });

  it('child - a wait fails as soon as the child exits without the line', async () => {
    const child = spawnScript(ECHO_CHILD);
    await child.waitForLine(/^ready$/);
    child.writeLine('stderr about to fail');
    child.writeLine('exit 3');
    const failure = child.waitForLine(/^never$/, 60_000);
    await expect(failure).rejects.toThrow(/exited first[\s\S]*code 3[\s\S]*about to fail/);
    expect(child.exitStatus).toEqual({ code: 3, signal: null });
  });

  it('child - killAll SIGKILLs every child still running', async () => {
    const children = [spawnScript(ECHO_CHILD), spawnScript(ECHO_CHILD)];
    await Promise.all(children.map((child) => child.waitForLine(/^ready$/)));
    await killAll();
    for (const child of children) {
      expect(child.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    }
  });
});
