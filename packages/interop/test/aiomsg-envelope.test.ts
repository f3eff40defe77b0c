/**
 * aiomsg v1 envelopes and framing, byte for byte from PROTOCOL.md §2-§3 (cjrh/aiomsg).
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { propertyParameters, propertySeeds } from '@herald/testing';
import {
  FrameDecoder,
  decodeEnvelope,
  encodeAck,
  encodeData,
  encodeDataReq,
  encodeHeartbeat,
  encodeHello,
  frame,
} from '../src/index.js';

const hex = (h: string): Uint8Array => Uint8Array.from(Buffer.from(h.replaceAll(' ', ''), 'hex'));
const ID = hex('00112233445566778899aabbccddeeff');
const MSG = hex('0f0e0d0c0b0a09080706050403020100');

describe('aiomsg envelopes - byte fixtures from PROTOCOL.md', () => {
  it('HELLO is 0x01, version 0x01, 16 identity bytes; framed with 00 00 00 12', () => {
    expect(Buffer.from(frame(encodeHello(ID))).toString('hex')).toBe(
      '00000012' + '01' + '01' + '00112233445566778899aabbccddeeff',
    );
  });
  it('HEARTBEAT is the single byte 0x02', () => {
    expect(Buffer.from(frame(encodeHeartbeat())).toString('hex')).toBe('0000000102');
  });
  it('DATA is 0x03 followed by the payload', () => {
    expect(Buffer.from(frame(encodeData(Buffer.from('hi')))).toString('hex')).toBe(
      '00000003036869',
    );
  });
  it('DATA_REQ is 0x04, the 16-byte message id, then the payload', () => {
    expect(Buffer.from(frame(encodeDataReq(MSG, Buffer.from('x')))).toString('hex')).toBe(
      '00000012' + '04' + '0f0e0d0c0b0a09080706050403020100' + '78',
    );
  });
  it('ACK is 0x05 and the 16-byte message id', () => {
    expect(Buffer.from(frame(encodeAck(MSG))).toString('hex')).toBe(
      '00000011' + '05' + '0f0e0d0c0b0a09080706050403020100',
    );
  });
  it('decodes each envelope back', () => {
    expect(decodeEnvelope(encodeHello(ID))).toEqual({ kind: 'hello', version: 1, identity: ID });
    expect(decodeEnvelope(encodeHeartbeat())).toEqual({ kind: 'heartbeat' });
    expect(decodeEnvelope(encodeData(hex('aabb')))).toEqual({ kind: 'data', payload: hex('aabb') });
    expect(decodeEnvelope(encodeDataReq(MSG, hex('cc')))).toEqual({
      kind: 'data-req',
      messageId: MSG,
      payload: hex('cc'),
    });
    expect(decodeEnvelope(encodeAck(MSG))).toEqual({ kind: 'ack', messageId: MSG });
    expect(decodeEnvelope(encodeData(new Uint8Array(0)))).toEqual({
      kind: 'data',
      payload: new Uint8Array(0),
    });
  });
  it('an unknown type and an empty envelope decode as unknown (to be skipped)', () => {
    expect(decodeEnvelope(hex('7f0102'))).toEqual({ kind: 'unknown', typeByte: 0x7f });
    expect(decodeEnvelope(new Uint8Array(0))).toEqual({ kind: 'unknown', typeByte: undefined });
  });
  it('a HELLO, DATA_REQ or ACK too short for its fixed fields is malformed, not a crash', () => {
    expect(decodeEnvelope(hex('0101aabb')).kind).toBe('malformed');
    expect(decodeEnvelope(hex('04aabb')).kind).toBe('malformed');
    expect(decodeEnvelope(hex('05')).kind).toBe('malformed');
  });
  it('refuses to build an identity or message id of the wrong width', () => {
    expect(() => encodeHello(hex('00'))).toThrow(/16 bytes/);
    expect(() => encodeAck(hex('00'))).toThrow(/16 bytes/);
  });
});

describe('aiomsg frame decoder', () => {
  const stream = Buffer.concat([
    frame(encodeHello(ID)),
    frame(new Uint8Array(0)),
    frame(encodeData(Buffer.from('payload'))),
    frame(encodeAck(MSG)),
  ]);

  it('drains every frame of one chunk (HELLO pipelined with DATA)', () => {
    const r = new FrameDecoder(1024).push(stream);
    expect(r.ok).toBe(true);
    expect(r.frames.map((f) => Buffer.from(f).toString('hex'))).toEqual([
      Buffer.from(encodeHello(ID)).toString('hex'),
      '',
      Buffer.from(encodeData(Buffer.from('payload'))).toString('hex'),
      Buffer.from(encodeAck(MSG)).toString('hex'),
    ]);
  });

  it('a zero-length frame is a frame, not the end of the stream', () => {
    const d = new FrameDecoder(1024);
    const r = d.push(Buffer.concat([frame(new Uint8Array(0)), frame(encodeHeartbeat())]));
    expect(r.frames).toHaveLength(2);
    expect(r.frames[0]).toHaveLength(0);
  });

  it('gives the same frames at every split point and byte by byte', () => {
    for (let split = 0; split <= stream.length; split++) {
      const d = new FrameDecoder(1024);
      const frames = [
        ...d.push(stream.subarray(0, split)).frames,
        ...d.push(stream.subarray(split)).frames,
      ];
      expect(frames).toHaveLength(4);
    }
    const d = new FrameDecoder(1024);
    const frames: Uint8Array[] = [];
    for (const byte of stream) frames.push(...d.push(Uint8Array.of(byte)).frames);
    expect(frames).toHaveLength(4);
    expect(d.buffered).toBe(0);
  });

  it('reports a frame over the limit from its length prefix alone, then refuses everything', () => {
    const d = new FrameDecoder(100);
    const r = d.push(hex('00000065'));
    expect(r).toEqual({ ok: false, frames: [], tooLarge: 101 });
    expect(d.buffered).toBe(0);
    expect(d.push(frame(encodeHeartbeat())).ok).toBe(false);
    expect(new FrameDecoder(100).push(frame(new Uint8Array(100))).ok).toBe(true);
  });

  it.each(propertySeeds())('random chunking gives the frames written (seed %i)', (seed) => {
    fc.assert(
      fc.property(
        fc.array(fc.uint8Array({ maxLength: 64 }), { maxLength: 20 }),
        fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 50 }),
        (envelopes, cuts) => {
          const bytes = Buffer.concat(envelopes.map((e) => frame(e)));
          const d = new FrameDecoder(64);
          const out: Uint8Array[] = [];
          let at = 0;
          for (let i = 0; at < bytes.length; i++) {
            const n = cuts[i % cuts.length] as number;
            const r = d.push(bytes.subarray(at, at + n));
            expect(r.ok).toBe(true);
            out.push(...r.frames);
            at += n;
          }
          expect(out.map((f) => Buffer.from(f).toString('hex'))).toEqual(
            envelopes.map((e) => Buffer.from(e).toString('hex')),
          );
        },
      ),
      propertyParameters(seed, 200),
    );
  });

  it.each(propertySeeds())('random garbage never throws (seed %i)', (seed) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
        const d = new FrameDecoder(64);
        const r = d.push(bytes);
        for (const f of r.frames) decodeEnvelope(f);
      }),
      propertyParameters(seed, 300),
    );
  });
});
