/**
 * Herald over the TLS transport: PKI and mutual TLS with client certificates, the peer
 * certificate's subject and fingerprint in Accepted / Connected, the same messages and
 * semantics as plain TCP; a client certificate from a wrong CA is refused.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { closeTestRuntimes, spawnProbe, testRuntime, Hello, Welcome } from '@herald/testing';
import {
  Accepted,
  Connected,
  NotConnected,
  connect,
  listen,
  Listening,
  tlsTransport,
  type Transport,
} from '../src/index.js';
import { hasOpenssl, makeTestPki, type TestPki } from './transport/certs.js';

afterEach(closeTestRuntimes);

const haveOpenssl = hasOpenssl();
let pki: TestPki;
beforeAll(() => {
  if (haveOpenssl) pki = makeTestPki();
});
afterAll(() => pki?.remove());

async function server(transport: Transport) {
  const probe = await spawnProbe(testRuntime({ name: 'server' }), {
    name: 'server',
    onStart: (self) => listen(self, { port: 0 }, { transport }),
    onMessage: (message, self) => {
      if (Hello.is(message)) self.reply(Welcome({ yourName: message.myName, myName: 'server' }));
    },
  });
  const port = (await probe.next(Listening)).message.listening.port;
  return { probe, port };
}

describe.skipIf(!haveOpenssl)('trust - TLS transport (mutual TLS)', () => {
  it('a client certificate from the CA gets in; both sides see the other certificate', async () => {
    const s = await server(
      tlsTransport({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true }),
    );
    const client = await spawnProbe(testRuntime({ name: 'client' }), 'client');
    connect(
      client.self,
      { host: '127.0.0.1', port: s.port },
      { transport: tlsTransport({ ...pki.alice, ca: pki.ca }) },
    );
    const connected = await client.next(Connected);
    expect(connected.message.security).toMatchObject({ protocol: 'tls', authorized: true });
    expect(connected.message.security?.peerSubject).toMatch(/CN=localhost/);
    const accepted = await s.probe.next(Accepted);
    expect(accepted.message.security?.peerSubject).toMatch(/CN=alice/);
    expect(accepted.message.security?.peerFingerprint).toMatch(/^([0-9A-F]{2}:){31}[0-9A-F]{2}$/);
    client.self.send(connected.message.remote, Hello({ myName: 'alice' }));
    expect((await client.next(Welcome)).message.yourName).toBe('alice');
  });

  it('a client certificate from a wrong CA is refused; the server keeps serving', async () => {
    const s = await server(
      tlsTransport({ ...pki.server, ca: pki.ca, requestCert: true, rejectUnauthorized: true }),
    );
    const mallory = await spawnProbe(testRuntime({ name: 'mallory' }), 'mallory');
    connect(
      mallory.self,
      { host: '127.0.0.1', port: s.port },
      { transport: tlsTransport({ ...pki.mallory, ca: pki.ca }) },
    );
    const refused = await mallory.recorder.waitFor(
      (r) => Connected.is(r.message) || NotConnected.is(r.message),
      { what: 'the outcome for mallory' },
    );
    expect(NotConnected.is(refused.message)).toBe(true);
    expect(s.probe.types()).not.toContain(Accepted.type);
    const alice = await spawnProbe(testRuntime({ name: 'alice' }), 'alice');
    connect(
      alice.self,
      { host: '127.0.0.1', port: s.port },
      { transport: tlsTransport({ ...pki.alice, ca: pki.ca }) },
    );
    await alice.next(Connected);
  });

  it('a client refuses a server whose certificate is from a CA it does not trust', async () => {
    const s = await server(tlsTransport({ ...pki.wrongServer }));
    const client = await spawnProbe(testRuntime({ name: 'client' }), 'client');
    connect(
      client.self,
      { host: '127.0.0.1', port: s.port },
      { transport: tlsTransport({ ca: pki.ca }) },
    );
    const { message } = await client.recorder.waitFor(
      (r) => Connected.is(r.message) || NotConnected.is(r.message),
      { what: 'NotConnected' },
    );
    expect(NotConnected.is(message)).toBe(true);
    if (NotConnected.is(message)) expect(message.errno).toBeDefined();
  });
});
