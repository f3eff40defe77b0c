/**
 * `FrameWriter.placeBody` / `writePlacedMessage`: a body encoded straight into the batch
 * buffer must give the very batches `writeMessage` gives for the same messages, whatever the
 * header-size guess, a refused type or a body too large for one frame; and `abandon()` must
 * hand placed messages back with their bodies.
 */
import { describe, expect, it } from 'vitest';
import { FrameWriter, type WireMessage, type WriteResult } from '../../src/wire/index.js';
import { concat, msg, openDecoder, plain } from './helpers.js';

const PEER_MAX = 16 * 1024;
/** Most type names: small, so that a fourth new name is refused. */
const MAX_TYPE_NAMES = 3;
/** What the proxy passes as the body of a placed message (it is ignored). */
const PLACED_BODY = new Uint8Array(0);
/** Below one frame: messages of this size grow the batch buffer well past PLACE_ROOM_BYTES. */
const WARM_BODY_BYTES = 15_000;

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

function writers(): [FrameWriter, FrameWriter] {
  const options = { peerMaxFrameBytes: PEER_MAX, maxTypeNames: MAX_TYPE_NAMES };
  return [new FrameWriter(options), new FrameWriter(options)];
}

/** The message as the proxy places it: body copied to the offered offset (or -1: copied). */
function place(w: FrameWriter, m: WireMessage): { result: WriteResult; placed: boolean } {
  const start = w.placeBody();
  if (start < 0) return { result: w.writeMessage(m), placed: false };
  w.placeBuffer.set(m.body, start);
  const result = w.writePlacedMessage({ ...m, body: PLACED_BODY }, start, start + m.body.length);
  return { result, placed: true };
}

function drain(w: FrameWriter): Uint8Array[] {
  const out: Uint8Array[] = [];
  while (w.hasPending) out.push(Uint8Array.from(w.flush() as Uint8Array));
  return out;
}

/**
 * Grows both batch buffers (one batch of large copied messages), so placing has room; returns
 * that batch (it defines the type name `warm`).
 */
function warm(copied: FrameWriter, placed: FrameWriter): Uint8Array[] {
  for (let i = 0; i < 8; i++) {
    const m = msg({ typeName: 'warm', body: fill(WARM_BODY_BYTES, i) });
    copied.writeMessage(m);
    placed.writeMessage(m);
  }
  const batches = drain(placed);
  expect(batches).toEqual(drain(copied));
  return batches;
}

const small = (typeName: string, seed: number, extra: Partial<WireMessage> = {}): WireMessage =>
  msg({ typeName, body: fill(20 + seed, seed), ...extra });

describe('placed frames', () => {
  it('give the batches writeMessage gives: header guesses off, a refusal, a chunked body', () => {
    const [copied, placed] = writers();
    const warmBatches = warm(copied, placed);
    const messages: WireMessage[] = [
      // A new type name: its definition makes the header longer than the first guess.
      small('a.rather.long.type.name.that.the.header.defines', 1),
      // A known type, few hops: a shorter header than the guess just learnt.
      small('a.rather.long.type.name.that.the.header.defines', 2, { to: [], ret: [] }),
      // Long hop stacks, an ask, a trace: longer again.
      small('warm', 3, {
        to: [1, 2, 3, 400_000, 5],
        ret: [9, 8, 7, 0],
        correlation: 0x1234_5678,
        trace: '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      }),
      // Too large for one frame: the chunked path, with a copy of the placed body.
      msg({ typeName: 'big', body: fill(40_000, 4) }),
      // A fourth new type name: refused, nothing queued, on both writers.
      small('refused.type', 5),
      small('warm', 6, { space: [[1, 2], [3]] }),
      ...Array.from({ length: 20 }, (_, i) => small('big', 7 + i)),
    ];
    const results: WriteResult[] = [];
    let placedCount = 0;
    for (const m of messages) {
      results.push(copied.writeMessage(m));
      const p = place(placed, m);
      expect(p.result).toEqual(results[results.length - 1]);
      if (p.placed) placedCount++;
    }
    expect(results.filter((r) => r.type === 'refused')).toHaveLength(1);
    expect(placedCount).toBe(messages.length);
    const batches = drain(placed);
    expect(batches).toEqual(drain(copied));
    // And the peer reads every queued message back as sent.
    const events = openDecoder().push(concat([...warmBatches, ...batches]));
    const received = plain(events).filter((e) => (e as { type: string }).type === 'message') as {
      message: { typeName: string; body: unknown };
    }[];
    const queued = messages.filter((m) => m.typeName !== 'refused.type');
    // (the chunked one arrives after the small ones that overtook it)
    const key = (typeName: string, body: unknown): string => `${typeName}:${String(body)}`;
    expect(
      received
        .slice(8)
        .map((e) => key(e.message.typeName, e.message.body))
        .sort(),
    ).toEqual(queued.map((m) => key(m.typeName, Buffer.from(m.body).toString('base64'))).sort());
  });

  it('abandon() returns placed messages with their bodies', () => {
    const [copied, placed] = writers();
    warm(copied, placed);
    const messages = [
      small('one', 1),
      small('two', 2, { to: [7, 8, 9] }),
      msg({ typeName: 'one', body: fill(30_000, 3) }),
      small('two', 4),
    ];
    for (const m of messages) {
      copied.writeMessage(m);
      expect(place(placed, m).placed).toBe(true);
    }
    const lost = placed.abandon();
    const expected = copied.abandon();
    const shape = (ms: readonly WireMessage[]): unknown[] =>
      ms.map((m) => ({ ...m, body: Buffer.from(m.body).toString('hex') }));
    expect(shape(lost)).toEqual(shape(expected));
    expect(lost).toHaveLength(messages.length);
  });
});
