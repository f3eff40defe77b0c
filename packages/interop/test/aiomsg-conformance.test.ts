/**
 * Herald's aiomsg socket against a peer written from PROTOCOL.md (support/raw-peer.ts), on
 * the memory transport and a TestClock: handshake orders, heartbeats, and each fault of the
 * reference that Herald must not copy.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork, type Transport, type TransportConnection } from '@herald/net';
import { TestClock, type Runtime } from '@herald/runtime';
import type { TestRuntime } from '@herald/testing';
import { closeTestRuntimes, spawnProbe, testRuntime, type Probe } from '@herald/testing';
import {
  AiomsgBound,
  AiomsgDelivered,
  AiomsgNotDelivered,
  AiomsgPeerJoined,
  AiomsgPeerLeft,
  AiomsgReceived,
  AiomsgSend,
  AiomsgSendMessage,
  AiomsgUndecodable,
  AiomsgMessage,
  aiomsgSocketBehavior,
  type AiomsgSocketOptions,
} from '../src/index.js';
import {
  ACK,
  DATA,
  DATA_REQ,
  HEARTBEAT,
  HELLO,
  RawPeer,
  helloFrame,
  randomId,
  rawFrame,
  u32,
} from './support/raw-peer.js';

afterEach(closeTestRuntimes);

const HERALD_ID = '0123456789abcdef0123456789abcdef';
const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const text = (b: Uint8Array): string => Buffer.from(b).toString();

interface Setup {
  runtime: TestRuntime<TestClock>;
  probe: Probe;
  transport: Transport;
  socket: ReturnType<Runtime['spawn']>;
}

/** A Herald socket bound on the memory network, owned by a probe, on a TestClock. */
async function heraldBind(
  options: Partial<AiomsgSocketOptions> = {},
): Promise<Setup & { port: number }> {
  const network = createMemoryNetwork();
  const transport = network.transport('herald');
  const runtime = testRuntime({ clock: new TestClock() });
  const probe = await spawnProbe(runtime, 'owner');
  const socket = runtime.spawn(
    aiomsgSocketBehavior({
      bind: { host: 'herald', port: 0 },
      transport,
      identity: HERALD_ID,
      owner: probe.address,
      ...options,
    }),
  );
  const bound = await probe.next(AiomsgBound);
  return { runtime, probe, transport: network.transport('peer'), socket, port: bound.message.port };
}

async function rawConnect(setup: Setup & { port: number }): Promise<RawPeer> {
  const c = await setup.transport.dial({ host: 'herald', port: setup.port });
  return new RawPeer(c.stream);
}

/** A raw peer that joined: HELLO sent, Herald's PeerJoined seen. */
async function joined(
  setup: Setup & { port: number },
  identity = randomId(),
): Promise<{ peer: RawPeer; identity: string }> {
  const peer = await rawConnect(setup);
  peer.write(helloFrame(identity));
  await peer.next(HELLO);
  await setup.probe.next(AiomsgPeerJoined, (m) => m.identity === identity.toString('hex'));
  return { peer, identity: identity.toString('hex') };
}

describe('aiomsg handshake', () => {
  it('a connecting Herald socket writes its HELLO before reading anything (the reference bind side waits for a byte)', async () => {
    const network = createMemoryNetwork();
    let accepted!: (c: TransportConnection) => void;
    const connection = new Promise<TransportConnection>((r) => (accepted = r));
    const listener = await network
      .transport('python')
      .listen({ host: 'python', port: 25000 }, accepted);
    const runtime = testRuntime({ clock: new TestClock() });
    const probe = await spawnProbe(runtime, 'owner');
    runtime.spawn(
      aiomsgSocketBehavior({
        connect: { host: 'python', port: 25000 },
        transport: network.transport('herald'),
        identity: HERALD_ID,
        owner: probe.address,
      }),
    );
    const peer = new RawPeer((await connection).stream);
    // The raw bind side has written nothing yet: Herald's HELLO must come first.
    const hello = await peer.next(HELLO);
    expect(hello.body.toString('hex')).toBe('01' + HERALD_ID);
    const id = randomId();
    peer.write(helloFrame(id));
    expect((await probe.next(AiomsgPeerJoined)).message.identity).toBe(id.toString('hex'));
    await listener.close();
  });

  it('a peer that sends HELLO first, pipelined with DATA in one write, is served: frames behind the HELLO are drained', async () => {
    const setup = await heraldBind();
    const peer = await rawConnect(setup);
    const id = randomId();
    peer.write(
      Buffer.concat([
        helloFrame(id),
        rawFrame(DATA, bytes('first')),
        rawFrame(DATA, bytes('second')),
      ]),
    );
    const first = await setup.probe.next(AiomsgReceived);
    expect([first.message.identity, text(first.message.payload)]).toEqual([
      id.toString('hex'),
      'first',
    ]);
    expect(text((await setup.probe.next(AiomsgReceived)).message.payload)).toBe('second');
    expect((await peer.next(HELLO)).body.toString('hex')).toBe('01' + HERALD_ID);
  });

  it('a bad version closes the connection with a typed reason and a warn line (the reference leaves it open and silent)', async () => {
    const setup = await heraldBind();
    const peer = await rawConnect(setup);
    peer.write(helloFrame(randomId(), 2));
    const left = await setup.probe.next(AiomsgPeerLeft);
    expect(left.message.code).toBe('HERALD_ERR_AIOMSG_BAD_VERSION');
    await peer.closed;
    expect(
      setup.runtime.log.lines.some(
        (l) => l['code'] === 'HERALD_ERR_AIOMSG_BAD_VERSION' && l['level'] === 40,
      ),
    ).toBe(true);
  });

  it('a duplicate identity closes the new connection and keeps the first (the reference leaves the new one open)', async () => {
    const setup = await heraldBind();
    const id = randomId();
    const first = await joined(setup, id);
    const second = await rawConnect(setup);
    second.write(helloFrame(id));
    const left = await setup.probe.next(AiomsgPeerLeft);
    expect([left.message.code, left.message.identity]).toEqual([
      'HERALD_ERR_AIOMSG_DUPLICATE_IDENTITY',
      undefined,
    ]);
    await second.closed;
    first.peer.write(rawFrame(DATA, bytes('still here')));
    expect(text((await setup.probe.next(AiomsgReceived)).message.payload)).toBe('still here');
  });

  it('a first frame that is not HELLO closes the connection', async () => {
    const setup = await heraldBind();
    const peer = await rawConnect(setup);
    peer.write(rawFrame(DATA, bytes('too early')));
    expect((await setup.probe.next(AiomsgPeerLeft)).message.code).toBe(
      'HERALD_ERR_AIOMSG_EXPECTED_HELLO',
    );
    await peer.closed;
    expect(setup.probe.count(AiomsgReceived)).toBe(0);
  });

  it('a WebSocket upgrade is refused with a typed reason (Herald speaks raw aiomsg only)', async () => {
    const setup = await heraldBind();
    const peer = await rawConnect(setup);
    peer.write(Buffer.from('GET / HTTP/1.1\r\n\r\n'));
    expect((await setup.probe.next(AiomsgPeerLeft)).message.code).toBe(
      'HERALD_ERR_AIOMSG_WEBSOCKET_UNSUPPORTED',
    );
  });
});

describe('aiomsg frames', () => {
  it('a zero-length frame is skipped, not taken for EOF (the reference closes)', async () => {
    const setup = await heraldBind();
    const { peer } = await joined(setup);
    peer.write(Buffer.concat([u32(0), rawFrame(DATA, bytes('after empty'))]));
    expect(text((await setup.probe.next(AiomsgReceived)).message.payload)).toBe('after empty');
    expect(setup.probe.count(AiomsgPeerLeft)).toBe(0);
  });

  it('an unknown envelope type is skipped', async () => {
    const setup = await heraldBind();
    const { peer } = await joined(setup);
    peer.write(Buffer.concat([rawFrame(0x7f, bytes('future')), rawFrame(DATA, bytes('known'))]));
    expect(text((await setup.probe.next(AiomsgReceived)).message.payload)).toBe('known');
    expect(setup.probe.count(AiomsgReceived)).toBe(1);
  });

  it('a frame over maxFrameBytes closes that connection with a typed reason (the reference has no limit)', async () => {
    const setup = await heraldBind({ maxFrameBytes: 64 });
    const { peer } = await joined(setup);
    peer.write(rawFrame(DATA, new Uint8Array(63)));
    expect((await setup.probe.next(AiomsgReceived)).message.payload).toHaveLength(63);
    peer.write(u32(65)); // the prefix alone is enough
    expect((await setup.probe.next(AiomsgPeerLeft)).message.code).toBe(
      'HERALD_ERR_AIOMSG_FRAME_TOO_LARGE',
    );
    await peer.closed;
  });
});

describe('aiomsg heartbeats on a TestClock', () => {
  it('sends HEARTBEAT after 5 s without sending, and any frame sent resets the interval', async () => {
    const setup = await heraldBind();
    const { peer, identity } = await joined(setup);
    await setup.runtime.clock.advanceAsync(4_999);
    expect(peer.count(HEARTBEAT)).toBe(0);
    await setup.runtime.clock.advanceAsync(1);
    await peer.next(HEARTBEAT);
    // A DATA at t=7 s moves the next heartbeat to t=12 s.
    await setup.runtime.clock.advanceAsync(2_000);
    setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes('x'), identity }));
    await peer.next(DATA);
    await setup.runtime.clock.advanceAsync(4_999);
    expect(peer.count(HEARTBEAT)).toBe(1);
    await setup.runtime.clock.advanceAsync(1);
    await peer.next(HEARTBEAT);
  });

  it('closes a connection after 15 s without a whole frame; a frame received postpones it', async () => {
    const setup = await heraldBind();
    const { peer } = await joined(setup);
    await setup.runtime.clock.advanceAsync(10_000);
    peer.write(rawFrame(HEARTBEAT));
    await peer.frames.waitFor(() => true); // let the frame reach Herald before time moves on
    await new Promise((r) => setImmediate(r));
    await setup.runtime.clock.advanceAsync(14_999);
    expect(setup.probe.count(AiomsgPeerLeft)).toBe(0);
    await setup.runtime.clock.advanceAsync(1);
    const left = await setup.probe.next(AiomsgPeerLeft);
    expect(left.message.code).toBe('HERALD_ERR_AIOMSG_HEARTBEAT_TIMEOUT');
    await peer.closed;
  });

  it('a connection that sends no HELLO is closed after the heartbeat timeout', async () => {
    const setup = await heraldBind();
    const peer = await rawConnect(setup);
    await peer.next(HELLO);
    await setup.runtime.clock.advanceAsync(14_999);
    expect(setup.probe.count(AiomsgPeerLeft)).toBe(0);
    await setup.runtime.clock.advanceAsync(1);
    const left = await setup.probe.next(AiomsgPeerLeft);
    expect([left.message.code, left.message.reason]).toEqual([
      'HERALD_ERR_AIOMSG_HEARTBEAT_TIMEOUT',
      'no HELLO within 15000 ms',
    ]);
    await peer.closed;
  });

  it('half a frame does not count: the timeout is for whole frames', async () => {
    const setup = await heraldBind();
    const { peer } = await joined(setup);
    await setup.runtime.clock.advanceAsync(10_000);
    peer.write(u32(10)); // a length prefix, never the body
    await new Promise((r) => setImmediate(r));
    await setup.runtime.clock.advanceAsync(5_000);
    expect((await setup.probe.next(AiomsgPeerLeft)).message.code).toBe(
      'HERALD_ERR_AIOMSG_HEARTBEAT_TIMEOUT',
    );
  });
});

describe('aiomsg at-least-once against the raw peer', () => {
  it('resends with the same message id, with backoff, a bounded number of times, then NotDelivered', async () => {
    // The raw peer stays silent: a long receive timeout keeps its connection up meanwhile.
    const setup = await heraldBind({
      deliveryGuarantee: 'at-least-once',
      maxRetries: 3,
      resendAfterMs: 5_000,
      resendBackoff: 2,
      heartbeatTimeoutMs: 3_600_000,
    });
    const { peer } = await joined(setup);
    setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes('important'), ref: 'r1' }));
    const first = await peer.next(DATA_REQ);
    const id = first.body.subarray(0, 16).toString('hex');
    expect(first.body.subarray(16).toString()).toBe('important');
    for (const wait of [5_000, 10_000, 20_000]) {
      await setup.runtime.clock.advanceAsync(wait - 1);
      expect(peer.count(DATA_REQ)).toBeLessThan(5);
      const before = peer.count(DATA_REQ);
      await setup.runtime.clock.advanceAsync(1);
      const again = await peer.next(DATA_REQ);
      expect(peer.count(DATA_REQ)).toBe(before + 1);
      expect(again.body.subarray(0, 16).toString('hex')).toBe(id); // the reference: a new id each time
    }
    await setup.runtime.clock.advanceAsync(40_000);
    const gaveUp = await setup.probe.next(AiomsgNotDelivered);
    expect(gaveUp.message).toMatchObject({
      messageId: id,
      ref: 'r1',
      code: 'HERALD_ERR_AIOMSG_RETRIES_EXHAUSTED',
    });
    await setup.runtime.clock.advanceAsync(600_000);
    expect(peer.count(DATA_REQ)).toBe(4); // the reference: every 5 s forever
  });

  it('an ACK stops the resends and reports Delivered', async () => {
    const setup = await heraldBind({ deliveryGuarantee: 'at-least-once' });
    const { peer, identity } = await joined(setup);
    setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes('p'), ref: 'mine' }));
    const req = await peer.next(DATA_REQ);
    peer.write(rawFrame(ACK, req.body.subarray(0, 16)));
    const delivered = await setup.probe.next(AiomsgDelivered);
    expect(delivered.message).toEqual(
      AiomsgDelivered({
        messageId: req.body.subarray(0, 16).toString('hex'),
        identity,
        ref: 'mine',
      }),
    );
    await setup.runtime.clock.advanceAsync(60_000);
    expect(peer.count(DATA_REQ)).toBe(1);
  });

  it('the receiver acknowledges every copy of a DATA_REQ but delivers it once', async () => {
    const setup = await heraldBind();
    const { peer, identity } = await joined(setup);
    const id = randomId();
    peer.write(rawFrame(DATA_REQ, id, bytes('once')));
    peer.write(rawFrame(DATA_REQ, id, bytes('once')));
    const acks = [await peer.next(ACK), await peer.next(ACK)];
    expect(acks.map((a) => a.body.toString('hex'))).toEqual([
      id.toString('hex'),
      id.toString('hex'),
    ]);
    peer.write(rawFrame(DATA, bytes('marker')));
    await setup.probe.next(AiomsgReceived, (m) => text(m.payload) === 'marker');
    const got = setup.probe.all(AiomsgReceived).filter((m) => text(m.payload) === 'once');
    expect(got).toEqual([
      AiomsgReceived({ identity, payload: bytes('once'), messageId: id.toString('hex') }),
    ]);
  });

  it('publish with at-least-once is done per peer: each peer acks or is retried on its own (the reference degrades it silently)', async () => {
    const setup = await heraldBind({
      sendMode: 'publish',
      deliveryGuarantee: 'at-least-once',
      maxRetries: 1,
    });
    const a = await joined(setup);
    const b = await joined(setup);
    setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes('all'), ref: 'pub' }));
    const ra = await a.peer.next(DATA_REQ);
    const rb = await b.peer.next(DATA_REQ);
    a.peer.write(rawFrame(ACK, ra.body.subarray(0, 16)));
    expect((await setup.probe.next(AiomsgDelivered)).message.identity).toBe(a.identity);
    await setup.runtime.clock.advanceAsync(5_000);
    expect((await b.peer.next(DATA_REQ)).body.equals(rb.body)).toBe(true);
    expect(a.peer.count(DATA_REQ)).toBe(1);
    await setup.runtime.clock.advanceAsync(10_000);
    const nd = await setup.probe.next(AiomsgNotDelivered);
    expect(nd.message).toMatchObject({
      identity: b.identity,
      ref: 'pub',
      code: 'HERALD_ERR_AIOMSG_RETRIES_EXHAUSTED',
    });
  });
});

describe('aiomsg sends against the raw peer', () => {
  it('buffers sends made before any peer and flushes them in order when one joins; beyond bufferLimit, NotDelivered', async () => {
    const setup = await heraldBind({ bufferLimit: 2 });
    for (const s of ['one', 'two', 'three'])
      setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes(s), ref: s }));
    const full = await setup.probe.next(AiomsgNotDelivered);
    expect(full.message).toMatchObject({ ref: 'three', code: 'HERALD_ERR_AIOMSG_BUFFER_FULL' });
    const { peer } = await joined(setup);
    expect([
      (await peer.next(DATA)).body.toString(),
      (await peer.next(DATA)).body.toString(),
    ]).toEqual(['one', 'two']);
  });

  it('an identity send to a peer that is not connected is NotDelivered at once (at-most-once)', async () => {
    const setup = await heraldBind();
    setup.runtime.send(
      setup.socket,
      AiomsgSend({ payload: bytes('x'), identity: 'ab'.repeat(16) }),
    );
    expect((await setup.probe.next(AiomsgNotDelivered)).message.code).toBe(
      'HERALD_ERR_AIOMSG_NO_SUCH_PEER',
    );
  });

  it("sendMode 'identity' refuses a send without an identity", async () => {
    const setup = await heraldBind({ sendMode: 'identity' });
    setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes('x') }));
    expect((await setup.probe.next(AiomsgNotDelivered)).message.code).toBe(
      'HERALD_ERR_AIOMSG_BAD_SEND',
    );
  });

  it('round-robin alternates between peers', async () => {
    const setup = await heraldBind();
    const a = await joined(setup);
    const b = await joined(setup);
    for (let i = 0; i < 4; i++)
      setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes(`m${i}`) }));
    await a.peer.next(DATA);
    await a.peer.next(DATA);
    await b.peer.next(DATA);
    await b.peer.next(DATA);
    expect(
      a.peer.frames.entries
        .filter((f) => f.type === DATA)
        .map((f) => f.body.toString())
        .sort(),
    ).toHaveLength(2);
  });

  const modes = ['publish', 'round-robin', 'identity'] as const;
  const guarantees = ['at-most-once', 'at-least-once'] as const;
  for (const sendMode of modes) {
    for (const deliveryGuarantee of guarantees) {
      it(`exchanges messages both ways with the raw peer: ${sendMode}, ${deliveryGuarantee}`, async () => {
        const setup = await heraldBind({ sendMode, deliveryGuarantee });
        const { peer, identity } = await joined(setup);
        const to = sendMode === 'identity' ? { identity } : {};
        setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes('to raw'), ...to }));
        if (deliveryGuarantee === 'at-least-once') {
          const req = await peer.next(DATA_REQ);
          expect(req.body.subarray(16).toString()).toBe('to raw');
          peer.write(rawFrame(ACK, req.body.subarray(0, 16)));
          expect((await setup.probe.next(AiomsgDelivered)).message.identity).toBe(identity);
        } else {
          expect((await peer.next(DATA)).body.toString()).toBe('to raw');
        }
        // The raw peer sends both envelope kinds; Herald acks the DATA_REQ.
        const id = randomId();
        peer.write(
          Buffer.concat([rawFrame(DATA, bytes('plain')), rawFrame(DATA_REQ, id, bytes('acked'))]),
        );
        expect(text((await setup.probe.next(AiomsgReceived)).message.payload)).toBe('plain');
        expect(text((await setup.probe.next(AiomsgReceived)).message.payload)).toBe('acked');
        expect((await peer.next(ACK)).body.toString('hex')).toBe(id.toString('hex'));
      });
    }
  }
});

describe('aiomsg resource bounds', () => {
  it('a bind socket holds at most maxConnections connections and closes the ones beyond', async () => {
    const setup = await heraldBind({ maxConnections: 2 });
    await joined(setup);
    const handshaking = await rawConnect(setup); // no HELLO yet: it still counts
    await handshaking.next(HELLO);
    const third = await rawConnect(setup);
    await third.closed;
    expect(
      setup.runtime.log.lines.some((l) => String(l['msg']).includes('too many connections')),
    ).toBe(true);
    expect(third.count(HELLO)).toBe(0);
  });

  it('round-robin skips a congested peer (more than congestedBytes unsent) and comes back to it', async () => {
    const setup = await heraldBind({ congestedBytes: 1_000 });
    const slow = await joined(setup);
    const fast = await joined(setup);
    slow.peer.stream.pause(); // reads nothing: what Herald writes to it piles up
    const big = (n: number) => new Uint8Array(256 * 1024).fill(n);
    // big 0 -> slow (taken by the link's window), big 1 -> fast, big 2 -> slow (stays unsent).
    for (let n = 0; n < 3; n++) setup.runtime.send(setup.socket, AiomsgSend({ payload: big(n) }));
    for (let i = 0; i < 4; i++)
      setup.runtime.send(setup.socket, AiomsgSend({ payload: bytes(`m${i}`) }));
    expect((await fast.peer.next(DATA)).body[0]).toBe(1);
    for (let i = 0; i < 4; i++) expect((await fast.peer.next(DATA)).body.toString()).toBe(`m${i}`);
    slow.peer.stream.resume();
    expect((await slow.peer.next(DATA)).body[0]).toBe(0);
    expect((await slow.peer.next(DATA)).body[0]).toBe(2);
  });
});

describe('aiomsg msgpack payloads', () => {
  it('decodes msgpack DATA into AiomsgMessage and keeps undecodable bytes as AiomsgUndecodable', async () => {
    const setup = await heraldBind({ payloadFormat: 'msgpack' });
    const { peer, identity } = await joined(setup);
    // 0x81 0xa1 'a' 0x01 is msgpack for {a: 1}; 0xc1 is never valid msgpack.
    peer.write(
      Buffer.concat([
        rawFrame(DATA, Uint8Array.of(0x81, 0xa1, 0x61, 0x01)),
        rawFrame(DATA, Uint8Array.of(0xc1, 0xc1)),
      ]),
    );
    expect((await setup.probe.next(AiomsgMessage)).message).toEqual(
      AiomsgMessage({ identity, message: { a: 1 } }),
    );
    expect((await setup.probe.next(AiomsgUndecodable)).message.payload).toEqual(
      Uint8Array.of(0xc1, 0xc1),
    );
    setup.runtime.send(
      setup.socket,
      AiomsgSendMessage({ message: { type: 'Hi', n: 2 }, identity }),
    );
    expect((await peer.next(DATA)).body.toString('hex')).toBe('82a474797065a24869a16e02');
  });
});

describe('aiomsg control lane', () => {
  it("another actor cannot forge the socket's internal I/O messages", async () => {
    const setup = await heraldBind();
    const { peer } = await joined(setup);
    // The internal message that would make the socket take bytes as a peer's frame.
    const forged = {
      type: 'herald.aiomsg.internal.IoData',
      conn: 1,
      chunk: rawFrame(DATA, bytes('forged')),
    };
    setup.probe.self.send(setup.socket, forged);
    peer.write(rawFrame(DATA, bytes('real')));
    expect(text((await setup.probe.next(AiomsgReceived)).message.payload)).toBe('real');
    expect(setup.probe.count(AiomsgReceived)).toBe(1);
    expect(
      setup.runtime.log.lines.some((l) => l['msg'] === 'forged internal message ignored'),
    ).toBe(true);
  });
});
