/**
 * Bad input on real sockets: a Herald listener on 127.0.0.1 is sent garbage, broken
 * frames, wrong preambles, stalled handshakes, tampered ciphertext and mismatched
 * encryption. For each case: the server closes that one connection, logs a typed reason,
 * and still serves a well-behaved Herald client afterwards (docs/wire-protocol.md §5).
 */
import { fileURLToPath } from 'node:url';
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  CloseReason,
  DEFAULT_MAX_FRAME_BYTES,
  FrameDecoder,
  FrameKind,
  PREAMBLE_BYTES,
  closeReasonName,
  encodeCloseFrame,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
  type Hello,
  type WireEvent,
} from '../src/wire/index.js';
import {
  DEFAULT_WAIT_MS,
  propertyParameters,
  propertySeeds,
  spawnScript,
  startFaultRelay,
  withTimeout,
  type FaultRelay,
  type LogLine,
} from '@herald/testing';
import {
  Abandoned,
  Accepted,
  Connected,
  Echo,
  EchoReply,
  LEVEL_WARN,
  NotConnected,
  isRejection,
  peerKey,
  rawConnect,
  roundTrip,
  startClient,
  startServer,
  type RawClient,
  type TestClient,
  type TestServer,
} from './support/harness.js';

// ---- resources, closed after every test -------------------------------------------------

const servers: TestServer[] = [];
const clients: TestClient[] = [];
const raws: RawClient[] = [];
const relays: FaultRelay[] = [];

afterEach(async () => {
  for (const raw of raws.splice(0)) raw.socket.destroy();
  await Promise.all(relays.splice(0).map((relay) => relay.close()));
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(servers.splice(0).map((server) => server.close()));
});

async function server(options: Parameters<typeof startServer>[0] = {}): Promise<TestServer> {
  const s = await startServer(options);
  servers.push(s);
  return s;
}

async function raw(port: number): Promise<RawClient> {
  const r = await rawConnect(port);
  raws.push(r);
  return r;
}

// ---- bytes a peer might send ------------------------------------------------------------

function concat(...parts: readonly Uint8Array[]): Uint8Array {
  return Buffer.concat(parts.map((p) => Buffer.from(p.buffer, p.byteOffset, p.byteLength)));
}

function helloFrame(hello: Partial<Hello> = {}): Uint8Array {
  return encodeFrame(
    FrameKind.HELLO,
    encodeHelloBody({
      encrypt: false,
      maxFrameBytes: DEFAULT_MAX_FRAME_BYTES,
      keepaliveMs: 0,
      ephemeralKey: null,
      ...hello,
    }),
  );
}

/** Preamble + clear HELLO: the opening of a well-behaved clear connector. */
const CLEAR_OPENING = concat(encodePreamble(), helloFrame());
const OVERSIZED_LENGTH = Uint8Array.of(0xff, 0xff, 0xff, 0xff);
const WRONG_MAGIC = new TextEncoder().encode('GET / HTTP/1.1\r\nHost: herald\r\n\r\n');

/** Close reasons a server may give when it drops a connection. */
const REASON_NAMES = new Set(Object.values(CloseReason).map((code) => closeReasonName(code)));

/** What the server sent to a raw client: its HELLO, then the events after it. */
function decodeServerBytes(bytes: Uint8Array): { hello: Hello | undefined; after: WireEvent[] } {
  const decoder = new FrameDecoder();
  const first = decoder.push(bytes);
  const hello = first[0]?.type === 'hello' ? first[0].hello : undefined;
  const after = hello === undefined ? first : decoder.open(null);
  return { hello, after };
}

function closeEvent(events: readonly WireEvent[]): { reason: string; text: string } | undefined {
  const close = events.find((e) => e.type === 'close');
  return close?.type === 'close' ? { reason: close.reason, text: close.text } : undefined;
}

/**
 * Sends `bytes` on a fresh raw connection (then FIN when `fin`), waits for the server to
 * close it and for the server's log line saying why. Returns the line and the client.
 */
async function sendBad(
  s: TestServer,
  bytes: Uint8Array,
  options: { fin?: boolean; timeoutMs?: number } = {},
): Promise<{ line: LogLine; client: RawClient }> {
  const client = await raw(s.port);
  const peer = peerKey(client.socket);
  if (bytes.length > 0) client.socket.write(bytes);
  if (options.fin === true) client.socket.end();
  await withTimeout(
    client.closed,
    options.timeoutMs ?? DEFAULT_WAIT_MS,
    `the server to close the connection from ${peer}`,
  );
  const line = await s.log.waitFor(
    (l) => l.peer === peer && isRejection(l),
    `the server's rejection of ${peer}`,
  );
  return { line, client };
}

/** The listener is alive and a Herald client gets its reply. */
async function expectStillServing(s: TestServer, options: { encrypted?: boolean } = {}) {
  expect(s.runtime.closed).toBe(false);
  expect(s.runtime.isAlive(s.listener)).toBe(true);
  const reply = await roundTrip(s.port, options, 7);
  expect(reply.n).toBe(7);
}

// ---- the cases --------------------------------------------------------------------------

describe('listener - bad input from a raw socket', () => {
  it('closes each connection that sends random bytes with a typed reason, and keeps serving', async () => {
    const s = await server({ handshakeTimeoutMs: 1000 });
    const tail = fc.uint8Array({ minLength: 1, maxLength: 300 });
    const garbage = fc.oneof(
      tail,
      tail.map((t) => concat(encodePreamble(), t)),
      tail.map((t) => concat(CLEAR_OPENING, t)),
    );
    const seen = new Map<string, number>();
    for (const seed of propertySeeds()) {
      await fc.assert(
        fc.asyncProperty(garbage, async (bytes) => {
          const client = await raw(s.port);
          const peer = peerKey(client.socket);
          client.socket.end(bytes); // FIN after the bytes: a partial frame cannot wait forever
          await withTimeout(
            client.closed,
            DEFAULT_WAIT_MS,
            `the server to close the connection from ${peer}`,
          );
          // The proxy's last line for this connection, whatever happened.
          const last = await s.log.waitFor(
            (l) =>
              l.peer === peer &&
              (l.msg === 'connection rejected before accept' || l.msg === 'abandoned'),
            `the end of the connection from ${peer}`,
          );
          const rejection = s.log.lines.find((l) => l.peer === peer && isRejection(l));
          if (rejection !== undefined) {
            expect(rejection.level).toBe(LEVEL_WARN);
            expect(REASON_NAMES).toContain(rejection.reason);
            expect(last.reason).toBe(rejection.reason);
          } else {
            // Only when the garbage happened to be a complete, valid stream (the FIN then
            // ends it cleanly) or ended with a CLOSE of its own.
            expect(typeof last.reason).toBe('string');
          }
          const reason = String(last.reason);
          seen.set(reason, (seen.get(reason) ?? 0) + 1);
        }),
        propertyParameters(seed, 120),
      );
    }
    // The three shapes of garbage reach different checks in the decoder.
    expect(seen.get('protocol-error') ?? 0).toBeGreaterThan(0);
    expect(seen.get('frame-too-large') ?? 0).toBeGreaterThan(0);
    await expectStillServing(s);
  });

  it('rejects a length prefix of 0xFFFFFFFF after the preamble with frame-too-large and CLOSE', async () => {
    const s = await server();
    const { line, client } = await sendBad(s, concat(encodePreamble(), OVERSIZED_LENGTH));
    expect(line.reason).toBe('frame-too-large');
    expect(line.code).toBe('HERALD_ERR_WIRE_FRAME_TOO_LARGE');
    const sent = decodeServerBytes(client.bytes());
    expect(closeEvent(sent.after)?.reason).toBe('frame-too-large');
    await expectStillServing(s);
  });

  it('rejects a length prefix of 0xFFFFFFFF after the handshake and reports Abandoned', async () => {
    const s = await server();
    const { line } = await sendBad(s, concat(CLEAR_OPENING, OVERSIZED_LENGTH));
    expect(line.reason).toBe('frame-too-large');
    await s.controller.waitFor(Accepted);
    const abandoned = await s.controller.waitFor(Abandoned);
    expect(abandoned.reason).toBe('frame-too-large');
    await expectStillServing(s);
  });

  it('reports a HELLO frame cut short by FIN as protocol-error', async () => {
    const s = await server();
    const hello = helloFrame();
    const { line } = await sendBad(s, concat(encodePreamble(), hello.subarray(0, 7)), {
      fin: true,
    });
    expect(line.reason).toBe('protocol-error');
    expect(line.code).toBe('HERALD_ERR_WIRE_TRUNCATED');
    await expectStillServing(s);
  });

  it('reports a frame cut short by FIN after the handshake as protocol-error and Abandoned', async () => {
    const s = await server();
    const ping = encodeFrame(FrameKind.PING, Uint8Array.of(0, 0, 0, 1));
    const { line } = await sendBad(s, concat(CLEAR_OPENING, ping.subarray(0, 6)), { fin: true });
    expect(line.reason).toBe('protocol-error');
    expect(line.code).toBe('HERALD_ERR_WIRE_TRUNCATED');
    const abandoned = await s.controller.waitFor(Abandoned);
    expect(abandoned.reason).toBe('protocol-error');
    await expectStillServing(s);
  });

  it('answers a version-1 preamble with CLOSE version-unsupported naming both versions', async () => {
    const s = await server();
    const { line, client } = await sendBad(s, concat(encodePreamble(1), helloFrame()));
    expect(line.reason).toBe('version-unsupported');
    expect(line.code).toBe('HERALD_ERR_WIRE_VERSION_UNSUPPORTED');
    const close = closeEvent(decodeServerBytes(client.bytes()).after);
    expect(close?.reason).toBe('version-unsupported');
    expect(close?.text).toBe('peer speaks protocol version 1; this side speaks 3');
    await expectStillServing(s);
  });

  it('drops a connection whose first bytes are not "HRLD" as protocol-error', async () => {
    const s = await server();
    const { line } = await sendBad(s, WRONG_MAGIC);
    expect(line.reason).toBe('protocol-error');
    expect(line.code).toBe('HERALD_ERR_WIRE_BAD_MAGIC');
    expect(s.controller.all(Accepted)).toHaveLength(0);
    await expectStillServing(s);
  });

  it('sends no CLOSE frame to a peer with the wrong magic (not our protocol)', async () => {
    const s = await server();
    const { client } = await sendBad(s, WRONG_MAGIC);
    const sent = decodeServerBytes(client.bytes());
    expect(sent.hello).toBeDefined(); // the server's own opening went out before it read anything
    expect(sent.after).toEqual([]);
  });

  it('closes a handshake that stops after the preamble with handshake-timeout', async () => {
    const s = await server({ handshakeTimeoutMs: 200 });
    const { line, client } = await sendBad(s, encodePreamble());
    expect(line.reason).toBe('handshake-timeout');
    expect(closeEvent(decodeServerBytes(client.bytes()).after)?.reason).toBe('handshake-timeout');
    await expectStillServing(s);
  });

  it('closes a connection that sends nothing with handshake-timeout', async () => {
    const s = await server({ handshakeTimeoutMs: 200 });
    const { line, client } = await sendBad(s, new Uint8Array(0));
    expect(line.reason).toBe('handshake-timeout');
    expect(closeEvent(decodeServerBytes(client.bytes()).after)?.reason).toBe('handshake-timeout');
    expect(s.controller.all(Accepted)).toHaveLength(0);
    await expectStillServing(s);
  });

  it('ends a connection that sends a clear CLOSE instead of HELLO without a rejection', async () => {
    const s = await server();
    const client = await raw(s.port);
    const peer = peerKey(client.socket);
    client.socket.write(concat(encodePreamble(), encodeCloseFrame(CloseReason.GOING_AWAY, 'bye')));
    await withTimeout(
      client.closed,
      DEFAULT_WAIT_MS,
      `the server to close the connection from ${peer}`,
    );
    const last = await s.log.waitFor(
      (l) => l.peer === peer && l.msg === 'connection rejected before accept',
      'the end of the closed connection',
    );
    expect(last.reason).toBe('going-away');
    expect(s.log.lines.filter((l) => l.peer === peer && isRejection(l))).toEqual([]);
    await expectStillServing(s);
  });
});

describe('listener - Herald peers through a relay', () => {
  it.each([false, true])(
    'accepts a valid handshake and message delivered one byte per turn, and replies (encrypted=%s)',
    async (encrypted) => {
      const s = await server({ encrypted });
      const relay = await startFaultRelay({
        target: { host: '127.0.0.1', port: s.port },
        byteByByte: true,
      });
      relays.push(relay);
      const reply = await roundTrip(relay.port, { encrypted }, 99);
      expect(reply.n).toBe(99);
      // Every byte, both ways, went out as a write of its own.
      expect(relay.forwardedBytes).toBeGreaterThan(2 * CLEAR_OPENING.length);
      expect(relay.writes).toBe(relay.forwardedBytes);
      expect(s.log.lines.filter(isRejection)).toEqual([]);
      await expectStillServing(s, { encrypted });
    },
  );

  it('closes with decrypt-failed when one bit of a sealed record is flipped; the client gets Abandoned', async () => {
    const s = await server({ encrypted: true });
    // The client's opening is the preamble and its handshake frames (HELLO, AUTH); after
    // them every frame is SEALED. Frames are followed as they pass, and one bit inside the
    // first SEALED record's Poly1305 tag is flipped.
    let seen = Buffer.alloc(0);
    let next = PREAMBLE_BYTES;
    let target = -1;
    let flipped = false;
    const relay = await startFaultRelay({
      target: { host: '127.0.0.1', port: s.port },
      rewrite: (chunk, direction, offset) => {
        if (direction !== 'to-target') return chunk;
        seen = Buffer.concat([seen, chunk]);
        while (target < 0 && seen.length >= next + 5) {
          if (seen[next + 4] === FrameKind.SEALED) target = next + 5 + 3;
          else next += 4 + seen.readUInt32BE(next);
        }
        if (target < offset || target >= offset + chunk.length) return chunk;
        const copy = Buffer.from(chunk);
        copy[target - offset] = (copy[target - offset] as number) ^ 0x10;
        flipped = true;
        return copy;
      },
    });
    relays.push(relay);
    const client = await startClient(relay.port, { encrypted: true });
    clients.push(client);
    const connected = await client.controller.waitFor(Connected);
    expect(connected.encrypted).toBe(true);
    client.runtime.send(connected.remote, Echo({ n: 1 }), client.address);

    const rejection = await s.log.waitFor(isRejection, 'the server to reject the tampered record');
    expect(rejection.reason).toBe('decrypt-failed');
    expect(rejection.code).toBe('HERALD_ERR_WIRE_DECRYPT_FAILED');
    expect(flipped).toBe(true);
    expect((await s.controller.waitFor(Abandoned)).reason).toBe('decrypt-failed');
    const abandoned = await client.controller.waitFor(Abandoned);
    expect(abandoned.reason).toBe('decrypt-failed');
    expect(client.controller.all(EchoReply)).toEqual([]);
    expect(s.controller.all(Echo)).toEqual([]);
    await expectStillServing(s, { encrypted: true });
  });
});

describe('listener - encryption mismatch', () => {
  it('refuses an encrypted client on a clear listener: NotConnected(encryption-required) there, encryption-refused here', async () => {
    const s = await server({ encrypted: false });
    const client = await startClient(s.port, { encrypted: true });
    clients.push(client);
    const notConnected = await client.controller.waitFor(NotConnected);
    expect(notConnected.reason).toBe('encryption-required');
    const line = await s.log.waitFor(isRejection, 'the server to reject the encrypted client');
    expect(line.reason).toBe('encryption-refused');
    expect(line.code).toBe('HERALD_ERR_WIRE_ENCRYPTION_REFUSED');
    expect(s.controller.all(Accepted)).toHaveLength(0);
    await expectStillServing(s);
  });

  it('refuses a clear client on an encrypted listener: NotConnected(encryption-refused) there, encryption-required here', async () => {
    const s = await server({ encrypted: true });
    const client = await startClient(s.port, { encrypted: false });
    clients.push(client);
    const notConnected = await client.controller.waitFor(NotConnected);
    expect(notConnected.reason).toBe('encryption-refused');
    const line = await s.log.waitFor(isRejection, 'the server to reject the clear client');
    expect(line.reason).toBe('encryption-required');
    expect(line.code).toBe('HERALD_ERR_WIRE_ENCRYPTION_REQUIRED');
    expect(s.controller.all(Accepted)).toHaveLength(0);
    await expectStillServing(s, { encrypted: true });
  });
});

// ---- memory -----------------------------------------------------------------------------

interface HeapReport {
  readonly before: number;
  readonly after: number;
  readonly connections: number;
  readonly warmup: number;
  readonly actorsLeft: number;
  readonly proxiesLeft: number;
  readonly socketsLeft: number;
  readonly ms: number;
}

async function runHeapFixture(timeoutMs: number): Promise<HeapReport> {
  const fixture = fileURLToPath(new URL('./fixtures/heap-bad-connections.ts', import.meta.url));
  const root = fileURLToPath(new URL('../../..', import.meta.url));
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

describe('listener - memory under bad connections', () => {
  it('does not grow the heap over 1,000 rejected connections', async () => {
    const report = await runHeapFixture(50_000);
    expect(report.connections).toBe(1000);
    expect(report.actorsLeft).toBe(0);
    expect(report.proxiesLeft).toBe(0);
    expect(report.socketsLeft).toBe(0);
    expect(report.after - report.before, JSON.stringify(report)).toBeLessThanOrEqual(
      5 * 1024 * 1024,
    );
  }, 60_000);
});
