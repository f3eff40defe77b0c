import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  CloseReason,
  FrameKind,
  PROTOCOL_VERSION,
  type SessionEvent,
  WireSession,
  type WireSessionOptions,
  checkHandshakeOptions,
  concatBytes,
  createIdentity,
  decodeCloseBody,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
  formatPublicKey,
  naclKeyAgreement,
  nodeKeyAgreement,
  tweetnaclCipherSuite,
} from '../../src/wire/index.js';
import { msg } from './helpers.js';
import { countingSuite, last, seeded, sessionPair } from './handshake-support.js';

const server = createIdentity(seeded(11));
const client = createIdentity(seeded(12));
const stranger = createIdentity(seeded(13));

const types = (events: readonly SessionEvent[]) => events.map((e) => e.type);

function contains(haystack: Uint8Array, needle: Uint8Array): boolean {
  return Buffer.from(haystack).includes(Buffer.from(needle));
}

/** Pinned client, server with an identity: the usual authenticated pair. */
function authenticated(a: Partial<WireSessionOptions> = {}, b: Partial<WireSessionOptions> = {}) {
  return sessionPair(
    { identity: client, peerKey: server.publicKey, random: seeded(1), ...a },
    { identity: server, random: seeded(2), ...b },
  );
}

describe('handshake - authentication', () => {
  it('mutual authentication: each side learns the key the other proved, then messages flow', () => {
    const { A, B, got, pump } = authenticated();
    expect(got.A).toMatchObject([
      { type: 'established', encrypted: true, peer: { key: formatPublicKey(server.publicKey) } },
    ]);
    expect(got.B).toMatchObject([
      { type: 'established', encrypted: true, peer: { key: formatPublicKey(client.publicKey) } },
    ]);
    expect(A.peer?.publicKey).toEqual(server.publicKey);
    expect(B.peer?.publicKey).toEqual(client.publicKey);
    A.send(msg({ typeName: 'x.Ask' }));
    B.send(msg({ typeName: 'x.Reply' }));
    pump();
    expect(types(got.A)).toEqual(['established', 'message']);
    expect(types(got.B)).toEqual(['established', 'message']);
  });

  it('a passive observer never sees either long-term key', () => {
    const { wire } = authenticated();
    const all = concatBytes([...wire.AtoB, ...wire.BtoA]);
    expect(contains(all, client.publicKey)).toBe(false);
    expect(contains(all, server.publicKey)).toBe(false);
  });

  it('takes 2 round trips and 4 messages; the sizes are the documented ones', () => {
    const { wire } = authenticated();
    // connector: preamble+HELLO, then AUTH; acceptor: preamble, HELLO+AUTH, READY.
    expect(wire.AtoB.map((b) => b.length)).toEqual([8 + 5 + 9 + 35, 5 + 1 + 48 + 16]);
    expect(wire.BtoA.map((b) => b.length)).toEqual([8, 5 + 9 + 35 + (5 + 1 + 48 + 16), 5 + 16]);
  });

  it('a pinned key that does not match fails the connector before it reveals its identity', () => {
    // A man in the middle runs its own handshake with its own key.
    const { A, got, wire } = sessionPair(
      { identity: client, peerKey: server.publicKey },
      { identity: stranger },
    );
    expect(got.A).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_PEER_KEY_MISMATCH' } },
    ]);
    expect((last(got.A) as { error: Error }).error.message).toContain(
      formatPublicKey(stranger.publicKey),
    );
    expect(got.B).toMatchObject([{ type: 'closed', reason: 'peer-key-mismatch' }]);
    expect(A.state).toBe('closing');
    // The connector's own AUTH (with its sealed key) was never sent.
    expect(wire.AtoB).toHaveLength(2);
    expect(wire.AtoB[1]?.[4]).toBe(FrameKind.CLOSE);
  });

  it('a connector may pin several keys (rotation): any of them is accepted', () => {
    const { got } = authenticated({
      peerKey: [formatPublicKey(stranger.publicKey), server.publicKey],
    });
    expect(types(got.A)).toEqual(['established']);
    const none = authenticated({ peerKey: [stranger.publicKey] });
    expect(none.got.A).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_PEER_KEY_MISMATCH' } },
    ]);
  });

  it('a pinned key fails against an anonymous acceptor', () => {
    const { got } = sessionPair({ peerKey: server.publicKey }, { encrypt: true });
    expect(got.A).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_PEER_KEY_MISMATCH' } },
    ]);
  });

  it('a man in the middle relaying between two handshakes fails when the key is pinned', () => {
    // M accepts A with its own key and connects to B as itself: A detects it.
    const M = new WireSession({ role: 'acceptor', identity: stranger });
    const A = new WireSession({ role: 'connector', identity: client, peerKey: server.publicKey });
    const evA: SessionEvent[] = [];
    const evM: SessionEvent[] = [];
    evM.push(...M.receive(A.start()));
    evA.push(...A.receive(M.start()));
    for (let i = 0; i < 5; i++) {
      const m = M.flush();
      if (m !== null) evA.push(...A.receive(m));
      const a = A.flush();
      if (a !== null) evM.push(...M.receive(a));
    }
    expect(types(evA)).toEqual(['failed']);
    expect(types(evM)).toEqual(['closed']);
    expect(M.peer).toBeNull();
  });

  it('an allow-list admits a listed key and refuses an unknown one with not-authorized', () => {
    const ok = authenticated({}, { allowedPeerKeys: [formatPublicKey(client.publicKey)] });
    expect(types(ok.got.A)).toEqual(['established']);
    expect(types(ok.got.B)).toEqual(['established']);

    const no = authenticated({ identity: stranger }, { allowedPeerKeys: [client.publicKey] });
    expect(no.got.B).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_NOT_AUTHORIZED' } },
    ]);
    expect(no.got.A).toMatchObject([
      { type: 'closed', code: CloseReason.NOT_AUTHORIZED, reason: 'not-authorized' },
    ]);
  });

  it('anonymous encryption works, and an acceptor can refuse anonymous peers', () => {
    const anon = sessionPair({ encrypt: true }, { encrypt: true });
    expect(anon.got.A).toMatchObject([
      { type: 'established', encrypted: true, peer: { key: null, publicKey: null } },
    ]);
    expect(anon.got.B).toMatchObject([{ type: 'established', peer: { key: null } }]);
    anon.A.send(msg({ typeName: 'secret.Name' }));
    anon.pump();
    expect(types(anon.got.B)).toEqual(['established', 'message']);
    const sent = concatBytes(anon.wire.AtoB);
    expect(contains(sent, Buffer.from('secret.Name'))).toBe(false);

    const refused = sessionPair({ encrypt: true }, { requirePeerKey: true });
    expect(refused.got.B).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_NOT_AUTHORIZED' } },
    ]);
    expect(refused.got.A).toMatchObject([
      { type: 'closed', reason: 'not-authorized', text: 'this side refuses anonymous peers' },
    ]);
  });

  it('a client with a key may talk to an acceptor that has none (it learns the client key)', () => {
    const { got } = sessionPair({ identity: client }, { encrypt: true });
    expect(got.A).toMatchObject([{ type: 'established', peer: { key: null } }]);
    expect(got.B).toMatchObject([
      { type: 'established', peer: { key: formatPublicKey(client.publicKey) } },
    ]);
  });

  it('clear mode stays: no keys, no crypto', () => {
    const counts = { keyPairs: 0, dh: 0 };
    const { got } = sessionPair({}, { cipherSuite: countingSuite(counts) });
    expect(got.A).toMatchObject([{ type: 'established', encrypted: false, peer: { key: null } }]);
    expect(got.B).toMatchObject([{ type: 'established', encrypted: false }]);
    expect(counts).toEqual({ keyPairs: 0, dh: 0 });
  });

  it('rejects identity options on the wrong side or without encryption', () => {
    expect(() => new WireSession({ role: 'acceptor', peerKey: server.publicKey })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_WIRE_INVALID_ARGUMENT' }),
    );
    expect(() => new WireSession({ role: 'connector', authorize: true })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_WIRE_INVALID_ARGUMENT' }),
    );
    expect(() => new WireSession({ role: 'connector', identity: client, encrypt: false })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_WIRE_INVALID_ARGUMENT' }),
    );
    expect(() => new WireSession({ role: 'connector', peerKey: 'herald-x25519:nope' })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_WIRE_INVALID_ARGUMENT' }),
    );
    // The same checks, callable where options are given, before any socket exists.
    expect(() => checkHandshakeOptions({ role: 'connector', peerKey: [] })).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_WIRE_INVALID_ARGUMENT' }),
    );
    expect(() =>
      checkHandshakeOptions({
        role: 'acceptor',
        identity: { publicKey: server.publicKey, secretKey: new Uint8Array(31) },
      }),
    ).toThrow(expect.objectContaining({ code: 'HERALD_ERR_WIRE_INVALID_ARGUMENT' }));
    expect(() =>
      checkHandshakeOptions({
        role: 'acceptor',
        identity: server,
        allowedPeerKeys: [client.publicKey],
      }),
    ).not.toThrow();
  });
});

describe('handshake - asynchronous authorization', () => {
  it('waits for accept(): nothing opens before, messages queued meanwhile are delivered after', async () => {
    const { A, B, got, pump } = authenticated({}, { authorize: true });
    expect(got.B).toEqual([
      {
        type: 'authorize',
        peer: { key: formatPublicKey(client.publicKey), publicKey: client.publicKey },
      },
    ]);
    expect(B.state).toBe('authorizing');
    expect(got.A).toEqual([]);
    A.send(msg({ typeName: 'x.Early' }));
    B.send(msg({ typeName: 'x.Welcome' }));
    pump();
    expect(got.A).toEqual([]);
    // The decision arrives later (a token check, a database look-up).
    const decision = await Promise.resolve('accept');
    expect(decision).toBe('accept');
    got.B.push(...B.accept());
    pump();
    expect(types(got.B)).toEqual(['authorize', 'established', 'message']);
    expect(got.A).toMatchObject([
      { type: 'established', peer: { key: formatPublicKey(server.publicKey) } },
      { type: 'message', message: { typeName: 'x.Welcome' } },
    ]);
  });

  it('refuse(reason) sends CLOSE not-authorized with the reason; the connector never opens', async () => {
    const { A, B, got, pump } = authenticated({}, { authorize: true });
    await Promise.resolve();
    const refused = B.refuse('token expired');
    expect(refused).toMatchObject([
      {
        type: 'failed',
        error: { code: 'HERALD_ERR_WIRE_NOT_AUTHORIZED', message: 'token expired' },
      },
    ]);
    pump();
    expect(got.A).toEqual([
      {
        type: 'closed',
        code: CloseReason.NOT_AUTHORIZED,
        reason: 'not-authorized',
        text: 'token expired',
      },
    ]);
    expect(A.state).toBe('closing');
    expect(B.state).toBe('closing');
  });

  it('a peer that sends a frame while authorization is pending is failed', () => {
    const { B, got } = authenticated({}, { authorize: true });
    const ping = encodeFrame(FrameKind.PING, Uint8Array.of(0, 0, 0, 1));
    expect(B.receive(ping)).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_BAD_HANDSHAKE' } },
    ]);
    expect(got.B.map((e) => e.type)).toEqual(['authorize']);
    expect(B.accept()).toEqual([]);
  });

  it('a peer that leaves while authorization is pending makes accept() a no-op', () => {
    const { A, B, got, pump } = authenticated({}, { authorize: true });
    A.close(CloseReason.GOING_AWAY);
    pump();
    expect(last(got.B)).toMatchObject({ type: 'closed', reason: 'going-away' });
    expect(B.accept()).toEqual([]);
    expect(B.refuse('late')).toEqual([]);
  });
});

describe('handshake - replay and tampering', () => {
  it('replaying a captured connector handshake to a new acceptor never opens it', () => {
    const first = authenticated({}, { authorize: true });
    first.got.B.push(...first.B.accept());
    first.pump();
    expect(types(first.got.B)).toEqual(['authorize', 'established']);
    const [opening, auth] = first.wire.AtoB;
    if (opening === undefined || auth === undefined) throw new Error('nothing captured');

    // Same server identity and options, a fresh connection: the attacker replays.
    const B2 = new WireSession({ role: 'acceptor', identity: server, authorize: true });
    B2.start();
    expect(B2.receive(opening)).toEqual([]);
    expect(B2.flush()).not.toBeNull(); // its own HELLO + AUTH, with a fresh ephemeral key
    const events = B2.receive(auth);
    expect(events).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_AUTHENTICATION_FAILED' } },
    ]);
    const close = B2.flush() as Uint8Array;
    expect(decodeCloseBody(close.subarray(5)).code).toBe(CloseReason.AUTHENTICATION_FAILED);
  });

  it('replaying a captured acceptor handshake to a new connector never opens it', () => {
    const first = authenticated();
    const A2 = new WireSession({ role: 'connector', identity: client, peerKey: server.publicKey });
    A2.start();
    const events = first.wire.BtoA.flatMap((b) => A2.receive(b));
    expect(events).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_AUTHENTICATION_FAILED' } },
    ]);
  });

  it('any altered handshake byte, in any message, keeps the connection from opening', () => {
    // A reference run with fixed keys gives the four messages; then each byte of each
    // (past the preamble) is flipped in turn.
    const ref = authenticated();
    const messages = [
      { dir: 'AtoB', index: 0 },
      { dir: 'BtoA', index: 1 },
      { dir: 'AtoB', index: 1 },
      { dir: 'BtoA', index: 2 },
    ] as const;
    let cases = 0;
    for (const m of messages) {
      const original = ref.wire[m.dir][m.index] as Uint8Array;
      const from = m.index === 0 && m.dir === 'AtoB' ? 8 : 0;
      for (let pos = from; pos < original.length; pos++) {
        const r = alteredRun(m.dir, m.index, pos);
        const bothOpen =
          r.A.some((e) => e.type === 'established') && r.B.some((e) => e.type === 'established');
        expect(bothOpen, `${m.dir}[${m.index}] byte ${pos}`).toBe(false);
        cases++;
      }
    }
    expect(cases).toBeGreaterThan(200);
  });
});

/** An authenticated handshake where byte `pos` of chunk `index` in direction `dir` is flipped. */
function alteredRun(dir: 'AtoB' | 'BtoA', index: number, pos: number) {
  const A = new WireSession({
    role: 'connector',
    identity: client,
    peerKey: server.publicKey,
    random: seeded(1),
  });
  const B = new WireSession({ role: 'acceptor', identity: server, random: seeded(2) });
  const got = { A: [] as SessionEvent[], B: [] as SessionEvent[] };
  const sent = { AtoB: 0, BtoA: 0 };
  const alter = (d: 'AtoB' | 'BtoA', bytes: Uint8Array): Uint8Array => {
    const i = sent[d]++;
    if (d !== dir || i !== index) return bytes;
    if (pos >= bytes.length) throw new Error(`no byte ${pos} in ${d}[${i}]`);
    const copy = bytes.slice();
    copy[pos] = (copy[pos] as number) ^ 0x01;
    return copy;
  };
  const startA = A.start();
  const startB = B.start();
  got.B.push(...B.receive(alter('AtoB', startA)));
  got.A.push(...A.receive(alter('BtoA', startB)));
  for (let i = 0; i < 10; i++) {
    const fa = A.flush();
    if (fa !== null) got.B.push(...B.receive(alter('AtoB', fa)));
    const fb = B.flush();
    if (fb !== null) got.A.push(...A.receive(alter('BtoA', fb)));
  }
  return got;
}

describe('handshake - cost and versions', () => {
  it('the acceptor does no public-key work before the connector HELLO has fully arrived', () => {
    const counts = { keyPairs: 0, dh: 0 };
    const B = new WireSession({
      role: 'acceptor',
      identity: server,
      cipherSuite: countingSuite(counts),
    });
    const opening = B.start();
    expect(opening).toEqual(encodePreamble()); // the preamble alone: no key in it
    expect(counts).toEqual({ keyPairs: 0, dh: 0 });
    const A = new WireSession({ role: 'connector', identity: client });
    const hello = A.start();
    // A bare connect, the preamble, and all but the last byte of the HELLO: still nothing.
    B.receive(hello.subarray(0, 8));
    B.receive(hello.subarray(8, hello.length - 1));
    expect(counts).toEqual({ keyPairs: 0, dh: 0 });
    expect(B.hasPending).toBe(false);
    B.receive(hello.subarray(hello.length - 1));
    // Its ephemeral key pair, then ee and es.
    expect(counts).toEqual({ keyPairs: 1, dh: 2 });
    A.receive(opening);
    A.receive(B.flush() as Uint8Array);
    B.receive(A.flush() as Uint8Array);
    // se for the connector's static key: 4 operations in all for a mutual handshake.
    expect(counts).toEqual({ keyPairs: 1, dh: 3 });
    expect(B.state).toBe('open');
  });

  it('a garbage HELLO costs the acceptor no public-key work', () => {
    const counts = { keyPairs: 0, dh: 0 };
    const B = new WireSession({
      role: 'acceptor',
      encrypt: true,
      cipherSuite: countingSuite(counts),
    });
    B.start();
    const bad = encodeFrame(FrameKind.HELLO, Uint8Array.of(1, 2, 3));
    expect(B.receive(concatBytes([encodePreamble(), bad]))).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_BAD_HELLO' } },
    ]);
    expect(counts).toEqual({ keyPairs: 0, dh: 0 });
  });

  it(`a version-1 peer gets CLOSE version-unsupported naming both versions (this is ${PROTOCOL_VERSION})`, () => {
    const v1Opening = concatBytes([
      encodePreamble(1),
      encodeFrame(
        FrameKind.HELLO,
        encodeHelloBody({
          encrypt: false,
          maxFrameBytes: 65536,
          keepaliveMs: 0,
          ephemeralKey: null,
        }),
      ),
    ]);
    // As acceptor.
    const B = new WireSession({ role: 'acceptor', identity: server });
    B.start();
    expect(B.receive(v1Opening)).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_VERSION_UNSUPPORTED' } },
    ]);
    const close = B.flush() as Uint8Array;
    expect(close[4]).toBe(FrameKind.CLOSE);
    const info = decodeCloseBody(close.subarray(5));
    expect(info.code).toBe(CloseReason.VERSION_UNSUPPORTED);
    expect(info.text).toBe('peer speaks protocol version 1; this side speaks 3');
    // As connector (a version-1 acceptor answers at once with its own opening).
    const A = new WireSession({ role: 'connector', identity: client, peerKey: server.publicKey });
    A.start();
    expect(A.receive(v1Opening)).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_VERSION_UNSUPPORTED', closeReason: 4 } },
    ]);
  });

  it('a handshake frame over the 1 KiB handshake limit is refused before it is buffered', () => {
    const B = new WireSession({ role: 'acceptor', encrypt: true });
    B.start();
    const head = concatBytes([encodePreamble(), Uint8Array.of(0, 0, 0x10, 0, FrameKind.HELLO)]);
    expect(B.receive(head)).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_FRAME_TOO_LARGE' } },
    ]);
  });

  it('tweetnacl and node:crypto X25519 give the same bytes, and interoperate', () => {
    const nacl = naclKeyAgreement(seeded(5));
    const node = nodeKeyAgreement(seeded(5));
    const a = nacl.generateKeyPair();
    const b = node.generateKeyPair();
    expect(b.publicKey).toEqual(a.publicKey);
    const peer = createIdentity(seeded(6));
    expect(node.dh(a, peer.publicKey)).toEqual(nacl.dh(a, peer.publicKey));
    const { got } = sessionPair(
      { identity: client, peerKey: server.publicKey, cipherSuite: tweetnaclCipherSuite },
      { identity: server },
    );
    expect(types(got.A)).toEqual(['established']);
  });

  it('each connection gets its own record key, even between the same two identities', () => {
    const fresh = () =>
      sessionPair({ identity: client, peerKey: server.publicKey }, { identity: server });
    const one = fresh();
    const two = fresh();
    one.A.send(msg());
    two.A.send(msg());
    const r1 = one.A.flush() as Uint8Array;
    const r2 = two.A.flush() as Uint8Array;
    expect(r1.length).toBe(r2.length);
    expect(r1).not.toEqual(r2);
  });
});

describe('handshake - conformance with the written specification', () => {
  it('a connector written from wire-protocol.md section 4 (tweetnacl and SHA-512 only) interoperates', () => {
    // Everything below follows the document, not the implementation.
    const text = (s: string) => new TextEncoder().encode(s);
    const H = (...parts: Uint8Array[]) => nacl.hash(concatBytes(parts));
    let h = H(text('Herald handshake v2: X25519, XSalsa20-Poly1305, SHA-512'));
    let ck = h.slice(0, 32);
    let k = new Uint8Array(32);
    const mixHash = (d: Uint8Array) => {
      h = H(h, d);
    };
    const mixKey = (x: Uint8Array) => {
      const t = H(ck, x);
      ck = t.slice(0, 32);
      k = t.slice(32, 64);
    };
    const zero = new Uint8Array(24);
    const encryptAndHash = (p: Uint8Array) => {
      const c = nacl.secretbox(p, zero, H(k, h).slice(0, 32));
      mixHash(c);
      return c;
    };
    const decryptAndHash = (c: Uint8Array) => {
      const p = nacl.secretbox.open(c, zero, H(k, h).slice(0, 32));
      if (p === null) throw new Error('box does not open');
      mixHash(c);
      return p;
    };
    const frameOf = (kind: number, body: Uint8Array) => encodeFrame(kind, body);
    const bodyOf = (bytes: Uint8Array, at: number) => {
      const len = new DataView(bytes.buffer, bytes.byteOffset + at).getUint32(0);
      return { kind: bytes[at + 4], body: bytes.slice(at + 5, at + 4 + len), next: at + 4 + len };
    };

    const B = new WireSession({
      role: 'acceptor',
      identity: server,
      allowedPeerKeys: [client.publicKey],
    });
    const preamble = B.start();
    expect(preamble).toEqual(Uint8Array.of(0x48, 0x52, 0x4c, 0x44, 3, 0, 0, 0));

    // 1. preamble, HELLO(E_c): flags 1, maxFrameBytes 65536, keepaliveMs 1000, TLV 1.
    const ec = nacl.randomBytes(32);
    const Ec = nacl.scalarMult.base(ec);
    const hello = concatBytes([Uint8Array.of(1, 0, 1, 0, 0, 0, 0, 3, 0xe8, 1, 0, 32), Ec]);
    mixHash(hello);
    expect(B.receive(concatBytes([encodePreamble(3), frameOf(FrameKind.HELLO, hello)]))).toEqual(
      [],
    );

    // 2. The acceptor's HELLO then AUTH, in one write.
    const reply = B.flush() as Uint8Array;
    const h1 = bodyOf(reply, 0);
    const a1 = bodyOf(reply, h1.next);
    expect([h1.kind, a1.kind, a1.next]).toEqual([FrameKind.HELLO, 9, reply.length]);
    mixHash(h1.body);
    const Ea = h1.body.slice(9 + 3, 9 + 3 + 32);
    mixKey(nacl.scalarMult(ec, Ea)); // ee
    expect(a1.body[0]).toBe(1);
    mixHash(a1.body.subarray(0, 1));
    const Sa = decryptAndHash(a1.body.slice(1, 49));
    expect(Sa).toEqual(server.publicKey);
    mixKey(nacl.scalarMult(ec, Sa)); // es
    expect(decryptAndHash(a1.body.slice(49))).toEqual(new Uint8Array(0));

    // 3. Our AUTH: flags 1, sealed S_c, se, tag.
    mixHash(Uint8Array.of(1));
    const sealedKey = encryptAndHash(client.publicKey);
    mixKey(nacl.scalarMult(client.secretKey, Ea)); // se
    const tag = encryptAndHash(new Uint8Array(0));
    const events = B.receive(frameOf(9, concatBytes([Uint8Array.of(1), sealedKey, tag])));
    expect(events).toMatchObject([
      { type: 'established', encrypted: true, peer: { key: formatPublicKey(client.publicKey) } },
    ]);

    // 4. READY, then a record sealed with the transport key.
    B.send(msg({ typeName: 'spec.Checked' }));
    const rest = B.flush() as Uint8Array;
    const ready = bodyOf(rest, 0);
    expect(ready.kind).toBe(10);
    decryptAndHash(ready.body);
    const key = H(ck, h, text('herald transport key')).slice(0, 32);
    const record = bodyOf(rest, ready.next);
    expect(record.kind).toBe(FrameKind.SEALED);
    const nonce = new Uint8Array(24);
    nonce[0] = 1; // sent by the acceptor, counter 0
    const inner = nacl.secretbox.open(record.body, nonce, key);
    expect(inner).not.toBeNull();
    expect(Buffer.from(inner as Uint8Array).includes(Buffer.from('spec.Checked'))).toBe(true);
  });
});

describe('handshake - encryption mismatch seen from each side', () => {
  it('a clear connector and an encrypting acceptor each report their own reason', () => {
    const { got } = sessionPair({}, { encrypt: true });
    expect(got.B).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_ENCRYPTION_REQUIRED' } },
    ]);
    expect(got.A).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_ENCRYPTION_REFUSED', closeReason: 6 } },
    ]);
  });
});

describe('handshake - delivery in any split', () => {
  it('completes when every handshake byte arrives on its own, both ways', () => {
    const A = new WireSession({ role: 'connector', identity: client, peerKey: server.publicKey });
    const B = new WireSession({ role: 'acceptor', identity: server, authorize: true });
    const got = { A: [] as SessionEvent[], B: [] as SessionEvent[] };
    const drip = (to: WireSession, bytes: Uint8Array | null, into: SessionEvent[]) => {
      if (bytes === null) return;
      for (let i = 0; i < bytes.length; i++) into.push(...to.receive(bytes.subarray(i, i + 1)));
    };
    const startA = A.start();
    const startB = B.start();
    drip(B, startA, got.B);
    drip(A, startB, got.A);
    for (let i = 0; i < 6; i++) {
      if (B.state === 'authorizing') got.B.push(...B.accept());
      drip(A, B.flush(), got.A);
      drip(B, A.flush(), got.B);
    }
    expect(types(got.A)).toEqual(['established']);
    expect(types(got.B)).toEqual(['authorize', 'established']);
  });

  it('completes when the acceptor READY and its first records arrive in one chunk', () => {
    const { A, B, got, pump } = authenticated({}, { authorize: true });
    B.send(msg({ typeName: 'x.First' }));
    got.B.push(...B.accept());
    const chunk = B.flush() as Uint8Array; // READY followed by a SEALED record
    got.A.push(...A.receive(chunk));
    pump();
    expect(types(got.A)).toEqual(['established', 'message']);
  });
});
