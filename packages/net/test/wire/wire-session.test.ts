import { describe, expect, it } from 'vitest';
import { type SessionEvent, WireSession, type WireSessionOptions } from '../../src/wire/index.js';
import { msg } from './helpers.js';

/** Two sessions joined in memory; `pump` moves flushed bytes until both are quiet. */
function connect(a: Partial<WireSessionOptions>, b: Partial<WireSessionOptions>) {
  const A = new WireSession({ role: 'connector', ...a });
  const B = new WireSession({ role: 'acceptor', ...b });
  const got = { A: [] as SessionEvent[], B: [] as SessionEvent[] };
  got.B.push(...B.receive(A.start()));
  got.A.push(...A.receive(B.start()));
  const pump = () => {
    for (let i = 0; i < 1000 && (A.hasPending || B.hasPending); i++) {
      const fa = A.flush();
      if (fa !== null) got.B.push(...B.receive(fa));
      const fb = B.flush();
      if (fb !== null) got.A.push(...A.receive(fb));
    }
  };
  pump();
  return { A, B, got, pump };
}

describe('WireSession', () => {
  for (const encrypt of [false, true]) {
    it(`establishes and carries messages both ways (encrypt=${encrypt})`, () => {
      const { A, B, got, pump } = connect({ encrypt }, { encrypt });
      expect(got.A[0]).toMatchObject({ type: 'established', encrypted: encrypt });
      expect(got.B[0]).toMatchObject({ type: 'established', encrypted: encrypt });
      A.send(msg({ typeName: 'x.Ask' }));
      A.send(msg({ typeName: 'x.Big', body: new Uint8Array(200_000).fill(5) }));
      B.send(msg({ typeName: 'x.Reply' }));
      A.ping(1);
      pump();
      const names = (evs: SessionEvent[]) =>
        evs.map((e) => (e.type === 'message' ? e.message.typeName : e.type));
      expect(names(got.B)).toEqual(['established', 'x.Ask', 'ping', 'x.Big']);
      expect(names(got.A)).toEqual(['established', 'x.Reply']);
      B.pong(1);
      A.close();
      pump();
      expect(got.A.at(-1)).toEqual({ type: 'pong', seq: 1 });
      expect(got.B.at(-1)).toEqual({ type: 'closed', code: 0, reason: 'normal', text: 'normal' });
    });
  }

  it('sends messages queued before the handshake once established', () => {
    const A = new WireSession({ role: 'connector' });
    const B = new WireSession({ role: 'acceptor' });
    A.send(msg({ typeName: 'early' }));
    const evB = B.receive(A.start());
    A.receive(B.start());
    evB.push(...B.receive(A.flush() as Uint8Array));
    expect(evB.map((e) => e.type)).toEqual(['established', 'message']);
  });

  it('fails both sides on an encryption mismatch and each learns the other reason', () => {
    const { A, B, got } = connect({ encrypt: true }, { encrypt: false });
    expect(got.A[0]).toMatchObject({
      type: 'failed',
      error: { code: 'HERALD_ERR_WIRE_ENCRYPTION_REQUIRED' },
    });
    expect(got.B[0]).toMatchObject({
      type: 'failed',
      error: { code: 'HERALD_ERR_WIRE_ENCRYPTION_REFUSED' },
    });
    expect(A.state).toBe('closing');
    expect(B.state).toBe('closing');
    expect(() => A.send(msg())).toThrow(
      expect.objectContaining({ code: 'HERALD_ERR_WIRE_CLOSED' }),
    );
  });

  it('answers a protocol error with a CLOSE naming it', () => {
    const { A, B } = connect({}, {});
    const evA = A.receive(Uint8Array.of(0, 0, 0, 0));
    expect(evA).toMatchObject([{ type: 'failed', error: { code: 'HERALD_ERR_WIRE_EMPTY_FRAME' } }]);
    expect(B.receive(A.flush() as Uint8Array)).toMatchObject([
      { type: 'closed', reason: 'protocol-error' },
    ]);
  });

  it('answers a bad version with a CLOSE naming version-unsupported', () => {
    const A = new WireSession({ role: 'connector' });
    A.start();
    const bytes = Uint8Array.of(0x48, 0x52, 0x4c, 0x44, 9, 0, 0, 0);
    expect(A.receive(bytes)).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_VERSION_UNSUPPORTED' } },
    ]);
    const close = A.flush() as Uint8Array;
    expect(close[4]).toBe(7);
    expect((close[5] as number) * 256 + (close[6] as number)).toBe(4);
  });
});
