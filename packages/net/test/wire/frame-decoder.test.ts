import fc from 'fast-check';
import { propertyParameters, propertySeeds } from '@herald/testing';
import { describe, expect, it } from 'vitest';
import {
  CloseReason,
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameKind,
  FrameWriter,
  MAX_HANDSHAKE_FRAME_BYTES,
  WireError,
  type WireEvent,
  encodeCloseBody,
  encodeHelloBody,
  encodePreamble,
} from '../../src/wire/index.js';
import { clearOpening, concat, errorCode, frame, msg, openDecoder, plain, u32 } from './helpers.js';

/** A realistic stream: opening, then frames written by a FrameWriter (incl. chunks). */
function sampleStream(): Uint8Array {
  const w = new FrameWriter({ peerMaxFrameBytes: 16 * 1024 });
  w.writeMessage(msg({ typeName: 'a.One' }));
  w.writeStructures(Uint8Array.of(9, 9));
  w.writeMessage(msg({ typeName: 'a.Big', body: new Uint8Array(40_000).fill(7) }));
  w.writeMessage(msg({ typeName: 'a.One', to: [], ret: [5, 0], space: [[1, 2], []] }));
  w.writePing(42);
  w.writePong(43);
  const parts: Uint8Array[] = [clearOpening()];
  while (w.hasPending) parts.push(w.flush() as Uint8Array);
  return concat(parts);
}

function decodeAll(parts: readonly Uint8Array[]): WireEvent[] {
  const d = new FrameDecoder();
  const events: WireEvent[] = [];
  for (const p of parts) {
    events.push(...d.push(p));
    if (d.state === 'awaiting-open') events.push(...d.open(null));
  }
  return events;
}

describe('FrameDecoder', () => {
  const stream = sampleStream();
  const whole = decodeAll([stream]);

  it('decodes a stream of every data frame kind delivered in one chunk', () => {
    expect(whole.map((e) => e.type)).toEqual([
      'hello',
      'message',
      'structures',
      'message',
      'ping',
      'pong',
      'message',
    ]);
    const big = whole.find((e) => e.type === 'message' && e.message.typeName === 'a.Big');
    expect(big?.type === 'message' && big.message.body.length).toBe(40_000);
  });

  it('decodes identically for every single split point', () => {
    const expected = plain(whole);
    for (let i = 0; i <= stream.length; i += i < 200 ? 1 : 97) {
      expect(plain(decodeAll([stream.subarray(0, i), stream.subarray(i)]))).toEqual(expected);
    }
  });

  it('decodes identically for every split point of a stream of small frames, all of them', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: 16 * 1024 });
    w.writeMessage(msg({ typeName: 'b.One' }));
    w.writeMessage(msg({ typeName: 'b.Two', space: [[3, 0]] }));
    w.writeMessage(msg({ typeName: 'b.One' }));
    w.writePing(1);
    const small = concat([clearOpening(), w.flush() as Uint8Array]);
    const expected = plain(decodeAll([small]));
    expect(expected).toHaveLength(5);
    for (let i = 0; i <= small.length; i++) {
      for (const j of [i, Math.min(small.length, i + 1), Math.min(small.length, i + 7)]) {
        const parts = [small.subarray(0, i), small.subarray(i, j), small.subarray(j)];
        expect(plain(decodeAll(parts))).toEqual(expected);
      }
    }
  });

  it('decodes identically for arbitrary chunkings (property)', () => {
    const expected = plain(whole);
    for (const seed of propertySeeds())
      fc.assert(
        fc.property(
          fc.array(fc.integer({ min: 0, max: stream.length }), { maxLength: 30 }),
          (cuts) => {
            const sorted = [...new Set(cuts)].sort((a, b) => a - b);
            const parts: Uint8Array[] = [];
            let prev = 0;
            for (const c of sorted) {
              parts.push(stream.subarray(prev, c));
              prev = c;
            }
            parts.push(stream.subarray(prev));
            expect(plain(decodeAll(parts))).toEqual(expected);
          },
        ),
        propertyParameters(seed, 200),
      );
  });

  it('decodes identically when delivered byte by byte', () => {
    const parts: Uint8Array[] = [];
    for (let i = 0; i < stream.length; i++) parts.push(stream.subarray(i, i + 1));
    expect(plain(decodeAll(parts))).toEqual(plain(whole));
  });

  it('returns message bodies as views of the chunk when the frame lies in one chunk', () => {
    const d = openDecoder();
    const w = new FrameWriter({ peerMaxFrameBytes: DEFAULT_MAX_FRAME_BYTES });
    w.writeMessage(msg());
    const bytes = w.flush() as Uint8Array;
    const [ev] = d.push(bytes);
    expect(ev?.type === 'message' && ev.message.body.buffer).toBe(bytes.buffer);
  });

  it('never throws on random bytes: failures are WireError events (property)', () => {
    for (const seed of propertySeeds())
      fc.assert(
        fc.property(fc.uint8Array({ maxLength: 300 }), fc.boolean(), (bytes, afterHello) => {
          const d = afterHello ? openDecoder() : new FrameDecoder();
          const input = afterHello ? bytes : concat([encodePreamble(), bytes]);
          const events = [...d.push(input)];
          if (d.state === 'awaiting-open') events.push(...d.open(null));
          events.push(...d.end());
          for (const e of events) if (e.type === 'error') expect(e.error).toBeInstanceOf(WireError);
        }),
        propertyParameters(seed, 2000),
      );
  });

  it('never throws on random frames with valid framing after the handshake (property)', () => {
    for (const seed of propertySeeds())
      fc.assert(
        fc.property(
          fc.array(fc.tuple(fc.integer({ min: 0, max: 12 }), fc.uint8Array({ maxLength: 60 })), {
            maxLength: 8,
          }),
          (frames) => {
            const d = openDecoder();
            const events = d.push(concat(frames.map(([k, b]) => frame(k, b))));
            for (const e of events)
              if (e.type === 'error') expect(e.error).toBeInstanceOf(WireError);
          },
        ),
        propertyParameters(seed, 2000),
      );
  });

  it('rejects an oversized length from its 4 length bytes alone, before the body arrives', () => {
    const d = openDecoder();
    const events = d.push(u32(DEFAULT_MAX_FRAME_BYTES + 2));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_FRAME_TOO_LARGE');
    const ev = events[0];
    expect(ev?.type === 'error' && ev.error.closeReason).toBe(CloseReason.FRAME_TOO_LARGE);
    expect(d.bufferedBytes).toBe(0);
  });

  it('accepts a frame body of exactly maxFrameBytes', () => {
    const d = openDecoder({ maxFrameBytes: 16 * 1024 });
    const events = d.push(frame(FrameKind.STRUCTURES, new Uint8Array(16 * 1024)));
    expect(events.map((e) => e.type)).toEqual(['structures']);
  });

  it('caps handshake frames at 1 KiB', () => {
    const d = new FrameDecoder();
    const events = d.push(concat([encodePreamble(), u32(MAX_HANDSHAKE_FRAME_BYTES + 2)]));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_FRAME_TOO_LARGE');
  });

  it('reports a truncated frame when the stream ends inside it', () => {
    const d = openDecoder();
    const f = frame(FrameKind.PING, u32(1));
    expect(d.push(f.subarray(0, 6))).toEqual([]);
    expect(errorCode(d.end())).toBe('HERALD_ERR_WIRE_TRUNCATED');
  });

  it('ends cleanly at a frame boundary', () => {
    const d = openDecoder();
    d.push(frame(FrameKind.PING, u32(1)));
    expect(d.end()).toEqual([]);
    expect(d.state).toBe('ended');
  });

  it('rejects a wrong magic at the first wrong byte', () => {
    const d = new FrameDecoder();
    expect(errorCode(d.push(new TextEncoder().encode('G')))).toBe('HERALD_ERR_WIRE_BAD_MAGIC');
  });

  it('rejects an unsupported version with version-unsupported', () => {
    const d = new FrameDecoder();
    const events = d.push(encodePreamble(1));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_VERSION_UNSUPPORTED');
    const ev = events[0];
    expect(ev?.type === 'error' && ev.error.closeReason).toBe(CloseReason.VERSION_UNSUPPORTED);
  });

  it('ignores the reserved preamble bytes', () => {
    const p = encodePreamble();
    p[5] = 0xff;
    const d = new FrameDecoder();
    expect(d.push(concat([p, clearOpening().subarray(8)])).map((e) => e.type)).toEqual(['hello']);
  });

  it('treats a zero-length frame as a protocol error', () => {
    const d = openDecoder();
    const events = d.push(u32(0));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_EMPTY_FRAME');
    const ev = events[0];
    expect(ev?.type === 'error' && ev.error.closeReason).toBe(CloseReason.PROTOCOL_ERROR);
  });

  it('rejects a second HELLO', () => {
    const d = openDecoder();
    const hello = encodeHelloBody({
      encrypt: false,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      keepaliveMs: 0,
      ephemeralKey: null,
    });
    expect(errorCode(d.push(frame(FrameKind.HELLO, hello)))).toBe(
      'HERALD_ERR_WIRE_DUPLICATE_HELLO',
    );
  });

  it('requires HELLO as the first frame', () => {
    const d = new FrameDecoder();
    const events = d.push(concat([encodePreamble(), frame(FrameKind.PING, u32(1))]));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_EXPECTED_HELLO');
  });

  it('accepts CLOSE instead of HELLO', () => {
    const d = new FrameDecoder();
    const events = d.push(
      concat([
        encodePreamble(),
        frame(FrameKind.CLOSE, encodeCloseBody(CloseReason.GOING_AWAY, 'bye')),
      ]),
    );
    expect(events).toEqual([{ type: 'close', code: 1, reason: 'going-away', text: 'bye' }]);
  });

  it('rejects unknown kinds, SEALED in clear and malformed PING', () => {
    expect(errorCode(openDecoder().push(frame(99, [])))).toBe('HERALD_ERR_WIRE_UNKNOWN_KIND');
    expect(errorCode(openDecoder().push(frame(FrameKind.SEALED, [1, 2])))).toBe(
      'HERALD_ERR_WIRE_UNEXPECTED_SEALED',
    );
    expect(errorCode(openDecoder().push(frame(FrameKind.PING, [1, 2])))).toBe(
      'HERALD_ERR_WIRE_MALFORMED',
    );
  });

  it('rejects malformed HELLOs: duplicate TLV, key without flag, bad frame limit', () => {
    const base = (tail: number[], flags = 0, max = DEFAULT_MAX_FRAME_BYTES) =>
      concat([encodePreamble(), frame(FrameKind.HELLO, [flags, ...u32(max), ...u32(0), ...tail])]);
    const key = [1, 0, 32, ...new Array<number>(32).fill(9)];
    expect(errorCode(new FrameDecoder().push(base([...key, ...key], 1)))).toBe(
      'HERALD_ERR_WIRE_BAD_HELLO',
    );
    expect(errorCode(new FrameDecoder().push(base(key, 0)))).toBe('HERALD_ERR_WIRE_BAD_HELLO');
    expect(errorCode(new FrameDecoder().push(base([], 1)))).toBe('HERALD_ERR_WIRE_BAD_HELLO');
    expect(errorCode(new FrameDecoder().push(base([], 0, 100)))).toBe('HERALD_ERR_WIRE_BAD_HELLO');
    expect(errorCode(new FrameDecoder().push(base([7, 0, 5, 1])))).toBe(
      'HERALD_ERR_WIRE_BAD_HELLO',
    );
  });

  it('ignores unknown HELLO TLVs and flag bits', () => {
    const body = [0x80, ...u32(DEFAULT_MAX_FRAME_BYTES), ...u32(5), 200, 0, 2, 1, 2];
    const events = new FrameDecoder().push(
      concat([encodePreamble(), frame(FrameKind.HELLO, body)]),
    );
    expect(events).toEqual([
      {
        type: 'hello',
        hello: {
          encrypt: false,
          maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
          keepaliveMs: 5,
          ephemeralKey: null,
        },
      },
    ]);
  });

  it('surfaces a peer CLOSE and ignores everything after it', () => {
    const d = openDecoder();
    const events = d.push(
      concat([frame(FrameKind.CLOSE, encodeCloseBody(0, 'done')), frame(FrameKind.PING, u32(1))]),
    );
    expect(events).toEqual([{ type: 'close', code: 0, reason: 'normal', text: 'done' }]);
    expect(d.push(frame(FrameKind.PING, u32(2)))).toEqual([]);
  });

  it('refuses further input after an error', () => {
    const d = openDecoder();
    d.push(u32(0));
    expect(d.state).toBe('ended');
    expect(d.error?.code).toBe('HERALD_ERR_WIRE_EMPTY_FRAME');
    expect(d.push(frame(FrameKind.PING, u32(1)))).toEqual([]);
  });

  it('holds bytes behind HELLO until open() is called', () => {
    const d = new FrameDecoder();
    const events = d.push(concat([clearOpening(), frame(FrameKind.PING, u32(7))]));
    expect(events.map((e) => e.type)).toEqual(['hello']);
    expect(d.open(null)).toEqual([{ type: 'ping', seq: 7 }]);
  });
});
