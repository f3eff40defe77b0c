import nacl from 'tweetnacl';
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameKind,
  FrameWriter,
  Handshake,
  HandshakeReader,
  type HandshakeResult,
  type SodiumNativeLike,
  type WireEvent,
  concatBytes,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
  loadCipherSuite,
  makeNonce,
  naclCipherSuite,
  sodiumCipherSuite,
} from '../../src/wire/index.js';
import { concat, errorCode, frame, msg } from './helpers.js';
import { handshakePair, seeded } from './handshake-support.js';

type Ok = Extract<HandshakeResult, { type: 'ok' }>;

function pair(encA: boolean, encB: boolean) {
  return handshakePair({ encrypt: encA, random: seeded(1) }, { encrypt: encB, random: seeded(2) });
}

function okResults(): [Ok, Ok] {
  const { a, b } = pair(true, true);
  if (a?.type !== 'ok' || b?.type !== 'ok') throw new Error('handshake failed');
  return [a, b];
}

/** A decoder past the handshake (the WireSession way: a local opening, then the cipher). */
function openedDecoder(r: Ok): FrameDecoder {
  const d = new FrameDecoder();
  const hello = encodeHelloBody({
    encrypt: false,
    maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
    keepaliveMs: 0,
    ephemeralKey: null,
  });
  d.push(concatBytes([encodePreamble(), encodeFrame(FrameKind.HELLO, hello)]));
  d.open(r.cipher);
  return d;
}

function okPair(): { a: FrameWriter; bDecoder: FrameDecoder; counterOf: () => number } {
  const [ra, rb] = okResults();
  const a = new FrameWriter({ peerMaxFrameBytes: ra.peerMaxFrameBytes, cipher: ra.cipher });
  return { a, bDecoder: openedDecoder(rb), counterOf: () => a.recordsSealed };
}

function records(batch: Uint8Array): Uint8Array[] {
  const out: Uint8Array[] = [];
  let p = 0;
  while (p < batch.length) {
    const len = new DataView(batch.buffer, batch.byteOffset + p).getUint32(0);
    out.push(batch.subarray(p, p + 4 + len));
    p += 4 + len;
  }
  return out;
}

describe('handshake and sealed records', () => {
  it('agrees on a key: records sealed by one side open on the other', () => {
    const { a, bDecoder } = okPair();
    a.writeMessage(msg({ typeName: 'secret' }));
    a.writePing(9);
    const batch = a.flush() as Uint8Array;
    expect(records(batch).map((r) => r[4])).toEqual([FrameKind.SEALED]);
    expect(Buffer.from(batch).includes(Buffer.from('secret'))).toBe(false);
    const events = bDecoder.push(batch);
    expect(events.map((e) => e.type)).toEqual(['message', 'ping']);
  });

  it('fails both sides when only one wants encryption, with the right reasons', () => {
    // The connector wants it, the acceptor does not: the acceptor's clear HELLO (sent at
    // once) fails the connector; the connector's HELLO fails the acceptor.
    const one = pair(true, false);
    expect(one.a?.type === 'failed' && one.a.error.code).toBe(
      'HERALD_ERR_WIRE_ENCRYPTION_REQUIRED',
    );
    expect(one.b?.type === 'failed' && one.b.error.code).toBe('HERALD_ERR_WIRE_ENCRYPTION_REFUSED');
    // The acceptor wants it, the connector does not: the acceptor refuses the connector's
    // HELLO with a clear CLOSE, which the connector reads as the reason.
    const two = pair(false, true);
    expect(two.b?.type === 'failed' && two.b.error.code).toBe(
      'HERALD_ERR_WIRE_ENCRYPTION_REQUIRED',
    );
    expect(two.a).toMatchObject({ type: 'closed', code: 5 });
  });

  it('succeeds in clear when neither side wants encryption', () => {
    const { a, b } = pair(false, false);
    expect(a).toMatchObject({ type: 'ok', encrypted: false, cipher: null });
    expect(b).toMatchObject({ type: 'ok', encrypted: false, cipher: null });
  });

  it('rejects a low-order peer public key, on either side', () => {
    const zeroKeyHello = encodeFrame(
      FrameKind.HELLO,
      encodeHelloBody({
        encrypt: true,
        maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
        keepaliveMs: 0,
        ephemeralKey: new Uint8Array(32),
      }),
    );
    const reader = new HandshakeReader();
    reader.push(concatBytes([encodePreamble(), zeroKeyHello]));
    const f = reader.next();
    if (f === null) throw new Error('no frame');
    const acceptor = new Handshake({ role: 'acceptor', encrypt: true });
    acceptor.start();
    const r = acceptor.receive(f);
    expect(r.type === 'failed' && r.error.code).toBe('HERALD_ERR_WIRE_BAD_PUBLIC_KEY');
    const connector = new Handshake({ role: 'connector', encrypt: true });
    connector.start();
    const rc = connector.receive(f);
    expect(rc.type === 'failed' && rc.error.code).toBe('HERALD_ERR_WIRE_BAD_PUBLIC_KEY');
  });

  it('detects a tampered record', () => {
    const { a, bDecoder } = okPair();
    a.writePing(1);
    const batch = a.flush() as Uint8Array;
    for (const i of [5, 20, batch.length - 1]) {
      const copy = batch.slice();
      copy[i] = (copy[i] as number) ^ 1;
      const { a: a2, bDecoder: d2 } = okPair();
      a2.writePing(1);
      expect(Buffer.from(a2.flush() as Uint8Array).equals(Buffer.from(batch))).toBe(true);
      expect(errorCode(d2.push(copy))).toBe('HERALD_ERR_WIRE_DECRYPT_FAILED');
    }
    expect(bDecoder.push(batch).map((e) => e.type)).toEqual(['ping']);
  });

  function threeRecords(): { recs: Uint8Array[]; d: () => FrameDecoder } {
    const { a } = okPair();
    const recs: Uint8Array[] = [];
    for (let i = 0; i < 3; i++) {
      a.writePing(i);
      recs.push(a.flush() as Uint8Array);
    }
    return { recs, d: () => okPair().bDecoder };
  }

  it('detects a replayed record', () => {
    const { recs, d } = threeRecords();
    const dec = d();
    expect(dec.push(recs[0] as Uint8Array)).toEqual([{ type: 'ping', seq: 0 }]);
    expect(errorCode(dec.push(recs[0] as Uint8Array))).toBe('HERALD_ERR_WIRE_DECRYPT_FAILED');
  });

  it('detects a dropped record', () => {
    const { recs, d } = threeRecords();
    const dec = d();
    dec.push(recs[0] as Uint8Array);
    expect(errorCode(dec.push(recs[2] as Uint8Array))).toBe('HERALD_ERR_WIRE_DECRYPT_FAILED');
  });

  it('detects reordered records', () => {
    const { recs, d } = threeRecords();
    expect(errorCode(d().push(concat([recs[1] as Uint8Array, recs[0] as Uint8Array])))).toBe(
      'HERALD_ERR_WIRE_DECRYPT_FAILED',
    );
  });

  it('rejects clear frames once encrypted, except a CLOSE before the first record', () => {
    const { a, bDecoder } = okPair();
    expect(bDecoder.push(frame(FrameKind.CLOSE, [0, 1])).map((e) => e.type)).toEqual(['close']);
    const d2 = okPair().bDecoder;
    a.writePing(1);
    d2.push(a.flush() as Uint8Array);
    expect(errorCode(d2.push(frame(FrameKind.PING, [0, 0, 0, 1])))).toBe(
      'HERALD_ERR_WIRE_UNEXPECTED_CLEARTEXT',
    );
    expect(errorCode(okPair().bDecoder.push(frame(FrameKind.PING, [0, 0, 0, 1])))).toBe(
      'HERALD_ERR_WIRE_UNEXPECTED_CLEARTEXT',
    );
  });

  it('splits a large batch into several records, each within the frame limit', () => {
    const { a, bDecoder } = okPair();
    for (let i = 0; i < 10; i++) a.writeMessage(msg({ body: new Uint8Array(20_000) }));
    const batch = a.flush() as Uint8Array;
    const recs = records(batch);
    expect(recs.length).toBeGreaterThan(2);
    for (const r of recs) expect(r.length - 5).toBeLessThanOrEqual(DEFAULT_MAX_FRAME_BYTES + 21);
    expect(bDecoder.push(batch).filter((e) => e.type === 'message')).toHaveLength(10);
  });

  it('never repeats a nonce: counters increase per direction and directions differ', () => {
    const { a } = okPair();
    const seen = new Set<string>();
    for (let i = 0; i < 50; i++) {
      a.writePing(i);
      a.flush();
      expect(a.recordsSealed).toBe(i + 1);
    }
    for (const dir of [0, 1]) {
      for (let c = 0; c < 50; c++) seen.add(Buffer.from(makeNonce(dir, c)).toString('hex'));
    }
    expect(seen.size).toBe(100);
    expect(Array.from(makeNonce(1, 2 ** 32 + 5))).toEqual([
      1,
      0,
      0,
      0,
      1,
      0,
      0,
      0,
      5,
      ...new Array<number>(15).fill(0),
    ]);
  });

  it('binds records to the direction: a record reflected back does not open', () => {
    const [ra, rb] = okResults();
    const sealed = ra.cipher?.seal(Uint8Array.of(1, 2, 3), 0) as Uint8Array;
    expect(rb.cipher?.open(sealed, 0)).toEqual(Uint8Array.of(1, 2, 3));
    expect(ra.cipher?.open(sealed, 0)).toBeNull();
  });

  it('refuses to seal past the counter limit', () => {
    const [ra] = okResults();
    const w = new FrameWriter({
      peerMaxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      cipher: ra.cipher,
      maxRecordCounter: 1,
    });
    w.writePing(0);
    w.flush();
    w.writePing(1);
    w.flush();
    w.writePing(2);
    expect(() => w.flush()).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_WIRE_COUNTER_EXHAUSTED' }),
    );
  });

  it('uses fresh ephemeral keys per connection', () => {
    const k1 = new Handshake({ role: 'connector', encrypt: true }).start();
    const k2 = new Handshake({ role: 'connector', encrypt: true }).start();
    expect(k1.length).toBe(k2.length);
    expect(k1).not.toEqual(k2);
  });

  it('falls back to tweetnacl when sodium-native cannot be imported', async () => {
    const suite = await loadCipherSuite(() => Promise.reject(new Error('not installed')));
    expect(suite).toBe(naclCipherSuite);
  });

  it('a sodium-native suite produces the same bytes as tweetnacl', async () => {
    // A stand-in with sodium-native's API, implemented on tweetnacl.
    const fake: SodiumNativeLike = {
      crypto_secretbox_MACBYTES: 16,
      crypto_secretbox_easy(c, m, n, k) {
        c.set(nacl.secretbox(m, n, k));
      },
      crypto_secretbox_open_easy(m, c, n, k) {
        const r = nacl.secretbox.open(c, n, k);
        if (r === null) return false;
        m.set(r);
        return true;
      },
    };
    const suite = await loadCipherSuite(() => Promise.resolve({ default: fake }));
    expect(suite.name).toBe('sodium-native');
    const key = new Uint8Array(32).fill(3);
    const native = sodiumCipherSuite(fake).createCipher(key, 'connector');
    const js = naclCipherSuite.createCipher(key, 'connector');
    const peer = naclCipherSuite.createCipher(key, 'acceptor');
    const plain = Uint8Array.of(1, 2, 3, 4);
    expect(native.seal(plain, 7)).toEqual(js.seal(plain, 7));
    expect(peer.open(native.seal(plain, 7), 7)).toEqual(plain);
    const back = sodiumCipherSuite(fake).createCipher(key, 'acceptor');
    expect(back.open(js.seal(plain, 3), 3)).toEqual(plain);
    expect(back.open(js.seal(plain, 3), 4)).toBeNull();
  });

  it('decodes a sealed stream delivered byte by byte', () => {
    const { a, bDecoder } = okPair();
    a.writeMessage(msg({ body: new Uint8Array(100_000).fill(1) }));
    a.writePing(3);
    const parts: Uint8Array[] = [];
    while (a.hasPending) parts.push(a.flush() as Uint8Array);
    const stream = concat(parts);
    const events: WireEvent[] = [];
    for (let i = 0; i < stream.length; i++)
      events.push(...bDecoder.push(stream.subarray(i, i + 1)));
    expect(events.map((e) => e.type)).toEqual(['ping', 'message']);
  });
});
