/**
 * The relay transport against a real nats-server: the transport compliance suite, a whole
 * Herald connection (handshake, encryption, messages, reply) carried over NATS subjects,
 * flow control, and what a hostile or vanished peer gets: a malformed message, a sequence
 * gap, bytes past the window, silence. One nats-server per file, killed in afterAll.
 */
import { connect as natsConnect, type NatsConnection } from 'nats';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { TestClock } from '@herald/runtime';
import { closeTestRuntimes, spawnProbe, testRuntime, Hello, Welcome } from '@herald/testing';
import {
  Accepted,
  Connected,
  NotConnected,
  connect,
  createIdentity,
  formatPublicKey,
  listen,
  Listening,
  type TransportConnection,
} from '@herald/net';
import {
  once,
  patternBytes,
  readAll,
  readBytes,
  transportCompliance,
  within,
} from '../../net/test/transport/compliance.js';
import {
  RelayStreamError,
  natsRelayTransport,
  parseRelaySubject,
  relaySubjectOf,
  type NatsRelayOptions,
} from '../src/cluster/index.js';
import { encodeData } from '../src/cluster/relay-frames.js';
import { natsTestsRun, startNatsServer, type NatsServer } from './cluster-nats-server.js';

const haveNats = natsTestsRun();
let server: NatsServer;
const connections: NatsConnection[] = [];

beforeAll(async () => {
  if (haveNats) server = await startNatsServer();
});
afterAll(async () => {
  await server?.stop();
});
afterEach(async () => {
  await closeTestRuntimes();
  for (const nc of connections.splice(0)) await nc.close();
});

async function nats(): Promise<NatsConnection> {
  const nc = await natsConnect({ servers: server.url, name: 'relay-test' });
  connections.push(nc);
  return nc;
}

let prefixes = 0;
/** A fresh subject prefix per transport, as two processes would have. */
function prefix(who: string): string {
  prefixes++;
  return `herald.test.${who}${prefixes}`;
}

if (haveNats) {
  transportCompliance('nats-relay', async () => {
    const a = await nats();
    const b = await nats();
    const serverTransport = natsRelayTransport(a, prefix('server'));
    const clientTransport = natsRelayTransport(b, prefix('client'));
    return {
      server: serverTransport,
      client: clientTransport,
      listenAt: { host: serverTransport.prefix, port: 0 },
      close: async () => {
        await serverTransport.close();
        await clientTransport.close();
      },
    };
  });
}

/** A connected pair of relay streams over two NATS connections. */
async function pair(options: NatsRelayOptions = {}, clientOptions: NatsRelayOptions = options) {
  const serverTransport = natsRelayTransport(await nats(), prefix('s'), options);
  const clientTransport = natsRelayTransport(await nats(), prefix('c'), clientOptions);
  let accepted: ((connection: TransportConnection) => void) | undefined;
  const acceptedOne = new Promise<TransportConnection>((resolve) => (accepted = resolve));
  const listener = await serverTransport.listen({ host: serverTransport.prefix, port: 0 }, (c) =>
    accepted?.(c),
  );
  const client = await within(clientTransport.dial(listener.address), 'dial');
  const serverEnd = await within(acceptedOne, 'accept');
  // The NATS connections close after each test: that error is not the test's concern.
  quiet(client, serverEnd);
  return { serverTransport, clientTransport, listener, client, server: serverEnd };
}

/** Ignores errors of these streams after the test's point (as the compliance suite does). */
function quiet(...connections: (TransportConnection | undefined)[]): void {
  for (const connection of connections) connection?.stream.on('error', () => {});
}

/** Resolves with the error the stream is destroyed with. */
function failure(stream: NodeJS.EventEmitter): Promise<RelayStreamError> {
  return once<RelayStreamError>(stream, 'error', 'the stream error');
}

describe.skipIf(!haveNats)('nats relay - Herald over NATS subjects', () => {
  it('relay - a whole Herald connection runs over NATS: handshake, encryption, message, reply', async () => {
    const serverId = createIdentity();
    const clientId = createIdentity();
    const serverRelay = natsRelayTransport(await nats(), prefix('herald-server'));
    const clientRelay = natsRelayTransport(await nats(), prefix('herald-client'));
    const probe = await spawnProbe(testRuntime({ name: 'server' }), {
      name: 'server',
      onStart: (self) =>
        listen(
          self,
          { host: serverRelay.prefix, port: 0 },
          {
            transport: serverRelay,
            identity: serverId,
            allowedPeerKeys: [formatPublicKey(clientId.publicKey)],
          },
        ),
      onMessage: (message, self) => {
        if (Hello.is(message)) self.reply(Welcome({ yourName: message.myName, myName: 'server' }));
      },
    });
    const listening = (await probe.next(Listening)).message.listening;
    // What a listing's relay field would carry, and what a subscriber dials from it.
    const relay = relaySubjectOf({ host: listening.host, port: listening.port });
    const address = parseRelaySubject(relay);
    expect(address).toEqual({ host: serverRelay.prefix, port: listening.port });

    const client = await spawnProbe(testRuntime({ name: 'client' }), 'client');
    connect(client.self, address ?? { host: '', port: 0 }, {
      transport: clientRelay,
      identity: clientId,
      peerKey: formatPublicKey(serverId.publicKey),
    });
    const outcome = await client.recorder.waitFor(
      (r) => Connected.is(r.message) || NotConnected.is(r.message),
      { what: 'Connected or NotConnected' },
    );
    expect(Connected.is(outcome.message)).toBe(true);
    if (!Connected.is(outcome.message)) return;
    expect(outcome.message.encrypted).toBe(true);
    expect(outcome.message.peerKey).toBe(formatPublicKey(serverId.publicKey));
    const accepted = await probe.next(Accepted);
    expect(accepted.message.peerKey).toBe(formatPublicKey(clientId.publicKey));
    expect(serverRelay.streams).toBe(1);

    client.self.send(outcome.message.remote, Hello({ myName: 'alice' }));
    const welcome = await client.next(Welcome);
    expect(welcome.message).toMatchObject({ yourName: 'alice', myName: 'server' });
    // A large message crosses too (many DATA frames, acknowledgements, reassembly).
    const big = 'x'.repeat(300_000);
    client.self.send(outcome.message.remote, Hello({ myName: big }));
    expect((await client.next(Welcome)).message.yourName).toBe(big);
    await serverRelay.close();
    await clientRelay.close();
  });

  it('relay - a dial to a subject nobody listens on is refused (ECONNREFUSED)', async () => {
    const relay = natsRelayTransport(await nats(), prefix('lonely'));
    await expect(relay.dial({ host: prefix('nobody'), port: 7 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('relay - a listener that never answers fails the dial with ETIMEDOUT', async () => {
    const mute = await nats();
    const host = prefix('mute');
    mute.subscribe(`${host}.l.9`, { callback: () => {} });
    await mute.flush();
    const relay = natsRelayTransport(await nats(), prefix('impatient'), { dialTimeoutMs: 200 });
    await expect(within(relay.dial({ host, port: 9 }), 'the dial')).rejects.toMatchObject({
      code: 'ETIMEDOUT',
    });
  });

  it('relay - a dial aborted before its ACCEPT leaves nothing open at the listener', async () => {
    const serverTransport = natsRelayTransport(await nats(), prefix('s'));
    const clientTransport = natsRelayTransport(await nats(), prefix('c'));
    const controller = new AbortController();
    // The dialer gives up while the listener accepts: before the ACCEPT can reach it.
    let accepted: TransportConnection | undefined;
    const listener = await serverTransport.listen({ host: '', port: 0 }, (connection) => {
      accepted = connection;
      quiet(connection);
      controller.abort();
    });
    const dialing = clientTransport.dial(listener.address, { signal: controller.signal });
    await expect(within(dialing, 'the aborted dial')).rejects.toMatchObject({ name: 'AbortError' });
    if (accepted === undefined) throw new Error('the listener did not accept');
    // The ACCEPT reaches a dialer that gave up: it answers RESET, and the accepted end closes.
    accepted.stream.resume();
    await once(accepted.stream, 'close', "'close' at the listener's end");
    expect(serverTransport.streams).toBe(0);
    expect(clientTransport.streams).toBe(0);
  });

  it('relay - a listener at its stream limit refuses more connects', async () => {
    const { serverTransport, listener } = await pair({ maxStreams: 1 });
    const other = natsRelayTransport(await nats(), prefix('other'));
    await expect(other.dial(listener.address)).rejects.toMatchObject({ code: 'ECONNREFUSED' });
    expect(serverTransport.streams).toBe(1);
  });

  it('relay - a writer never has more than the window unacknowledged on the wire; a paused reader stops it', async () => {
    const window = 8 * 1024;
    const maxChunk = 1024;
    const highWater = 16 * 1024;
    const p = await pair({ windowBytes: window, maxChunkBytes: maxChunk });
    // A third party sees DATA towards the server and ACKs towards the client, in server order.
    const spy = await nats();
    let dataBytes = 0;
    let acked = 0;
    let worst = 0;
    spy.subscribe(`${p.serverTransport.prefix}.s.*`, {
      callback: (_error, msg) => {
        if (msg.data[0] !== 0x04) return;
        dataBytes += msg.data.length - 5;
        worst = Math.max(worst, dataBytes - acked);
      },
    });
    spy.subscribe(`${p.clientTransport.prefix}.s.*`, {
      callback: (_error, msg) => {
        if (msg.data[0] === 0x05) acked = Buffer.from(msg.data).readUIntBE(5, 6);
      },
    });
    await spy.flush();
    p.server.stream.pause();
    const total = 256 * 1024;
    let written = 0;
    let blocked = false;
    while (written < total) {
      if (!p.client.stream.write(patternBytes(4096, written))) blocked = true;
      written += 4096;
    }
    expect(blocked).toBe(true);
    await within(
      new Promise<void>((resolve) => {
        const check = (): void => {
          if (p.server.stream.readableLength >= highWater) resolve();
          else setImmediate(check);
        };
        check();
      }),
      "the paused reader's buffer to fill",
    );
    // The reader acknowledges only what its buffer took (up to its high-water mark and one
    // frame more); the writer may be one window ahead of that and no further.
    expect(p.client.stream.writableLength).toBeGreaterThanOrEqual(
      total - (highWater + maxChunk + window),
    );
    const all = readBytes(p.server.stream, total);
    p.server.stream.resume();
    expect((await all).length).toBe(total);
    expect(worst).toBeGreaterThan(0);
    expect(worst).toBeLessThanOrEqual(window);
  });

  it("relay - a chunk size above the server's max_payload is cut to fit", async () => {
    const options = { maxChunkBytes: 4 * 1024 * 1024, windowBytes: 8 * 1024 * 1024 };
    const { client, server: serverEnd } = await pair(options);
    const data = patternBytes(3 * 1024 * 1024, 11);
    const received = readBytes(serverEnd.stream, data.length);
    client.stream.write(data);
    expect((await received).equals(data)).toBe(true);
  });

  it('relay - end() at one side ends the other after the data; both close', async () => {
    const { client, server: serverEnd } = await pair();
    const data = patternBytes(100_000, 9);
    const received = readAll(serverEnd.stream);
    const closed = once(client.stream, 'close');
    client.stream.resume();
    client.stream.end(data);
    expect((await received).equals(data)).toBe(true);
    await closed;
  });
});

describe.skipIf(!haveNats)('nats relay - hostile and vanished peers', () => {
  /** The NATS connection of a forger that knows a stream's subject. */
  async function forge(subject: string, payloads: Uint8Array[]): Promise<void> {
    const nc = await nats();
    for (const payload of payloads) nc.publish(subject, payload);
    await nc.flush();
  }

  /** The subject the client end's frames arrive on (the dialer's stream subject). */
  async function clientSubject(): Promise<{
    subject: string;
    client: TransportConnection;
    server: TransportConnection;
  }> {
    const p = await pair();
    // The server end's peer subject is the client's stream subject: learn it by watching.
    const spy = await nats();
    const seen = new Promise<string>((resolve) => {
      spy.subscribe(`${p.clientTransport.prefix}.s.*`, {
        max: 1,
        callback: (_error, msg) => resolve(msg.subject),
      });
    });
    await spy.flush();
    p.server.stream.write('hello');
    const subject = await within(seen, 'a frame to the client');
    await readBytes(p.client.stream, 5);
    return { subject, client: p.client, server: p.server };
  }

  it('relay - a garbage message closes that stream with reason malformed; others carry on', async () => {
    const { subject, client, server: serverEnd } = await clientSubject();
    const other = await pair();
    const failed = failure(client.stream);
    const peerFailed = failure(serverEnd.stream);
    await forge(subject, [Uint8Array.of(0xff, 1, 2, 3)]);
    const error = await failed;
    expect(error).toBeInstanceOf(RelayStreamError);
    expect(error.code).toBe('HERALD_ERR_RELAY_STREAM');
    expect(error.reason).toBe('malformed');
    // The peer is told (RESET with the reason) and closes too.
    expect((await peerFailed).reason).toBe('peer-reset');
    const ping = readBytes(other.server.stream, 4);
    other.client.stream.write('ping');
    expect((await ping).toString()).toBe('ping');
  });

  it('relay - a forged frame out of sequence closes the stream with sequence-gap', async () => {
    const { subject, client } = await clientSubject();
    const failed = failure(client.stream);
    await forge(subject, [encodeData(1000, Buffer.from('injected'))]);
    expect((await failed).reason).toBe('sequence-gap');
  });

  it('relay - bytes past the window close the stream with window-exceeded', async () => {
    const { subject, client } = await clientSubject();
    client.stream.pause();
    const failed = failure(client.stream);
    // The server end has sent ACCEPT (0) and one DATA (1); continue its sequence past the window.
    const frames: Uint8Array[] = [];
    for (let seq = 2; seq < 2 + 10; seq++)
      frames.push(encodeData(seq, patternBytes(32 * 1024, seq)));
    await forge(subject, frames);
    expect((await failed).reason).toBe('window-exceeded');
  });

  it('relay - a peer that vanishes is noticed by silence (peer-timeout, ETIMEDOUT)', async () => {
    const clock = new TestClock();
    const options: NatsRelayOptions = { keepaliveMs: 1_000, timeoutMs: 5_000, clock };
    const serverNc = await nats();
    const serverTransport = natsRelayTransport(serverNc, prefix('vanishing'), options);
    const clientTransport = natsRelayTransport(await nats(), prefix('c'), options);
    let accepted: TransportConnection | undefined;
    const listener = await serverTransport.listen({ host: '', port: 0 }, (c) => (accepted = c));
    const client = await within(clientTransport.dial(listener.address), 'dial');
    expect(accepted).toBeDefined();
    quiet(client, accepted);
    // Keep-alive: the quiet client PINGs, so a live peer is heard even when nothing is sent.
    const spy = await nats();
    const pinged = new Promise<void>((resolve) => {
      spy.subscribe(`${serverTransport.prefix}.s.*`, {
        callback: (_error, msg) => {
          if (msg.data[0] === 0x08) resolve();
        },
      });
    });
    await spy.flush();
    clock.advance(1_000);
    await within(pinged, "the client's PING");
    // The server's process is gone: its NATS connection drops without a word.
    await serverNc.close();
    const failed = failure(client.stream);
    clock.advance(5_000);
    const error = await failed;
    expect(error.reason).toBe('peer-timeout');
    expect(error.errno).toBe('ETIMEDOUT');
    await clientTransport.close();
  });

  it('relay - the NATS connection closing closes its streams (nats-closed)', async () => {
    const nc = await nats();
    const serverTransport = natsRelayTransport(await nats(), prefix('s'));
    const clientTransport = natsRelayTransport(nc, prefix('c'));
    const listener = await serverTransport.listen({ host: '', port: 0 }, (c) => quiet(c));
    const client = await within(clientTransport.dial(listener.address), 'dial');
    quiet(client);
    const failed = failure(client.stream);
    await nc.close();
    expect((await failed).reason).toBe('nats-closed');
    await serverTransport.close();
  });
});

describe.skipIf(!haveNats)('nats relay - the NATS server restarts', () => {
  it('relay - an idle stream carries on after the server restarts, and new dials work', async () => {
    const reconnecting = async (): Promise<NatsConnection> => {
      const nc = await natsConnect({
        servers: server.url,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 50,
      });
      connections.push(nc);
      return nc;
    };
    const serverNc = await reconnecting();
    const clientNc = await reconnecting();
    const serverTransport = natsRelayTransport(serverNc, prefix('restart-s'));
    const clientTransport = natsRelayTransport(clientNc, prefix('restart-c'));
    let accepted: ((connection: TransportConnection) => void) | undefined;
    const acceptedOne = new Promise<TransportConnection>((resolve) => (accepted = resolve));
    const listener = await serverTransport.listen({ host: '', port: 0 }, (c) => accepted?.(c));
    const client = await within(clientTransport.dial(listener.address), 'dial');
    const serverEnd = await within(acceptedOne, 'accept');
    quiet(client, serverEnd);
    const first = readBytes(serverEnd.stream, 5);
    client.stream.write('hello');
    expect((await first).toString()).toBe('hello');

    const reconnected = (nc: NatsConnection): Promise<void> =>
      within(
        (async () => {
          for await (const status of nc.status()) if (status.type === 'reconnect') return;
        })(),
        'the reconnect',
      );
    const both = Promise.all([reconnected(serverNc), reconnected(clientNc)]);
    await server.restart();
    await both;
    // The subscriptions are back on the new server; the idle stream had nothing in flight.
    await serverNc.flush();
    await clientNc.flush();
    const after = readBytes(serverEnd.stream, 5);
    serverEnd.stream.resume(); // (readBytes paused it after the first read)
    client.stream.write('again');
    expect((await after).toString()).toBe('again');
    const reply = readBytes(client.stream, 4);
    serverEnd.stream.write('pong');
    expect((await reply).toString()).toBe('pong');
    const second = await within(clientTransport.dial(listener.address), 'a dial after the restart');
    quiet(second);
    await serverTransport.close();
    await clientTransport.close();
  });
});
