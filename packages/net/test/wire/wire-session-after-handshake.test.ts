import { describe, expect, it } from 'vitest';
import { DEFAULT_FRAME_TIMEOUT_MS, MAX_TYPE_NAMES } from '../../src/wire/index.js';
import { msg } from './helpers.js';
import { sessionPair } from './handshake-support.js';

/** WireSession's pass-throughs to the decoder and writer, once the handshake is done. */
describe('WireSession - after the handshake', () => {
  for (const encrypt of [false, true]) {
    it(`send() reports a message its full type table refuses (encrypt=${encrypt})`, () => {
      const { A } = sessionPair({ encrypt }, { encrypt });
      for (let i = 0; i < MAX_TYPE_NAMES; i++) {
        expect(A.send(msg({ typeName: `t.N${i}` }))).toEqual({ type: 'queued' });
        A.flush();
      }
      expect(A.send(msg({ typeName: 't.OneTooMany' }))).toMatchObject({
        type: 'refused',
        reason: 'type-table-full',
      });
      expect(A.send(msg({ typeName: 't.N0' }))).toEqual({ type: 'queued' });
    });
  }

  it('messages queued before the handshake that the type table refuses come back as refused events', () => {
    const { A, got, pump } = sessionPair({}, {}, (connector) => {
      for (let i = 0; i < MAX_TYPE_NAMES + 2; i++) {
        connector.send(msg({ typeName: `early.T${i}` }));
      }
    });
    const refused = got.A.filter((e) => e.type === 'refused');
    expect(refused).toHaveLength(2);
    expect(refused[0]).toMatchObject({ reason: 'type-table-full' });
    pump();
    expect(got.B.filter((e) => e.type === 'message')).toHaveLength(MAX_TYPE_NAMES);
    expect(A.state).toBe('open');
  });

  it('a frame that stalls after the handshake expires with stalled; nothing expires before', () => {
    const { A, B } = sessionPair({ encrypt: true }, { encrypt: true });
    expect(B.nextDeadline).toBeNull();
    A.ping(1);
    const record = A.flush() as Uint8Array;
    // Half a record, arriving at t = 1000.
    expect(B.receive(record.subarray(0, 10), 1000)).toEqual([]);
    const deadline = B.nextDeadline as number;
    expect(deadline).toBeGreaterThanOrEqual(1000 + DEFAULT_FRAME_TIMEOUT_MS);
    expect(B.expire(deadline - 1)).toEqual([]);
    expect(B.expire(deadline + 1)).toMatchObject([
      { type: 'failed', error: { code: 'HERALD_ERR_WIRE_STALLED' } },
    ]);
  });

  it('queuedBytes counts handshake frames, the batch and early messages', () => {
    const { A, B } = sessionPair({ encrypt: true }, { encrypt: true });
    expect(A.queuedBytes).toBe(0);
    A.send(msg({ body: new Uint8Array(100) }));
    expect(A.queuedBytes).toBeGreaterThan(100);
    expect(B.queuedBytes).toBe(0);
  });
});
