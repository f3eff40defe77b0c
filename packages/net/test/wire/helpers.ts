import {
  ByteWriter,
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  type FrameDecoderOptions,
  FrameKind,
  type WireEvent,
  type WireMessage,
  encodeHelloBody,
  encodePreamble,
  writeFrame,
} from '../../src/wire/index.js';

import { concatBytes } from '../../src/wire/bytes.js';

export const concat = concatBytes;

export function frame(kind: number, body: Uint8Array | readonly number[]): Uint8Array {
  const w = new ByteWriter(16);
  writeFrame(w, kind, body instanceof Uint8Array ? body : Uint8Array.from(body));
  return w.take();
}

export function u32(v: number): Uint8Array {
  return Uint8Array.of(v >>> 24, v >>> 16, v >>> 8, v);
}

/** Preamble + a clear HELLO, as a peer would send it. */
export function clearOpening(maxFrameBytes = DEFAULT_MAX_FRAME_BYTES): Uint8Array {
  return concat([
    encodePreamble(),
    frame(
      FrameKind.HELLO,
      encodeHelloBody({ encrypt: false, maxFrameBytes, keepaliveMs: 1000, ephemeralKey: null }),
    ),
  ]);
}

/** A decoder past the handshake, in clear. */
export function openDecoder(options: FrameDecoderOptions = {}): FrameDecoder {
  const d = new FrameDecoder(options);
  const ev = d.push(clearOpening());
  if (ev.length !== 1 || ev[0]?.type !== 'hello') throw new Error('no hello');
  const rest = d.open(null);
  if (rest.length !== 0) throw new Error('unexpected events');
  return d;
}

export function msg(partial: Partial<WireMessage> = {}): WireMessage {
  return {
    bodyMode: 0,
    to: [1],
    ret: [2],
    typeName: 'test.Hello',
    space: [],
    body: new Uint8Array([1, 2, 3]),
    ...partial,
  };
}

export function errorCode(events: readonly WireEvent[]): string | undefined {
  const last = events[events.length - 1];
  return last?.type === 'error' ? last.error.code : undefined;
}

/** Events with byte arrays turned into plain arrays, for deep equality across copies/views. */
export function plain(events: readonly WireEvent[]): unknown[] {
  return events.map(
    (e) =>
      JSON.parse(
        JSON.stringify(e, (_k, v: unknown) =>
          v instanceof Uint8Array ? Buffer.from(v).toString('base64') : v,
        ),
      ) as unknown,
  );
}
