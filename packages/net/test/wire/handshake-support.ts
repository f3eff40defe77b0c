/**
 * Test support for the handshake: two `Handshake` state machines (or two `WireSession`s)
 * joined in memory, every byte recorded so tests can capture, alter and replay messages.
 */
import {
  type CipherSuite,
  FrameKind,
  Handshake,
  type HandshakeOptions,
  HandshakeReader,
  type HandshakeResult,
  type KeyAgreement,
  type SessionEvent,
  WireSession,
  type WireSessionOptions,
  decodeCloseBody,
  naclCipherSuite,
} from '../../src/wire/index.js';

/** Deterministic random source for reproducible keys. */
export function seeded(seed: number): (n: number) => Uint8Array {
  let s = seed;
  return (n) => {
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) {
      s = (s * 1103515245 + 12345) >>> 0;
      out[i] = s >>> 24;
    }
    return out;
  };
}

/** The end of one side's handshake: a result, or the peer's CLOSE. */
export type Outcome =
  HandshakeResult | { readonly type: 'closed'; readonly code: number; readonly text: string };

/** Drive one side: take the frames its reader holds until it decides or needs more. */
function drive(h: Handshake, r: HandshakeReader): Outcome | null {
  for (;;) {
    const f = r.next();
    if (f === null) return null;
    if (f.kind === FrameKind.CLOSE) {
      const c = decodeCloseBody(f.body);
      return { type: 'closed', code: c.code, text: c.text };
    }
    const res = h.receive(f);
    if (res.type !== 'continue') return res;
  }
}

/**
 * Run a whole handshake between a connector `A` and an acceptor `B`. An `authorize` step
 * is answered with `decide` (default accept).
 */
export function handshakePair(
  a: Partial<HandshakeOptions>,
  b: Partial<HandshakeOptions>,
  decide: (h: Handshake) => HandshakeResult = (h) => h.accept(),
): { a: Outcome | null; b: Outcome | null; A: Handshake; B: Handshake } {
  const A = new Handshake({ role: 'connector', ...a });
  const B = new Handshake({ role: 'acceptor', ...b });
  const rA = new HandshakeReader();
  const rB = new HandshakeReader();
  rB.push(A.start());
  rA.push(B.start());
  let oa: Outcome | null = null;
  let ob: Outcome | null = null;
  for (let i = 0; i < 10; i++) {
    if (ob === null) {
      ob = drive(B, rB);
      if (ob?.type === 'authorize') ob = decide(B);
      for (const bytes of B.takeOutput()) rA.push(bytes);
    }
    if (oa === null) {
      oa = drive(A, rA);
      for (const bytes of A.takeOutput()) rB.push(bytes);
    }
  }
  return { a: oa, b: ob, A, B };
}

/** A suite that counts public-key operations (key pairs made, DH computed) per label. */
export function countingSuite(
  counts: { keyPairs: number; dh: number },
  base: CipherSuite = naclCipherSuite,
): CipherSuite {
  return {
    name: `counting-${base.name}`,
    createKeyAgreement: (random): KeyAgreement => {
      const inner = base.createKeyAgreement(random);
      return {
        generateKeyPair: () => {
          counts.keyPairs++;
          return inner.generateKeyPair();
        },
        dh: (own, peer) => {
          counts.dh++;
          return inner.dh(own, peer);
        },
      };
    },
    createCipher: (key, role) => base.createCipher(key, role),
  };
}

/**
 * Two WireSessions joined in memory. Every flushed chunk is recorded per direction
 * (`AtoB`, `BtoA`); `pump` moves bytes until both are quiet. `beforeStart` runs before
 * any byte moves (to queue messages early).
 */
export function sessionPair(
  a: Partial<WireSessionOptions>,
  b: Partial<WireSessionOptions>,
  beforeStart: (A: WireSession, B: WireSession) => void = () => {},
) {
  const A = new WireSession({ role: 'connector', ...a });
  const B = new WireSession({ role: 'acceptor', ...b });
  beforeStart(A, B);
  const got = { A: [] as SessionEvent[], B: [] as SessionEvent[] };
  const wire = { AtoB: [] as Uint8Array[], BtoA: [] as Uint8Array[] };
  const toB = (bytes: Uint8Array) => {
    wire.AtoB.push(bytes);
    got.B.push(...B.receive(bytes));
  };
  const toA = (bytes: Uint8Array) => {
    wire.BtoA.push(bytes);
    got.A.push(...A.receive(bytes));
  };
  const pump = () => {
    for (let i = 0; i < 1000 && (A.hasPending || B.hasPending); i++) {
      const fa = A.flush();
      if (fa !== null) toB(fa);
      const fb = B.flush();
      if (fb !== null) toA(fb);
    }
  };
  const startA = A.start();
  const startB = B.start();
  toB(startA);
  toA(startB);
  pump();
  return { A, B, got, wire, pump };
}

/** The last event of a list. */
export function last(events: readonly SessionEvent[]): SessionEvent | undefined {
  return events[events.length - 1];
}
