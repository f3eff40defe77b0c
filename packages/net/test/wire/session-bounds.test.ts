/**
 * The frame-level bounds as a connection sees them through WireSession (issue 8): a PING
 * flood to a side that cannot write, a relay of more type names than a table holds, and the
 * process reassembly budget and time options passed through the session's options.
 */
import { describe, expect, it } from 'vitest';
import {
  MAX_TYPE_NAMES,
  type SessionEvent,
  WireSession,
  type WireSessionOptions,
} from '../../src/wire/index.js';
import { ReassemblyBudget } from '../../src/wire/reassembly-budget.js';
import { msg } from './helpers.js';

function connect(a: Partial<WireSessionOptions> = {}, b: Partial<WireSessionOptions> = {}) {
  const A = new WireSession({ role: 'connector', ...a });
  const B = new WireSession({ role: 'acceptor', ...b });
  const got = { A: [] as SessionEvent[], B: [] as SessionEvent[] };
  got.B.push(...B.receive(A.start()));
  got.A.push(...A.receive(B.start()));
  const pump = (): void => {
    for (let i = 0; i < 10_000 && (A.hasPending || B.hasPending); i++) {
      const fa = A.flush();
      if (fa !== null) got.B.push(...B.receive(fa));
      const fb = B.flush();
      if (fb !== null) got.A.push(...A.receive(fb));
    }
  };
  pump();
  return { A, B, got, pump };
}

describe('WireSession - hostile-peer bounds', () => {
  for (const encrypt of [false, true]) {
    it(`answers 10,000 PINGs received while not flushing with one PONG (encrypt=${encrypt})`, () => {
      const { A, B, got, pump } = connect({ encrypt }, { encrypt });
      for (let i = 0; i < 10_000; i++) A.ping(i);
      const flood = A.flush() as Uint8Array;
      // B cannot write (its peer never reads): it answers every PING, nothing is flushed.
      for (const e of B.receive(flood)) if (e.type === 'ping') B.pong(e.seq);
      const out = B.flush() as Uint8Array;
      expect(out.length).toBeLessThan(100);
      const before = got.A.length;
      got.A.push(...A.receive(out));
      pump();
      expect(got.A.slice(before)).toEqual([{ type: 'pong', seq: 9999 }]);
    });
  }

  it('carries a relay of 5,000 new type names without throwing: the peer gets 4,096, no failure', () => {
    const { A, got, pump } = connect();
    for (let i = 0; i < 5000; i++) {
      A.send(msg({ typeName: `relay.T${i}` }));
      if (i % 250 === 249) pump();
    }
    pump();
    expect(got.B.filter((e) => e.type === 'failed')).toEqual([]);
    expect(got.B.filter((e) => e.type === 'message')).toHaveLength(MAX_TYPE_NAMES);
  });

  it('passes the process reassembly budget through its options: over it, message-too-large', () => {
    const budget = new ReassemblyBudget(100_000);
    const { A, got, pump } = connect({}, { reassemblyBudget: budget });
    A.send(msg({ typeName: 'fits', body: new Uint8Array(60_000) }));
    pump();
    expect(got.B.at(-1)).toMatchObject({ type: 'message' });
    expect(budget.usedBytes).toBe(0);
    A.send(msg({ typeName: 'too.big', body: new Uint8Array(200_000) }));
    pump();
    const failed = got.B.find((e) => e.type === 'failed');
    expect(failed?.type === 'failed' && failed.error.code).toBe(
      'HERALD_ERR_WIRE_MESSAGE_TOO_LARGE',
    );
    expect(budget.usedBytes).toBe(0);
  });
});
