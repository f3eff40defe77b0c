import { describe, expect, it } from 'vitest';
import {
  CHUNK_FLAG_FIRST,
  CHUNK_FLAG_LAST,
  FrameKind,
  FrameWriter,
  MAX_PARTIAL_MESSAGES,
  TypeTableEncoder,
  type WireEvent,
  encodeMessage,
} from '../../src/wire/index.js';
import { concat, errorCode, frame, msg, openDecoder, u32 } from './helpers.js';

const PEER_MAX = 16 * 1024;

function chunk(id: number, flags: number, data: Uint8Array | readonly number[]): Uint8Array {
  return frame(FrameKind.CHUNK, [...u32(id), flags, ...data]);
}

function fill(n: number, seed: number): Uint8Array {
  const b = new Uint8Array(n);
  for (let i = 0; i < n; i++) b[i] = (i * 31 + seed) & 0xff;
  return b;
}

/** Kinds of the frames in a clear batch, with chunk ids. */
function frameList(batch: Uint8Array): string[] {
  const out: string[] = [];
  let p = 0;
  while (p < batch.length) {
    const len = new DataView(batch.buffer, batch.byteOffset + p).getUint32(0);
    const kind = batch[p + 4] as number;
    out.push(
      kind === FrameKind.CHUNK
        ? `C${new DataView(batch.buffer, batch.byteOffset + p + 5).getUint32(0)}`
        : kind === FrameKind.MESSAGE
          ? 'M'
          : String(kind),
    );
    p += 4 + len;
  }
  return out;
}

describe('chunking', () => {
  it('sends a message larger than one frame as chunks and reassembles it', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    const body = fill(100_000, 1);
    w.writeMessage(msg({ body, typeName: 'big' }));
    const d = openDecoder();
    const events: WireEvent[] = [];
    let chunks = 0;
    while (w.hasPending) {
      const b = w.flush() as Uint8Array;
      for (const f of frameList(b)) expect(f).toBe('C0');
      chunks += frameList(b).length;
      expect(b.length).toBeLessThanOrEqual(2 * (PEER_MAX + 5));
      events.push(...d.push(b));
    }
    // 5 bytes of chunk prefix per frame; the first chunk also carries the header.
    expect(chunks).toBe(Math.ceil(100_000 / (PEER_MAX - 5 - 16)));
    expect(events).toHaveLength(1);
    const ev = events[0];
    expect(ev?.type === 'message' && ev.message.typeName).toBe('big');
    expect(ev?.type === 'message' && Buffer.from(ev.message.body).equals(Buffer.from(body))).toBe(
      true,
    );
  });

  it('lets small messages overtake a large one: never more than one chunk round ahead', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    w.writeMessage(msg({ body: fill(60_000, 2), typeName: 'big' }));
    w.writeMessage(msg({ typeName: 'small' }));
    const first = w.flush() as Uint8Array;
    expect(frameList(first)).toEqual(['C0', 'M', 'C0']);
    w.writeMessage(msg({ typeName: 'small' }));
    w.writeMessage(msg({ body: fill(40_000, 3), typeName: 'big2' }));
    w.writePing(1);
    expect(frameList(w.flush(2 * PEER_MAX) as Uint8Array)).toEqual(['M', 'C1', '5', 'C0', 'C1']);
  });

  it('interleaves chunks of several large messages with small ones and delivers all', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    const d = openDecoder();
    const bodies = [fill(50_000, 4), fill(33_000, 5), fill(70_000, 6)];
    bodies.forEach((body, i) => {
      w.writeMessage(msg({ body, typeName: `big${i}` }));
      w.writeMessage(msg({ typeName: `small${i}` }));
    });
    const events: WireEvent[] = [];
    while (w.hasPending) events.push(...d.push(w.flush() as Uint8Array));
    const names = events.map((e) => (e.type === 'message' ? e.message.typeName : e.type));
    expect(names.slice(0, 3)).toEqual(['small0', 'small1', 'small2']);
    expect(names).toHaveLength(6);
    for (const [i, body] of bodies.entries()) {
      const ev = events.find((e) => e.type === 'message' && e.message.typeName === `big${i}`);
      expect(ev?.type === 'message' && Buffer.from(ev.message.body).equals(Buffer.from(body))).toBe(
        true,
      );
    }
  });

  it('keeps at most 16 large messages in flight and keeps type definitions in wire order', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    const d = openDecoder();
    for (let i = 0; i < MAX_PARTIAL_MESSAGES + 4; i++) {
      w.writeMessage(msg({ body: fill(PEER_MAX * 2, i), typeName: `big${i}` }));
    }
    w.writeMessage(msg({ typeName: 'late-small' }));
    expect(w.pendingMessages).toBe(MAX_PARTIAL_MESSAGES + 4);
    const events: WireEvent[] = [];
    while (w.hasPending) {
      events.push(...d.push(w.flush() as Uint8Array));
      expect(d.partialMessages).toBeLessThanOrEqual(MAX_PARTIAL_MESSAGES);
    }
    expect(events.filter((e) => e.type === 'error')).toEqual([]);
    expect(events).toHaveLength(MAX_PARTIAL_MESSAGES + 5);
  });

  it('rejects a chunk for an unknown id without the first flag', () => {
    expect(errorCode(openDecoder().push(chunk(7, 0, [1, 2])))).toBe(
      'HERALD_ERR_WIRE_UNKNOWN_CHUNK',
    );
  });

  it('rejects a first chunk that reuses a live id', () => {
    const hdr = encodeMessage(msg({ body: new Uint8Array(0) }), new TypeTableEncoder());
    const hdr2 = encodeMessage(msg({ body: new Uint8Array(0) }), new TypeTableEncoder());
    const d = openDecoder();
    expect(d.push(chunk(1, CHUNK_FLAG_FIRST, hdr))).toEqual([]);
    expect(errorCode(d.push(chunk(1, CHUNK_FLAG_FIRST, hdr2)))).toBe(
      'HERALD_ERR_WIRE_DUPLICATE_CHUNK_ID',
    );
  });

  it('accepts an id again once its message completed', () => {
    const enc = new TypeTableEncoder();
    const d = openDecoder();
    const a = d.push(chunk(1, CHUNK_FLAG_FIRST | CHUNK_FLAG_LAST, encodeMessage(msg(), enc)));
    const b = d.push(chunk(1, CHUNK_FLAG_FIRST | CHUNK_FLAG_LAST, encodeMessage(msg(), enc)));
    expect([...a, ...b].map((e) => e.type)).toEqual(['message', 'message']);
  });

  it('rejects a first chunk whose header is incomplete', () => {
    const hdr = encodeMessage(msg(), new TypeTableEncoder());
    expect(errorCode(openDecoder().push(chunk(1, CHUNK_FLAG_FIRST, hdr.subarray(0, 4))))).toBe(
      'HERALD_ERR_WIRE_MALFORMED',
    );
  });

  it('closes with too-many-partial-messages beyond the bound', () => {
    const enc = new TypeTableEncoder();
    const d = openDecoder();
    const frames: Uint8Array[] = [];
    for (let i = 0; i <= MAX_PARTIAL_MESSAGES; i++) {
      frames.push(chunk(i, CHUNK_FLAG_FIRST, encodeMessage(msg(), enc)));
    }
    const events = d.push(concat(frames));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_TOO_MANY_PARTIALS');
    const ev = events[0];
    expect(ev?.type === 'error' && ev.error.closeReason).toBe(11);
  });

  it('closes with message-too-large when a message exceeds maxMessageBytes', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    w.writeMessage(msg({ body: new Uint8Array(50_000) }));
    const d = openDecoder({ maxMessageBytes: 40_000 });
    const events: WireEvent[] = [];
    while (w.hasPending) events.push(...d.push(w.flush() as Uint8Array));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_MESSAGE_TOO_LARGE');
  });

  it('closes when partial messages together exceed maxReassemblyBytes', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    w.writeMessage(msg({ body: new Uint8Array(50_000) }));
    w.writeMessage(msg({ body: new Uint8Array(50_000) }));
    const d = openDecoder({ maxReassemblyBytes: 60_000 });
    const events: WireEvent[] = [];
    while (w.hasPending) events.push(...d.push(w.flush() as Uint8Array));
    expect(errorCode(events)).toBe('HERALD_ERR_WIRE_MESSAGE_TOO_LARGE');
  });

  it('reports partial messages left at end of stream as truncated', () => {
    const hdr = encodeMessage(msg(), new TypeTableEncoder());
    const d = openDecoder();
    d.push(chunk(3, CHUNK_FLAG_FIRST, hdr));
    expect(errorCode(d.end())).toBe('HERALD_ERR_WIRE_TRUNCATED');
  });

  it('returns abandoned large messages on close', () => {
    const w = new FrameWriter({ peerMaxFrameBytes: PEER_MAX });
    const big = msg({ body: new Uint8Array(50_000) });
    w.writeMessage(big);
    expect(w.writeClose(0, 'bye')).toEqual([big]);
    expect(() => w.writePing(1)).toThrow(/CLOSE/);
    const events = openDecoder().push(w.flush() as Uint8Array);
    expect(events.map((e) => e.type)).toEqual(['close']);
  });
});
