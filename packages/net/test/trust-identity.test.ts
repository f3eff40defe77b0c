/**
 * Authenticated peers at the network level (docs/security.md): identity keys, a pinned
 * server key, allow-lists, an asynchronous authorize decision, refusal of anonymous peers,
 * and a man in the middle that runs its own handshake.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { closeTestRuntimes, spawnProbe, testRuntime, Hello, Welcome } from '@herald/testing';
import {
  Accepted,
  Connected,
  NotConnected,
  connect,
  listen,
  Listening,
  type ConnectOptions,
  type ListenOptions,
  type PeerInfo,
} from '../src/index.js';
import { createIdentity, formatPublicKey } from '../src/wire/index.js';

afterEach(closeTestRuntimes);

async function server(options: ListenOptions) {
  const probe = await spawnProbe(testRuntime({ name: 'server' }), {
    name: 'server',
    onStart: (self) => listen(self, { port: 0 }, options),
    onMessage: (message, self) => {
      if (Hello.is(message)) self.reply(Welcome({ yourName: message.myName, myName: 'server' }));
    },
  });
  const port = (await probe.next(Listening)).message.listening.port;
  return { probe, port };
}

async function client(port: number, options: ConnectOptions) {
  const probe = await spawnProbe(testRuntime({ name: 'client' }), 'client');
  connect(probe.self, { host: '127.0.0.1', port }, options);
  const { message } = await probe.recorder.waitFor(
    (r) => Connected.is(r.message) || NotConnected.is(r.message),
    { what: 'Connected or NotConnected' },
  );
  return { probe, message };
}

const serverId = createIdentity();
const clientId = createIdentity();
const serverKey = formatPublicKey(serverId.publicKey);
const clientKey = formatPublicKey(clientId.publicKey);

describe('trust - authenticated peers', () => {
  it('mutual authentication: each side learns the other key; messages flow', async () => {
    const s = await server({ identity: serverId, allowedPeerKeys: [clientKey] });
    const c = await client(s.port, { identity: clientId, peerKey: serverKey });
    expect(Connected.is(c.message)).toBe(true);
    if (!Connected.is(c.message)) return;
    expect(c.message.peerKey).toBe(serverKey);
    expect(c.message.encrypted).toBe(true);
    const accepted = await s.probe.next(Accepted);
    expect(accepted.message.peerKey).toBe(clientKey);
    c.probe.self.send(c.message.remote, Hello({ myName: 'alice' }));
    expect((await c.probe.next(Welcome)).message.yourName).toBe('alice');
  });

  it('a client that pins the server key refuses anyone else: a man in the middle with its own key', async () => {
    // The attacker terminates the client's handshake with its own identity.
    const mitm = await server({ identity: createIdentity() });
    const c = await client(mitm.port, { identity: clientId, peerKey: serverKey });
    expect(NotConnected.is(c.message)).toBe(true);
    if (NotConnected.is(c.message)) expect(c.message.reason).toBe('peer-key-mismatch');
    expect(mitm.probe.types()).not.toContain(Accepted.type);
  });

  it('a client key that is not on the allow-list is refused before anything opens', async () => {
    const s = await server({ identity: serverId, allowedPeerKeys: [clientKey] });
    const c = await client(s.port, { identity: createIdentity(), peerKey: serverKey });
    expect(NotConnected.is(c.message)).toBe(true);
    if (NotConnected.is(c.message)) expect(c.message.reason).toBe('not-authorized');
    expect(s.probe.types()).not.toContain(Accepted.type);
  });

  it('a listener that requires a key refuses anonymous clients', async () => {
    const s = await server({ identity: serverId, requirePeerKey: true });
    const c = await client(s.port, { encrypted: true, peerKey: serverKey });
    expect(NotConnected.is(c.message)).toBe(true);
    if (NotConnected.is(c.message)) expect(c.message.reason).toBe('not-authorized');
  });

  it('an asynchronous authorize decision admits or refuses with a reason; it sees key and address', async () => {
    const seen: PeerInfo[] = [];
    const s = await server({
      identity: serverId,
      authorize: async (peer) => {
        seen.push(peer);
        await new Promise((resolve) => setImmediate(resolve));
        return peer.key === clientKey ? true : 'unknown key';
      },
    });
    const good = await client(s.port, { identity: clientId, peerKey: serverKey });
    expect(Connected.is(good.message)).toBe(true);
    const bad = await client(s.port, { identity: createIdentity(), peerKey: serverKey });
    expect(NotConnected.is(bad.message)).toBe(true);
    if (NotConnected.is(bad.message)) expect(bad.message.reason).toBe('not-authorized');
    expect(seen[0]?.key).toBe(clientKey);
    expect(seen[0]?.address.host).toBe('127.0.0.1');
    expect(s.probe.all(Accepted)).toHaveLength(1);
  });

  it('an authorize that throws refuses the peer; the listener keeps serving', async () => {
    let calls = 0;
    const s = await server({
      identity: serverId,
      authorize: () => {
        calls++;
        if (calls === 1) throw new Error('database down');
        return true;
      },
    });
    const first = await client(s.port, { identity: clientId, peerKey: serverKey });
    expect(NotConnected.is(first.message)).toBe(true);
    const second = await client(s.port, { identity: clientId, peerKey: serverKey });
    expect(Connected.is(second.message)).toBe(true);
  });
});
