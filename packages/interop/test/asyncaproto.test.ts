/**
 * The AsyncAProto server against a client written from AsyncAPY's protocol description
 * (LENGTH | VERSION 22 | ENCODING | PAYLOAD), on the memory transport and a TestClock;
 * plus one round trip over real TCP.
 */
import { connect as tcpConnect } from 'node:net';
import type { Duplex } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createMemoryNetwork, tcpTransport, type Transport } from '@herald/net';
import { TestClock } from '@herald/runtime';
import { Recorder, closeTestRuntimes, spawnProbe, testRuntime } from '@herald/testing';
import {
  AsyncaprotoListening,
  Router,
  asyncaprotoServerBehavior,
  decodeZiproto,
  encodeZiproto,
  filters,
  type AsyncaprotoRequest,
  type AsyncaprotoServerOptions,
} from '../src/index.js';

afterEach(closeTestRuntimes);

/**
 * ZiProto-Python's README: encode({"foo": "bar", "fruits": ['apple', 'banana']}) printed with
 * "fruits" first (the dict order of the Python that wrote it), so encode in that order.
 */
const ZIPROTO_README = Buffer.from('\x82\xa6fruits\x92\xa5apple\xa6banana\xa3foo\xa3bar', 'latin1');

interface Reply {
  readonly version: number;
  readonly encoding: number;
  readonly payload: unknown;
}

/** A client written from the protocol text: 4-byte big-endian LENGTH unless told otherwise. */
class Client {
  readonly replies = new Recorder<Reply>('replies', (r) => JSON.stringify(r.payload));
  readonly closed: Promise<void>;
  #buffer = Buffer.alloc(0);
  constructor(
    readonly stream: Duplex,
    readonly headerSize = 4,
    readonly little = false,
  ) {
    stream.on('data', (chunk: Buffer) => {
      this.#buffer = Buffer.concat([this.#buffer, chunk]);
      while (this.#buffer.length >= headerSize) {
        const length = little
          ? this.#buffer.readUIntLE(0, headerSize)
          : this.#buffer.readUIntBE(0, headerSize);
        if (this.#buffer.length < headerSize + length) break;
        const body = this.#buffer.subarray(headerSize, headerSize + length);
        this.#buffer = this.#buffer.subarray(headerSize + length);
        const encoding = body[1] as number;
        const raw = body.subarray(2);
        this.replies.record({
          version: body[0] as number,
          encoding,
          payload: encoding === 0 ? JSON.parse(raw.toString()) : decodeZiproto(raw),
        });
      }
    });
    stream.on('error', () => {});
    this.closed = new Promise((r) => stream.once('close', () => r()));
  }
  packet(version: number, encoding: number, body: Uint8Array): Buffer {
    const header = Buffer.alloc(this.headerSize);
    if (this.little) header.writeUIntLE(body.length + 2, 0, this.headerSize);
    else header.writeUIntBE(body.length + 2, 0, this.headerSize);
    return Buffer.concat([header, Uint8Array.of(version, encoding), body]);
  }
  json(payload: unknown): Buffer {
    return this.packet(22, 0, Buffer.from(JSON.stringify(payload)));
  }
  send(bytes: Uint8Array): void {
    this.stream.write(bytes);
  }
  next(): Promise<Reply> {
    return this.replies.next(() => true, { timeoutMs: 5_000, what: 'a reply' });
  }
}

function echoRouter(): Router<AsyncaprotoRequest> {
  return new Router<AsyncaprotoRequest>()
    .on(
      (ctx) =>
        ctx.reply({ status: 'success', echo: ctx.message.payload, via: ctx.message.encoding }),
      {
        filters: [filters.where((m) => m.payload['req'] === 'echo')],
        name: 'echo',
      },
    )
    .on(
      () => {
        throw new Error('broken handler');
      },
      { filters: [filters.where((m) => m.payload['req'] === 'fail')], name: 'fail' },
    )
    .on(
      (ctx) => ctx.reply({ status: 'success', group: 1, peer: ctx.peer.address?.split(':')[0] }),
      {
        group: 1,
        filters: [filters.where((m) => m.payload['req'] === 'two')],
      },
    );
}

async function server(options: Partial<AsyncaprotoServerOptions> = {}) {
  const network = createMemoryNetwork();
  const runtime = testRuntime({ clock: new TestClock() });
  const owner = await spawnProbe(runtime, 'owner');
  const transport: Transport = network.transport('api');
  runtime.spawn(
    asyncaprotoServerBehavior({
      bind: { host: 'api', port: 0 },
      transport,
      router: echoRouter(),
      owner: owner.address,
      ...options,
    }),
  );
  const { port } = (await owner.next(AsyncaprotoListening)).message;
  const client = async (headerSize = 4, little = false) =>
    new Client(
      (await network.transport('client').dial({ host: 'api', port })).stream,
      headerSize,
      little,
    );
  return { runtime, client };
}

const failureOf = (error: string) => ({ status: 'failure', error });

describe('AsyncAProto packets', () => {
  it('ZiProto is msgpack: the ZiProto-Python README bytes, both ways', () => {
    expect(
      Buffer.from(encodeZiproto({ fruits: ['apple', 'banana'], foo: 'bar' })).equals(
        ZIPROTO_README,
      ),
    ).toBe(true);
    expect(decodeZiproto(ZIPROTO_README)).toEqual({ foo: 'bar', fruits: ['apple', 'banana'] });
  });
});

describe('AsyncAProto server', () => {
  it('answers JSON in JSON and keeps the connection for the next request', async () => {
    const s = await server();
    const c = await s.client();
    c.send(c.json({ req: 'echo', n: 1 }));
    expect(await c.next()).toEqual({
      version: 22,
      encoding: 0,
      payload: { status: 'success', echo: { req: 'echo', n: 1 }, via: 'json' },
    });
    c.send(c.json({ req: 'two' }));
    expect((await c.next()).payload).toEqual({ status: 'success', group: 1, peer: 'client' });
  });

  it('answers ZiProto in ZiProto (the README fixture as a request)', async () => {
    const s = await server({
      router: new Router<AsyncaprotoRequest>().on((ctx) => ctx.reply({ got: ctx.message.payload })),
    });
    const c = await s.client();
    c.send(c.packet(22, 1, ZIPROTO_README));
    expect(await c.next()).toEqual({
      version: 22,
      encoding: 1,
      payload: { got: { foo: 'bar', fruits: ['apple', 'banana'] } },
    });
  });

  it('reads a packet delivered byte by byte, and two packets in one write', async () => {
    const s = await server();
    const c = await s.client();
    for (const byte of c.json({ req: 'echo', k: 'slow' })) c.send(Uint8Array.of(byte));
    expect((await c.next()).payload).toMatchObject({ echo: { k: 'slow' } });
    c.send(Buffer.concat([c.json({ req: 'echo', k: 1 }), c.json({ req: 'echo', k: 2 })]));
    expect((await c.next()).payload).toMatchObject({ echo: { k: 1 } });
    expect((await c.next()).payload).toMatchObject({ echo: { k: 2 } });
  });

  it('honours headerSize and little-endian byte order', async () => {
    const s = await server({ headerSize: 2, byteOrder: 'little' });
    const c = await s.client(2, true);
    c.send(c.json({ req: 'echo' }));
    expect((await c.next()).payload).toMatchObject({ status: 'success' });
  });

  it('groups: handlers of every matching group answer, in ascending order', async () => {
    const router = new Router<AsyncaprotoRequest>()
      .on((ctx) => ctx.reply({ from: 'second' }), { group: 5 })
      .on((ctx) => ctx.reply({ from: 'first' }), { group: 1 });
    const s = await server({ router });
    const c = await s.client();
    c.send(c.json({ any: 1 }));
    expect([(await c.next()).payload, (await c.next()).payload]).toEqual([
      { from: 'first' },
      { from: 'second' },
    ]);
  });

  const errors: [string, (c: Client) => Buffer, string, number][] = [
    [
      'a packet with no payload',
      (c) => c.packet(22, 0, new Uint8Array(0)),
      'ERR_REQUEST_MALFORMED',
      0,
    ],
    [
      'a version other than 22',
      (c) => c.packet(21, 0, Buffer.from('{"a":1}')),
      'ERR_HEADER_INVALID',
      0,
    ],
    [
      'an encoding other than 0 and 1',
      (c) => c.packet(22, 2, Buffer.from('{"a":1}')),
      'ERR_HEADER_INVALID',
      0,
    ],
    ['invalid JSON', (c) => c.packet(22, 0, Buffer.from('{"a":')), 'ERR_REQUEST_MALFORMED', 0],
    [
      'JSON that is not an object',
      (c) => c.packet(22, 0, Buffer.from('[1,2]')),
      'ERR_REQUEST_MALFORMED',
      0,
    ],
    ['an empty JSON object', (c) => c.json({}), 'ERR_REQUEST_MALFORMED', 0],
    [
      'invalid ZiProto (answered in ZiProto)',
      (c) => c.packet(22, 1, Uint8Array.of(0xc1)),
      'ERR_REQUEST_MALFORMED',
      1,
    ],
    [
      'ZiProto that is not a map',
      (c) => c.packet(22, 1, encodeZiproto([1, 2])),
      'ERR_REQUEST_MALFORMED',
      1,
    ],
    ['a handler that throws (Herald)', (c) => c.json({ req: 'fail' }), 'ERR_HANDLER_FAILED', 0],
    [
      'a request no handler takes (Herald; the reference stays silent)',
      (c) => c.json({ req: 'none' }),
      'ERR_NO_HANDLER',
      0,
    ],
    [
      'a LENGTH over maxPacketBytes (Herald; the reference has no limit)',
      (c) => c.packet(22, 0, Buffer.alloc(2000, 0x20)).subarray(0, 4),
      'ERR_REQUEST_TOO_LARGE',
      0,
    ],
  ];
  for (const [what, packet, error, encoding] of errors) {
    it(`answers ${what} with ${error}, then closes`, async () => {
      const s = await server({ maxPacketBytes: 1024 });
      const c = await s.client();
      c.send(packet(c));
      expect(await c.next()).toEqual({ version: 22, encoding, payload: failureOf(error) });
      await c.closed;
    });
  }

  it('answers ERR_TIMED_OUT and closes when no whole request comes within timeoutMs (TestClock)', async () => {
    const s = await server({ timeoutMs: 60_000 });
    const c = await s.client();
    c.send(c.json({ req: 'echo' }));
    await c.next();
    c.send(Buffer.from([0, 0])); // half a header
    await s.runtime.clock.advanceAsync(59_999);
    expect(c.replies.entries).toHaveLength(1);
    await s.runtime.clock.advanceAsync(1);
    expect((await c.next()).payload).toEqual(failureOf('ERR_TIMED_OUT'));
    await c.closed;
  });

  it('serves at most maxSessions connections and closes the ones beyond', async () => {
    const s = await server({ maxSessions: 1 });
    const first = await s.client();
    const second = await s.client();
    await second.closed;
    first.send(first.json({ req: 'echo' }));
    expect((await first.next()).payload).toMatchObject({ status: 'success' });
    expect(s.runtime.log.lines.some((l) => String(l['msg']).includes('too many sessions'))).toBe(
      true,
    );
  });

  it('closeAfterRequest closes after the first answer, as the reference does', async () => {
    const s = await server({ closeAfterRequest: true });
    const c = await s.client();
    c.send(c.json({ req: 'echo' }));
    await c.next();
    await c.closed;
  });

  it('serves a client over real TCP on 127.0.0.1', async () => {
    const runtime = testRuntime();
    const owner = await spawnProbe(runtime, 'owner');
    runtime.spawn(
      asyncaprotoServerBehavior({
        bind: { host: '127.0.0.1', port: 0 },
        transport: tcpTransport,
        router: echoRouter(),
        owner: owner.address,
      }),
    );
    const { port } = (await owner.next(AsyncaprotoListening)).message;
    const socket = tcpConnect(port, '127.0.0.1');
    const c = new Client(socket);
    c.send(c.packet(22, 1, encodeZiproto({ req: 'echo', x: 1.5 })));
    expect(await c.next()).toEqual({
      version: 22,
      encoding: 1,
      payload: { status: 'success', echo: { req: 'echo', x: 1.5 }, via: 'ziproto' },
    });
    socket.destroy();
  });
});
