/**
 * Frame-level bounds against hostile peers (issue 8): reassembly in real bytes with a
 * process-wide budget, stalled partial messages and slow frames, type tables that fill,
 * PING floods, and buffers that shrink. Driven with raw bytes in memory; the heap figures
 * are measured in a child process (fixtures/heap-wire.ts).
 */
import { fileURLToPath } from 'node:url';
import { propertyParameters, propertySeeds, spawnScript } from '@herald/testing';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CHUNK_FLAG_FIRST,
  CHUNK_FLAG_LAST,
  CloseReason,
  DEFAULT_FRAME_TIMEOUT_MS,
  DEFAULT_MIN_FRAME_BYTES_PER_SECOND,
  DEFAULT_PARTIAL_MESSAGE_TIMEOUT_MS,
  FrameDecoder,
  FrameKind,
  FrameWriter,
  MAX_TYPE_NAMES,
  PARTIAL_MESSAGE_OVERHEAD_BYTES,
  TypeTableEncoder,
  WRITER_INITIAL_BUFFER_BYTES,
  WRITER_SHRINK_AFTER_FLUSHES,
  type WireEvent,
  encodeMessage,
  tweetnaclCipherSuite,
} from '../../src/wire/index.js';
import { checkDecoderOptions } from '../../src/wire/frame-decoder.js';
import { ReassemblyBudget } from '../../src/wire/reassembly-budget.js';
import { clearOpening, concat, errorCode, frame, msg, openDecoder, plain, u32 } from './helpers.js';

const PEER_MAX = 16 * 1024;

function chunk(id: number, flags: number, data: Uint8Array | readonly number[]): Uint8Array {
  return frame(FrameKind.CHUNK, [...u32(id), flags, ...data]);
}

/** A FIRST chunk (header only) followed by `n` one-byte parts, as raw frames. */
function oneByteParts(id: number, n: number, last = false): Uint8Array {
  const first = chunk(
    id,
    CHUNK_FLAG_FIRST,
    encodeMessage(msg({ body: new Uint8Array(0) }), new TypeTableEncoder()),
  );
  const out = new Uint8Array(first.length + n * 11);
  out.set(first, 0);
  let p = first.length;
  for (let i = 0; i < n; i++) {
    // length 7 (kind + id + flags + 1 data byte), kind CHUNK, id, flags, data
    out.set([0, 0, 0, 7, FrameKind.CHUNK, id >>> 24, id >>> 16, id >>> 8, id & 0xff], p);
    out[p + 9] = last && i === n - 1 ? CHUNK_FLAG_LAST : 0;
    out[p + 10] = i & 0xff;
    p += 11;
  }
  return out;
}

function onlyError(events: readonly WireEvent[]): { code: string; closeReason: number } | null {
  const last = events[events.length - 1];
  return last?.type === 'error'
    ? { code: last.error.code, closeReason: last.error.closeReason }
    : null;
}

describe('reassembly - bounded in real bytes', () => {
  it('holds about one byte per byte for one-byte CHUNK parts (coalesced, not a list of views)', () => {
    const d = openDecoder();
    const n = 100_000;
    expect(d.push(oneByteParts(7, n))).toEqual([]);
    expect(d.partialMessages).toBe(1);
    // Buffer capacity (at most twice the data) + the fixed overhead + the header.
    expect(d.heldBytes).toBeLessThanOrEqual(2 * n + PARTIAL_MESSAGE_OVERHEAD_BYTES + 1024);
    expect(d.heldBytes).toBeGreaterThanOrEqual(n);
    const events = d.push(chunk(7, CHUNK_FLAG_LAST, [0xaa]));
    expect(events).toHaveLength(1);
    const ev = events[0];
    if (ev?.type !== 'message') throw new Error('no message');
    expect(ev.message.body.length).toBe(n + 1);
    expect(ev.message.body[1234]).toBe(1234 & 0xff);
    expect(ev.message.body[n]).toBe(0xaa);
    expect(d.heldBytes).toBe(0);
  });

  it('never holds more than maxReassemblyBytes: closes with message-too-large before allocating past it', () => {
    const bound = 10_000;
    const d = openDecoder({ maxReassemblyBytes: bound });
    const bytes = oneByteParts(1, 20_000);
    let events: WireEvent[] = [];
    // Frame by frame, so the bound is checked after every part.
    for (let p = 0; p < bytes.length && events.length === 0; p += 11) {
      events = d.push(bytes.subarray(p, p + 11));
      if (events.length === 0) expect(d.heldBytes).toBeLessThanOrEqual(bound);
    }
    expect(onlyError(events)).toEqual({
      code: 'HERALD_ERR_WIRE_MESSAGE_TOO_LARGE',
      closeReason: CloseReason.MESSAGE_TOO_LARGE,
    });
    expect(d.heldBytes).toBe(0);
  });

  it('counts a fixed overhead per partial message: 16 empty partials cost 16 × overhead', () => {
    const d = openDecoder();
    const enc = new TypeTableEncoder();
    const frames: Uint8Array[] = [];
    for (let i = 0; i < 16; i++) frames.push(chunk(i, CHUNK_FLAG_FIRST, encodeMessage(msg(), enc)));
    d.push(concat(frames));
    expect(d.partialMessages).toBe(16);
    expect(d.heldBytes).toBeGreaterThanOrEqual(16 * PARTIAL_MESSAGE_OVERHEAD_BYTES);
  });

  it('reassembles identically and within 2x + overhead for any split and part sizes', () => {
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: 3000 }), { minLength: 1, maxLength: 20 }),
          fc.array(fc.integer({ min: 1, max: 700 }), { minLength: 1, maxLength: 30 }),
          (parts, splits) => {
            const enc = new TypeTableEncoder();
            const frames: Uint8Array[] = [
              chunk(9, CHUNK_FLAG_FIRST, encodeMessage(msg({ body: new Uint8Array(0) }), enc)),
            ];
            let total = 0;
            parts.forEach((len, i) => {
              const data = new Uint8Array(len).fill(i & 0xff);
              total += len;
              frames.push(chunk(9, i === parts.length - 1 ? CHUNK_FLAG_LAST : 0, data));
              if (i % 3 === 0) frames.push(frame(FrameKind.PING, u32(i)));
            });
            const stream = concat(frames);
            const whole = openDecoder().push(stream.slice());
            const d = openDecoder();
            const events: WireEvent[] = [];
            let p = 0;
            let k = 0;
            while (p < stream.length) {
              const n = splits[k++ % splits.length] as number;
              events.push(...d.push(stream.slice(p, p + n)));
              p += n;
              if (d.partialMessages > 0) {
                expect(d.heldBytes).toBeLessThanOrEqual(
                  2 * total + PARTIAL_MESSAGE_OVERHEAD_BYTES + 1024 + 2 * PEER_MAX,
                );
              }
            }
            expect(plain(events)).toEqual(plain(whole));
            expect(d.heldBytes).toBe(0);
            expect(d.bufferedBytes).toBe(0);
          },
        ),
        propertyParameters(seed, 100),
      );
    }
  });

  it('decodes many frames that arrived behind the HELLO in one pass after open()', () => {
    const d = new FrameDecoder();
    const pings = concat(Array.from({ length: 20_000 }, (_, i) => frame(FrameKind.PING, u32(i))));
    const hello = d.push(concat([clearOpening(), pings]));
    expect(hello.map((e) => e.type)).toEqual(['hello']);
    expect(d.bufferedBytes).toBe(pings.length);
    const events = d.open(null);
    expect(events).toHaveLength(20_000);
    expect(events[19_999]).toEqual({ type: 'ping', seq: 19_999 });
    expect(d.bufferedBytes).toBe(0);
    expect(d.heldBytes).toBe(0);
  });

  it('never keeps a pushed chunk: a frame split across pushes is copied, sized to what arrived', () => {
    const d = openDecoder();
    const big = frame(FrameKind.STRUCTURES, new Uint8Array(60_000).fill(3));
    // The first 100 bytes of a 60 KB frame: the decoder holds a small copy, not 60 KB.
    d.push(big.slice(0, 100));
    expect(d.bufferedBytes).toBe(100);
    expect(d.heldBytes).toBeLessThanOrEqual(200);
    const ev = d.push(big.slice(100));
    expect(ev.map((e) => e.type)).toEqual(['structures']);
    expect(d.heldBytes).toBe(0);
  });
});

describe('sealed records - same bounds once encrypted', () => {
  const key = new Uint8Array(32).fill(7);

  function sealedDecoder(): FrameDecoder {
    const d = new FrameDecoder();
    d.push(clearOpening());
    d.open(tweetnaclCipherSuite.createCipher(key, 'acceptor'));
    return d;
  }

  it('reassembles a chunked message from records delivered byte by byte, holding no pushed chunk', () => {
    const w = new FrameWriter({
      peerMaxFrameBytes: PEER_MAX,
      cipher: tweetnaclCipherSuite.createCipher(key, 'connector'),
    });
    const body = new Uint8Array(40_000).map((_, i) => i & 0xff);
    w.writeMessage(msg({ typeName: 'big', body }));
    w.writePong(3);
    const parts: Uint8Array[] = [];
    while (w.hasPending) parts.push(w.flush() as Uint8Array);
    const stream = concat(parts);
    const d = sealedDecoder();
    const events: WireEvent[] = [];
    let most = 0;
    for (let i = 0; i < stream.length; i++) {
      events.push(...d.push(stream.slice(i, i + 1), i));
      most = Math.max(most, d.bufferedBytes);
    }
    // Never more than the record being read.
    expect(most).toBeLessThanOrEqual(PEER_MAX + 21 + 5);
    expect(events.map((e) => e.type)).toEqual(['pong', 'message']);
    const m = events[1];
    expect(m?.type === 'message' && Buffer.from(m.message.body).equals(Buffer.from(body))).toBe(
      true,
    );
    expect(d.heldBytes).toBe(0);
  });

  it('a record that stops arriving stalls the connection at its deadline', () => {
    const w = new FrameWriter({
      peerMaxFrameBytes: PEER_MAX,
      cipher: tweetnaclCipherSuite.createCipher(key, 'connector'),
    });
    w.writeMessage(msg());
    const record = w.flush() as Uint8Array;
    const d = sealedDecoder();
    d.push(record.subarray(0, record.length - 1), 0);
    const deadline = d.frameDeadline as number;
    expect(deadline).toBe(
      DEFAULT_FRAME_TIMEOUT_MS + (record.length * 1000) / DEFAULT_MIN_FRAME_BYTES_PER_SECOND,
    );
    expect(onlyError(d.expire(deadline + 1))?.code).toBe('HERALD_ERR_WIRE_STALLED');
  });
});

describe('reassembly - one budget shared by all connections', () => {
  it('fails only the connection that would exceed the shared budget', () => {
    const budget = new ReassemblyBudget(300_000);
    const a = openDecoder({ reassemblyBudget: budget });
    const b = openDecoder({ reassemblyBudget: budget });
    expect(a.push(oneByteParts(1, 100_000))).toEqual([]);
    const held = budget.usedBytes;
    expect(held).toBe(a.heldBytes);
    expect(held).toBeGreaterThan(100_000);
    // b alone is far below its own 128 MiB bound, but the process budget is spent.
    const events = b.push(oneByteParts(1, 200_000));
    expect(onlyError(events)?.code).toBe('HERALD_ERR_WIRE_MESSAGE_TOO_LARGE');
    const error = events.at(-1);
    expect(error?.type === 'error' && error.error.message).toMatch(/process reassembly budget/);
    // b released what it held; a is untouched and completes.
    expect(budget.usedBytes).toBe(held);
    const done = a.push(chunk(1, CHUNK_FLAG_LAST, [1]));
    expect(done.map((e) => e.type)).toEqual(['message']);
    expect(budget.usedBytes).toBe(0);
  });

  it('gives the budget back on every way a decoder ends', () => {
    const budget = new ReassemblyBudget();
    const ends: Array<(d: FrameDecoder) => void> = [
      (d) => d.end(), // EOF with partials: truncated
      (d) => d.dispose(), // the connection was abandoned
      (d) => d.push(frame(FrameKind.CLOSE, [0, 0])), // the peer closed
      (d) => d.push(frame(99, [])), // a protocol error
      (d) => d.expire(DEFAULT_PARTIAL_MESSAGE_TIMEOUT_MS + 1), // stalled
    ];
    for (const endIt of ends) {
      const d = openDecoder({ reassemblyBudget: budget });
      d.push(oneByteParts(2, 1000), 0);
      expect(budget.usedBytes).toBeGreaterThan(1000);
      endIt(d);
      expect(d.state).toBe('ended');
      expect(budget.usedBytes).toBe(0);
    }
  });
});

describe('hostile byte streams (property)', () => {
  it('random chunk streams with random splits and timers: only WireError events, bounds held, budget returned', () => {
    const chunkFrame = fc
      .record({
        id: fc.integer({ min: 0, max: 20 }),
        flags: fc.integer({ min: 0, max: 3 }),
        data: fc.uint8Array({ maxLength: 300 }),
        header: fc.boolean(),
      })
      .map(({ id, flags, data, header }) =>
        chunk(
          id,
          flags,
          header && (flags & CHUNK_FLAG_FIRST) !== 0
            ? concat([encodeMessage(msg(), new TypeTableEncoder()), data])
            : data,
        ),
      );
    const piece = fc.oneof(chunkFrame, fc.uint8Array({ minLength: 1, maxLength: 40 }));
    for (const seed of propertySeeds()) {
      fc.assert(
        fc.property(
          fc.array(piece, { minLength: 1, maxLength: 60 }),
          fc.array(fc.integer({ min: 1, max: 200 }), { minLength: 1, maxLength: 10 }),
          fc.array(fc.integer({ min: 0, max: 30_000 }), { minLength: 1, maxLength: 10 }),
          (pieces, splits, gaps) => {
            const budget = new ReassemblyBudget(50_000);
            const d = openDecoder({ reassemblyBudget: budget, maxReassemblyBytes: 40_000 });
            const stream = concat(pieces);
            let t = 0;
            let p = 0;
            let k = 0;
            while (p < stream.length && d.state !== 'ended') {
              const n = splits[k % splits.length] as number;
              t += gaps[k % gaps.length] as number;
              k++;
              const events = [...d.push(stream.slice(p, p + n), k % 2 === 0 ? t : undefined)];
              events.push(...d.expire(t));
              p += n;
              for (const e of events) {
                if (e.type === 'error') expect(e.error.code).toMatch(/^HERALD_ERR_WIRE_/);
              }
              expect(budget.usedBytes).toBeLessThanOrEqual(40_000);
              expect(d.heldBytes).toBeLessThanOrEqual(40_000 + 2 * (64 * 1024 + 5));
            }
            d.end();
            expect(budget.usedBytes).toBe(0);
          },
        ),
        propertyParameters(seed, 200),
      );
    }
  });
});

describe('time bounds - stalled partial messages and slow frames', () => {
  it('expires a partial message that gets no part for partialMessageTimeoutMs (CLOSE stalled)', () => {
    const d = openDecoder({ partialMessageTimeoutMs: 5000 });
    d.push(oneByteParts(3, 10), 1000);
    expect(d.nextDeadline).toBe(6000);
    expect(d.expire(6000)).toEqual([]);
    // A part resets the clock.
    d.push(chunk(3, 0, [1, 2, 3]), 5500);
    expect(d.expire(10_400)).toEqual([]);
    const events = d.expire(10_501);
    expect(onlyError(events)).toEqual({
      code: 'HERALD_ERR_WIRE_STALLED',
      closeReason: CloseReason.STALLED,
    });
    expect(d.heldBytes).toBe(0);
  });

  it('stamps starts pushed without a time at the next expire (timer-driven use)', () => {
    const d = openDecoder({ partialMessageTimeoutMs: 5000 });
    d.push(oneByteParts(3, 10)); // no `now`
    expect(d.nextDeadline).toBe(0); // due at once: the next timer stamps it
    expect(d.expire(100)).toEqual([]);
    expect(d.nextDeadline).toBe(5100);
    expect(onlyError(d.expire(5101))?.code).toBe('HERALD_ERR_WIRE_STALLED');
  });

  it('a part pushed without a time counts as progress at the next expire, never earlier', () => {
    const d = openDecoder({ partialMessageTimeoutMs: 5000 });
    d.push(oneByteParts(3, 10), 0);
    expect(d.expire(4000)).toEqual([]);
    d.push(chunk(3, 0, [1])); // progress, time unknown
    expect(d.nextDeadline).toBe(4000); // due now: the timer stamps it
    expect(d.expire(4500)).toEqual([]);
    expect(d.nextDeadline).toBe(9500);
    expect(d.expire(9500)).toEqual([]);
  });

  it('gives a started frame frameTimeoutMs plus its size at the minimum rate', () => {
    const d = openDecoder();
    const f = frame(FrameKind.STRUCTURES, new Uint8Array(32 * 1024));
    d.push(f.subarray(0, 10), 0);
    expect(d.incompleteFrameSince).toBe(0);
    const deadline =
      DEFAULT_FRAME_TIMEOUT_MS + (f.length * 1000) / DEFAULT_MIN_FRAME_BYTES_PER_SECOND;
    expect(d.frameDeadline).toBe(deadline);
    expect(d.expire(deadline)).toEqual([]);
    const events = d.expire(deadline + 1);
    expect(onlyError(events)).toEqual({
      code: 'HERALD_ERR_WIRE_STALLED',
      closeReason: CloseReason.STALLED,
    });
  });

  it('closes a slowloris peer (one byte every 10 s) within the frame bound', () => {
    const d = openDecoder();
    const f = frame(FrameKind.PING, u32(1)); // 9 bytes: deadline 10 s + 9/16384 s
    const events: WireEvent[] = [];
    let t = 0;
    for (let i = 0; i < f.length && events.length === 0; i++) {
      events.push(...d.push(f.subarray(i, i + 1), t));
      t += 10_000;
      events.push(...d.expire(t));
    }
    expect(onlyError(events)?.code).toBe('HERALD_ERR_WIRE_STALLED');
    expect(t).toBeLessThanOrEqual(20_000);
  });

  it('a length prefix not yet complete has the base deadline; a completed frame clears it', () => {
    const d = openDecoder();
    d.push(Uint8Array.of(0, 0), 100);
    expect(d.frameDeadline).toBe(100 + DEFAULT_FRAME_TIMEOUT_MS);
    const rest = concat([Uint8Array.of(0, 5, FrameKind.PING), u32(1)]);
    expect(d.push(rest, 200).map((e) => e.type)).toEqual(['ping']);
    expect(d.incompleteFrameSince).toBeNull();
    expect(d.frameDeadline).toBeNull();
    expect(d.nextDeadline).toBeNull();
    // A new frame starting later gets its own start time.
    d.push(Uint8Array.of(0), 50_000);
    expect(d.incompleteFrameSince).toBe(50_000);
    expect(d.expire(59_000)).toEqual([]);
  });

  it('a frame that completes and another that starts in the same push: the new one starts then', () => {
    const d = openDecoder();
    const ping = frame(FrameKind.PING, u32(1));
    d.push(ping.subarray(0, 3), 0);
    d.push(concat([ping.subarray(3), ping.subarray(0, 2)]), 9000);
    expect(d.incompleteFrameSince).toBe(9000);
  });

  it('rejects bad options at construction, naming the option (checkDecoderOptions)', () => {
    expect(() => new FrameDecoder({ frameTimeoutMs: 0 })).toThrow(/frameTimeoutMs/);
    expect(() => new FrameDecoder({ minFrameBytesPerSecond: -1 })).toThrow(
      /minFrameBytesPerSecond/,
    );
    expect(() => new FrameDecoder({ partialMessageTimeoutMs: Number.NaN })).toThrow(
      /partialMessageTimeoutMs/,
    );
    // The finding: maxFrameBytes 1000 used to surface as an uncaught error on first connect.
    expect(() => checkDecoderOptions({ maxFrameBytes: 1000 })).toThrow(/maxFrameBytes 1000/);
    expect(() => checkDecoderOptions({ maxReassemblyBytes: -5 })).toThrow(/maxReassemblyBytes/);
    expect(() => checkDecoderOptions({ maxTypeNames: MAX_TYPE_NAMES + 1 })).toThrow(/maxTypeNames/);
    expect(() => checkDecoderOptions({ maxMessageBytes: 1.5 })).toThrow(/maxMessageBytes/);
    expect(() => checkDecoderOptions({})).not.toThrow();
  });
});

describe('type tables - bounded without throwing at flush', () => {
  it('refuses a message with a new type name at writeMessage once the table is full', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX, maxTypeNames: 2 });
    expect(w.writeMessage(msg({ typeName: 'a' }))).toEqual({ type: 'queued' });
    expect(w.writeMessage(msg({ typeName: 'b' }))).toEqual({ type: 'queued' });
    const r = w.writeMessage(msg({ typeName: 'c' }));
    expect(r.type === 'refused' && r.reason).toBe('type-table-full');
    // Known names still go, and nothing of the refused message was queued.
    expect(w.writeMessage(msg({ typeName: 'a' }))).toEqual({ type: 'queued' });
    const events = openDecoder({ maxTypeNames: 2 }).push(w.flush() as Uint8Array);
    expect(events.map((e) => (e.type === 'message' ? e.message.typeName : e.type))).toEqual([
      'a',
      'b',
      'a',
    ]);
  });

  it('reserves table slots for large messages waiting to start, so flush() never throws', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX, maxTypeNames: 20 });
    const big = new Uint8Array(3 * PEER_MAX);
    const results: string[] = [];
    // 16 start at once, the rest wait; each has a new type name.
    for (let i = 0; i < 25; i++) {
      results.push(w.writeMessage(msg({ typeName: `big.${i}`, body: big })).type);
    }
    expect(results.filter((r) => r === 'queued')).toHaveLength(20);
    expect(results.slice(20)).toEqual(Array(5).fill('refused'));
    // A small message of a new type is refused too: the waiting ones hold the slots.
    expect(w.writeMessage(msg({ typeName: 'small.new' })).type).toBe('refused');
    const d = openDecoder({ maxTypeNames: 20 });
    const names: string[] = [];
    while (w.hasPending) {
      for (const e of d.push(w.flush(4 * PEER_MAX) as Uint8Array)) {
        if (e.type === 'error') throw e.error;
        if (e.type === 'message') names.push(e.message.typeName);
      }
    }
    expect(names.sort()).toEqual(Array.from({ length: 20 }, (_, i) => `big.${i}`).sort());
  });

  it('carries a relay of 5,000 distinct type names: 4,096 delivered, the rest refused, no throw', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    const d = openDecoder();
    let refused = 0;
    let delivered = 0;
    for (let i = 0; i < 5000; i++) {
      const r = w.writeMessage(msg({ typeName: `relay.Type${i}` }));
      if (r.type === 'refused') refused++;
      const batch = i % 100 === 99 ? w.flush() : null; // null once every new name is refused
      if (batch !== null) {
        for (const e of d.push(batch)) {
          if (e.type === 'error') throw e.error;
          if (e.type === 'message') delivered++;
        }
      }
    }
    expect(delivered).toBe(MAX_TYPE_NAMES);
    expect(refused).toBe(5000 - MAX_TYPE_NAMES);
  });

  it('the receiver keeps its own bound: a 4,097th definition in raw bytes closes the connection', () => {
    const enc = new TypeTableEncoder(MAX_TYPE_NAMES + 1);
    const frames: Uint8Array[] = [];
    for (let i = 0; i <= MAX_TYPE_NAMES; i++) {
      frames.push(frame(FrameKind.MESSAGE, encodeMessage(msg({ typeName: `t${i}` }), enc)));
    }
    const events = openDecoder().push(concat(frames));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_TYPE_TABLE_FULL');
    expect(events.filter((e) => e.type === 'message')).toHaveLength(MAX_TYPE_NAMES);
  });
});

describe('control frames - counted and coalesced', () => {
  it('answers a PING flood with one PONG (the latest seq) however many PINGs arrive unflushed', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    const d = openDecoder();
    const flood = concat(Array.from({ length: 10_000 }, (_, i) => frame(FrameKind.PING, u32(i))));
    for (const e of d.push(flood)) if (e.type === 'ping') w.writePong(e.seq);
    expect(w.queuedBytes).toBe(9);
    const out = openDecoder().push(w.flush() as Uint8Array);
    expect(out).toEqual([{ type: 'pong', seq: 9999 }]);
    expect(w.queuedBytes).toBe(0);
    expect(w.hasPending).toBe(false);
  });

  it('queuedBytes counts the batch, the pending PONG and the unsent rest of large messages', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    expect(w.queuedBytes).toBe(0);
    w.writeMessage(msg());
    const small = w.batchBytes;
    expect(w.queuedBytes).toBe(small);
    w.writePong(1);
    expect(w.queuedBytes).toBe(small + 9);
    w.writeMessage(msg({ body: new Uint8Array(100_000) }));
    expect(w.queuedBytes).toBeGreaterThanOrEqual(small + 9 + 100_000);
    expect(w.queuedBytes).toBeLessThan(small + 9 + 100_000 + 200);
    let sent = 0;
    while (w.hasPending) {
      const before = w.queuedBytes;
      const b = w.flush() as Uint8Array;
      sent += b.length;
      expect(before - w.queuedBytes).toBeLessThanOrEqual(b.length);
    }
    expect(w.queuedBytes).toBe(0);
    expect(sent).toBeGreaterThan(100_000);
  });

  it('sends a pending PONG before CLOSE', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    w.writePong(5);
    w.writeClose(0, 'bye');
    expect(
      openDecoder()
        .push(w.flush() as Uint8Array)
        .map((e) => e.type),
    ).toEqual(['pong', 'close']);
  });
});

describe('idle memory - buffers grow on demand and shrink', () => {
  it('starts the writer buffer small and shrinks it after a burst once batches stay small', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: 64 * 1024 });
    expect(w.bufferCapacity).toBe(WRITER_INITIAL_BUFFER_BYTES);
    for (let i = 0; i < 400; i++) w.writeMessage(msg({ body: new Uint8Array(500) }));
    w.flush();
    expect(w.bufferCapacity).toBeGreaterThanOrEqual(200_000);
    for (let i = 0; i < WRITER_SHRINK_AFTER_FLUSHES; i++) {
      w.writeMessage(msg());
      w.flush();
    }
    expect(w.bufferCapacity).toBe(WRITER_INITIAL_BUFFER_BYTES);
  });

  it('trim() releases the buffer at once; a busy writer keeps it', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: 64 * 1024 });
    for (let round = 0; round < 3 * WRITER_SHRINK_AFTER_FLUSHES; round++) {
      for (let i = 0; i < 100; i++) w.writeMessage(msg({ body: new Uint8Array(500) }));
      w.flush();
    }
    expect(w.bufferCapacity).toBeGreaterThanOrEqual(50_000);
    w.trim();
    expect(w.bufferCapacity).toBe(WRITER_INITIAL_BUFFER_BYTES);
  });

  it('holds at most 16 KiB of heap per idle FrameWriter + FrameDecoder pair (child process, after GC)', async () => {
    const report = await runHeapFixture(60_000);
    expect(report.freshPairBytes, JSON.stringify(report)).toBeLessThanOrEqual(16 * 1024);
    expect(report.afterBurstPairBytes, JSON.stringify(report)).toBeLessThanOrEqual(16 * 1024);
    // Reassembly of one-byte parts: a few bytes of heap per byte held, not ~108.
    expect(report.oneBytePartsHeapPerByte, JSON.stringify(report)).toBeLessThanOrEqual(4);
    // A decoder dropped without end()/dispose() gives its budget back when collected.
    expect(report.budgetAfterGc, JSON.stringify(report)).toBe(0);
  }, 70_000);
});

interface HeapReport {
  readonly pairs: number;
  readonly freshPairBytes: number;
  readonly afterBurstPairBytes: number;
  readonly oneBytePartsHeapPerByte: number;
  readonly budgetAfterGc: number;
}

async function runHeapFixture(timeoutMs: number): Promise<HeapReport> {
  const fixture = fileURLToPath(new URL('./fixtures/heap-wire.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../../..', import.meta.url));
  const child = spawnScript(fixture, [], { cwd: root, nodeOptions: ['--expose-gc'] });
  // A fixture that overruns is killed, not left behind (kill does nothing once it exited).
  const { code } = await child.waitForExit(timeoutMs).finally(() => child.kill('SIGKILL'));
  if (code !== 0) {
    throw new Error(`heap fixture exited with ${code}; stderr: ${child.stderr.join('\n')}`);
  }
  try {
    return JSON.parse(child.stdout.at(-1) ?? '') as HeapReport;
  } catch (error) {
    throw new Error(`heap fixture printed no JSON: ${child.stdout.join('\n')}`, { cause: error });
  }
}
