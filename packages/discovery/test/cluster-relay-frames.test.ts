/**
 * The relay protocol's framing against hostile input, in memory (no NATS): the decoder is
 * total (any bytes give a frame or `malformed`, never a throw, and a frame it accepts is the
 * canonical encoding of itself); and a relay stream fed any mix of good frames, sequence
 * gaps, repeats, garbage and oversized frames either carries the bytes whole and in order
 * or closes with the typed reason of the first violation.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { TestClock } from '@herald/runtime';
import { propertyParameters, propertySeeds } from '@herald/testing';
import { RelayStreamError } from '../src/cluster/errors.js';
import {
  decodeRelayFrame,
  encodeAccept,
  encodeAck,
  encodeConnect,
  encodeData,
  encodeFin,
  encodePing,
  encodeRefuse,
  encodeReset,
  isRelaySubject,
  type RelayFrame,
} from '../src/cluster/relay-frames.js';
import { RelayStream } from '../src/cluster/relay-stream.js';

const MAX_CHUNK = 1024;

function encode(frame: RelayFrame): Uint8Array {
  switch (frame.type) {
    case 'connect':
      return encodeConnect(frame.window, frame.port, frame.host);
    case 'accept':
      return encodeAccept(frame.seq, frame.window, frame.subject);
    case 'refuse':
      return encodeRefuse();
    case 'data':
      return encodeData(frame.seq, frame.bytes);
    case 'ack':
      return encodeAck(frame.seq, frame.consumed);
    case 'fin':
      return encodeFin(frame.seq);
    case 'reset':
      return encodeReset(frame.seq, frame.reason);
    case 'ping':
      return encodePing(frame.seq);
  }
}

const subject = fc
  .array(fc.stringMatching(/^[A-Za-z0-9_-]{1,12}$/), { minLength: 1, maxLength: 4 })
  .map((tokens) => tokens.join('.'));
const seq = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const frames: fc.Arbitrary<RelayFrame> = fc.oneof(
  fc.record({
    type: fc.constant('connect' as const),
    version: fc.constant(1),
    window: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    port: fc.integer({ min: 0, max: 2 ** 32 - 1 }),
    host: subject,
  }),
  fc.record({
    type: fc.constant('accept' as const),
    seq,
    window: fc.integer({ min: 1, max: 2 ** 32 - 1 }),
    subject,
  }),
  fc.constant({ type: 'refuse' as const }),
  fc.record({
    type: fc.constant('data' as const),
    seq,
    bytes: fc.uint8Array({ minLength: 1, maxLength: MAX_CHUNK }),
  }),
  fc.record({
    type: fc.constant('ack' as const),
    seq,
    consumed: fc.integer({ min: 0, max: 2 ** 48 - 1 }),
  }),
  fc.record({ type: fc.constant('fin' as const), seq }),
  fc.record({
    type: fc.constant('reset' as const),
    seq,
    reason: fc.constantFrom(
      'closed' as const,
      'malformed' as const,
      'sequence-gap' as const,
      'window-exceeded' as const,
      'peer-timeout' as const,
      'peer-reset' as const,
      'nats-closed' as const,
    ),
  }),
  fc.record({ type: fc.constant('ping' as const), seq }),
);

describe('relay frames - the decoder', () => {
  it.each(propertySeeds())('frames - every frame decodes to itself (seed %i)', (seed) => {
    fc.assert(
      fc.property(frames, (frame) => {
        const decoded = decodeRelayFrame(encode(frame), MAX_CHUNK);
        expect(decoded.type).not.toBe('malformed');
        const normal = (f: RelayFrame | { type: 'malformed' }) =>
          f.type === 'data' ? { ...f, bytes: Buffer.from(f.bytes).toString('hex') } : f;
        expect(normal(decoded as RelayFrame)).toEqual(normal(frame));
      }),
      propertyParameters(seed, 300),
    );
  });

  it.each(propertySeeds())(
    'frames - any bytes give a frame that re-encodes to exactly those bytes, or malformed; never a throw (seed %i)',
    (seed) => {
      const bytes = fc.oneof(
        fc.uint8Array({ maxLength: 64 }),
        // Near-misses: a real frame with a byte changed, cut short or extended.
        fc
          .tuple(
            frames,
            fc.nat(),
            fc.integer({ min: 0, max: 255 }),
            fc.integer({ min: -3, max: 3 }),
          )
          .map(([frame, at, value, grow]) => {
            const good = Buffer.from(encode(frame));
            if (good.length > 0) good[at % good.length] = value;
            if (grow < 0) return good.subarray(0, Math.max(0, good.length + grow));
            return Buffer.concat([good, Buffer.alloc(grow, value)]);
          }),
      );
      fc.assert(
        fc.property(bytes, (payload) => {
          const decoded = decodeRelayFrame(payload, MAX_CHUNK);
          if (decoded.type === 'malformed') {
            expect(decoded.detail.length).toBeGreaterThan(0);
            return;
          }
          expect(Buffer.from(encode(decoded)).equals(Buffer.from(payload))).toBe(true);
          if (decoded.type === 'data') expect(decoded.bytes.length).toBeLessThanOrEqual(MAX_CHUNK);
          if (decoded.type === 'accept') expect(isRelaySubject(decoded.subject)).toBe(true);
          if (decoded.type === 'connect') expect(isRelaySubject(decoded.host)).toBe(true);
        }),
        propertyParameters(seed, 2_000),
      );
    },
  );

  it('frames - a DATA frame larger than the chunk size, empty, or a subject with a wildcard is malformed', () => {
    expect(decodeRelayFrame(encodeData(1, new Uint8Array(MAX_CHUNK + 1)), MAX_CHUNK)).toMatchObject(
      {
        type: 'malformed',
      },
    );
    expect(decodeRelayFrame(encodeData(1, new Uint8Array(0)), MAX_CHUNK)).toMatchObject({
      type: 'malformed',
    });
    expect(decodeRelayFrame(encodeAccept(0, 10, 'a.*'), MAX_CHUNK)).toMatchObject({
      type: 'malformed',
    });
    expect(decodeRelayFrame(encodeAccept(0, 10, 'a..b'), MAX_CHUNK)).toMatchObject({
      type: 'malformed',
    });
    expect(decodeRelayFrame(encodeConnect(10, 1, 'a b'), MAX_CHUNK)).toMatchObject({
      type: 'malformed',
    });
    expect(decodeRelayFrame(new Uint8Array(0), MAX_CHUNK)).toMatchObject({ type: 'malformed' });
  });
});

/** One input to a stream under test. */
type Input =
  | { readonly kind: 'data'; readonly bytes: Uint8Array; readonly skew: number }
  | { readonly kind: 'ping'; readonly skew: number }
  | { readonly kind: 'garbage'; readonly bytes: Uint8Array };

const inputs: fc.Arbitrary<Input> = fc.oneof(
  {
    weight: 8,
    arbitrary: fc.record({
      kind: fc.constant('data' as const),
      bytes: fc.uint8Array({ minLength: 1, maxLength: MAX_CHUNK }),
      skew: fc.oneof(
        { weight: 12, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -2, max: 3 }) },
      ),
    }),
  },
  {
    weight: 2,
    arbitrary: fc.record({
      kind: fc.constant('ping' as const),
      skew: fc.oneof(
        { weight: 12, arbitrary: fc.constant(0) },
        { weight: 1, arbitrary: fc.integer({ min: -2, max: 3 }) },
      ),
    }),
  },
  {
    weight: 1,
    arbitrary: fc.record({
      kind: fc.constant('garbage' as const),
      bytes: fc.uint8Array({ maxLength: 16 }),
    }),
  },
);

/** A dialing-end stream (its peer's ACCEPT was seq 0) whose frames out are recorded. */
function streamUnderTest(
  window: number,
  highWaterMark = 16 * 1024,
): { stream: RelayStream; sent: Uint8Array[] } {
  const sent: Uint8Array[] = [];
  const stream = new RelayStream({
    publish: (_subject, frame) => sent.push(frame),
    peerSubject: 'peer.s.x',
    peerWindow: window,
    window,
    maxChunkBytes: MAX_CHUNK,
    keepaliveMs: 1_000,
    timeoutMs: 5_000,
    clock: new TestClock(),
    highWaterMark,
    local: { host: 'me', port: 1 },
    remote: { host: 'peer', port: 2 },
    onGone: () => {},
  });
  return { stream, sent };
}

describe('relay frames - a stream fed hostile input', () => {
  it.each(propertySeeds())(
    'stream - bytes arrive whole and in order, or the stream closes with the reason of the first violation (seed %i)',
    async (seed) => {
      await fc.assert(
        fc.asyncProperty(fc.array(inputs, { maxLength: 40 }), async (list) => {
          // A window larger than anything sent: this property is about sequence and shape.
          const window = 1 << 30;
          const { stream, sent } = streamUnderTest(window);
          const received: Buffer[] = [];
          stream.on('data', (chunk: Buffer) => received.push(chunk));
          const outcome = new Promise<RelayStreamError | 'end'>((resolve) => {
            stream.once('error', (error: RelayStreamError) => resolve(error));
            stream.once('end', () => resolve('end'));
          });
          let expected = 1;
          let violation: string | undefined;
          const accepted: Uint8Array[] = [];
          for (const input of list) {
            let payload: Uint8Array;
            if (input.kind === 'garbage') payload = input.bytes;
            else {
              const s = Math.max(0, expected + input.skew);
              payload = input.kind === 'data' ? encodeData(s, input.bytes) : encodePing(s);
            }
            // The model: what the first broken rule is, decided by the decoder's verdict.
            const frame = decodeRelayFrame(payload, window);
            if (violation === undefined) {
              if (frame.type === 'malformed') violation = 'malformed';
              else if (
                frame.type === 'connect' ||
                frame.type === 'refuse' ||
                frame.type === 'accept'
              )
                violation = 'malformed';
              else if (frame.seq !== expected) violation = 'sequence-gap';
              else if (frame.type === 'fin' || frame.type === 'reset') violation = 'ended';
              else if (frame.type === 'ack')
                violation = frame.consumed === 0 ? undefined : 'malformed';
              else if (frame.type === 'data') accepted.push(frame.bytes.slice());
              if (violation === undefined) expected++;
            }
            stream.receive(payload);
          }
          if (violation === 'ended') return; // a garbage FIN/RESET that happened to be valid
          if (violation === undefined) {
            stream.receive(encodeFin(expected));
            stream.end();
            expect(await outcome).toBe('end');
            expect(Buffer.concat(received).equals(Buffer.concat(accepted))).toBe(true);
          } else {
            // A violation destroys the stream at once (synchronously, in receive()).
            expect(stream.destroyed).toBe(true);
            const error = await outcome;
            expect(error).toBeInstanceOf(RelayStreamError);
            expect((error as RelayStreamError).reason).toBe(violation);
            // The peer was told: the last frame out is a RESET naming the same reason.
            const last = decodeRelayFrame(sent[sent.length - 1] as Uint8Array, MAX_CHUNK);
            expect(last).toMatchObject({ type: 'reset', reason: violation });
          }
          // Whatever came in, what went out is a proper sequence of well-formed frames.
          sent.forEach((frame, i) => {
            const decoded = decodeRelayFrame(frame, MAX_CHUNK);
            expect(decoded.type).not.toBe('malformed');
            expect((decoded as { seq: number }).seq).toBe(i);
          });
        }),
        propertyParameters(seed, 200),
      );
    },
  );

  it('stream - a DATA frame larger than the window is malformed; a peer with a larger chunk size than ours is fine', async () => {
    const { stream: big } = streamUnderTest(4 * MAX_CHUNK);
    const received: Buffer[] = [];
    big.on('data', (chunk: Buffer) => received.push(chunk));
    big.receive(encodeData(1, new Uint8Array(2 * MAX_CHUNK).fill(3)));
    expect(big.destroyed).toBe(false);
    const failed = new Promise<RelayStreamError>((resolve) => big.once('error', resolve));
    big.receive(encodeData(2, new Uint8Array(4 * MAX_CHUNK + 1)));
    expect((await failed).reason).toBe('malformed');
    expect(Buffer.concat(received).length).toBe(2 * MAX_CHUNK);
  });

  it('stream - a peer past the window it was given is closed with window-exceeded, at the first byte too many', async () => {
    const window = 4 * MAX_CHUNK;
    // A reader that takes nothing (high-water mark 1, paused) acknowledges nothing.
    const { stream } = streamUnderTest(window, 1);
    stream.pause();
    const failed = new Promise<RelayStreamError>((resolve) => stream.once('error', resolve));
    // Exactly the window is allowed.
    for (let i = 1; i <= 4; i++) stream.receive(encodeData(i, new Uint8Array(MAX_CHUNK)));
    expect(stream.destroyed).toBe(false);
    stream.receive(encodeData(5, new Uint8Array(1)));
    expect((await failed).reason).toBe('window-exceeded');
  });
});
