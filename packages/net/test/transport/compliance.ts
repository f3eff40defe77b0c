/**
 * The transport compliance suite: what every Transport must do, registered as vitest tests
 * by `transportCompliance(name, factory)`. Each transport's test file calls it once (tcp,
 * memory, tls, http-connect); a new transport is held to the same contract by adding one
 * more call. Model: libp2p's interface-compliance-tests.
 *
 * Every wait is on an event and bounded by WAIT_MS, so a broken transport fails with a
 * message instead of hanging. Everything a test opens is closed in afterEach.
 */
import { createCipheriv, createHash } from 'node:crypto';
import type { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type {
  Transport,
  TransportAddress,
  TransportConnection,
  TransportListener,
} from '../../src/transport/transport.js';

/** Bound on every wait in the suite. */
export const WAIT_MS = 10_000;

/** What the suite needs from a transport under test. */
export interface ComplianceSetup {
  /** The transport that listens. */
  readonly server: Transport;
  /** The transport that dials (the same one for most transports). */
  readonly client: Transport;
  /** Where to listen, with port 0. */
  readonly listenAt: TransportAddress;
  /** Codes a dial to a port where nothing listens may fail with; default ['ECONNREFUSED']. */
  readonly refusedCodes?: readonly string[];
  /**
   * False when the accepting end sees a go-between rather than the dialer (a CONNECT proxy),
   * so its remote address is not the dialer's local address. Default true.
   */
  readonly direct?: boolean;
  /** Releases what the set-up made (a proxy server, a network). */
  close?(): Promise<void>;
}

/** Resolves with the first `event` of `emitter`, or fails after WAIT_MS naming what was awaited. */
export function once<T = unknown>(emitter: EventEmitter, event: string, what = event): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(() => {
      emitter.removeListener(event, onEvent);
      reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`));
    }, WAIT_MS);
    const onEvent = (value: T): void => {
      clearTimeout(timer);
      resolve(value);
    };
    emitter.once(event, onEvent);
  });
}

/** Bounds a promise by WAIT_MS. */
export function within<T>(promise: Promise<T>, what: string): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`timed out after ${WAIT_MS} ms waiting for ${what}`)),
      WAIT_MS,
    );
    promise.then(
      (value) => {
        clearTimeout(timer);
        resolve(value);
      },
      (error: unknown) => {
        clearTimeout(timer);
        reject(error as Error);
      },
    );
  });
}

/** Reads `stream` to its end. */
export function readAll(stream: Duplex): Promise<Buffer> {
  const chunks: Buffer[] = [];
  stream.on('data', (chunk: Buffer) => chunks.push(chunk));
  return once(stream, 'end', 'the end of the stream').then(() => Buffer.concat(chunks));
}

/** Reads until `bytes` bytes have arrived (more may follow later). */
export function readBytes(stream: Duplex, bytes: number): Promise<Buffer> {
  return within(
    new Promise<Buffer>((resolve, reject) => {
      const chunks: Buffer[] = [];
      let got = 0;
      const onData = (chunk: Buffer): void => {
        chunks.push(chunk);
        got += chunk.length;
        if (got >= bytes) {
          stream.removeListener('data', onData);
          stream.pause();
          resolve(Buffer.concat(chunks));
        }
      };
      stream.on('data', onData);
      stream.once('error', reject);
    }),
    `${bytes} bytes`,
  );
}

/** Deterministic pseudo-random bytes (AES-CTR of zeros keyed by `salt`): order errors show. */
export function patternBytes(length: number, salt: number): Buffer {
  const key = createHash('sha256').update(`pattern:${salt}`).digest().subarray(0, 16);
  const cipher = createCipheriv('aes-128-ctr', key, Buffer.alloc(16));
  return Buffer.concat([cipher.update(Buffer.alloc(length)), cipher.final()]);
}

/** Accepted connections in arrival order. */
class Accepts {
  readonly #waiting: ((connection: TransportConnection) => void)[] = [];
  readonly #ready: TransportConnection[] = [];
  count = 0;

  readonly onConnection = (connection: TransportConnection): void => {
    this.count++;
    const waiter = this.#waiting.shift();
    if (waiter !== undefined) waiter(connection);
    else this.#ready.push(connection);
  };

  next(): Promise<TransportConnection> {
    const ready = this.#ready.shift();
    if (ready !== undefined) return Promise.resolve(ready);
    return within(new Promise((resolve) => this.#waiting.push(resolve)), 'an accepted connection');
  }
}

/** Registers the compliance tests for one transport. */
export function transportCompliance(
  name: string,
  factory: () => ComplianceSetup | Promise<ComplianceSetup>,
): void {
  describe(`transport compliance: ${name}`, () => {
    let setup: ComplianceSetup;
    const streams: Duplex[] = [];
    const listeners: TransportListener[] = [];

    beforeEach(async () => {
      setup = await factory();
    });

    afterEach(async () => {
      for (const stream of streams.splice(0)) stream.destroy();
      for (const listener of listeners.splice(0)) await listener.close();
      await setup.close?.();
    });

    /** Tracks a connection's stream for cleanup; errors after a test's point are ignored. */
    const track = (connection: TransportConnection): TransportConnection => {
      streams.push(connection.stream);
      connection.stream.on('error', () => {});
      return connection;
    };

    async function listen(): Promise<{ listener: TransportListener; accepts: Accepts }> {
      const accepts = new Accepts();
      const listener = await setup.server.listen(setup.listenAt, (connection) =>
        accepts.onConnection(track(connection)),
      );
      listeners.push(listener);
      return { listener, accepts };
    }

    async function pair(): Promise<{
      listener: TransportListener;
      accepts: Accepts;
      client: TransportConnection;
      server: TransportConnection;
    }> {
      const { listener, accepts } = await listen();
      const client = track(await within(setup.client.dial(listener.address), 'dial'));
      const server = await accepts.next();
      return { listener, accepts, client, server };
    }

    async function expectRefused(to: TransportAddress): Promise<void> {
      const codes = setup.refusedCodes ?? ['ECONNREFUSED'];
      const error = await within(setup.client.dial(to), 'a refused dial').then(
        (connection) => {
          track(connection);
          throw new Error(`dial to ${to.host}:${to.port} succeeded; expected ${codes.join('|')}`);
        },
        (failure: unknown) => failure as { code?: string },
      );
      expect(codes).toContain(error.code);
    }

    it(`${name} - listening on port 0 gives a real port, and a dial reaches it`, async () => {
      const { listener, accepts, client, server } = await pair();
      expect(listener.address.port).toBeGreaterThan(0);
      expect(listener.address.port).not.toBe(setup.listenAt.port);
      expect(accepts.count).toBe(1);
      expect(client.stream).toBeDefined();
      expect(server.stream).toBeDefined();
    });

    it(`${name} - both ends know their own and the other's address`, async () => {
      const { listener, client, server } = await pair();
      expect(client.remote).toEqual(listener.address);
      expect(client.local.host).not.toBe('');
      expect(client.local.port).toBeGreaterThan(0);
      expect(server.local.port).toBe(listener.address.port);
      expect(server.remote.host).not.toBe('');
      expect(server.remote.port).toBeGreaterThan(0);
      if (setup.direct !== false) expect(server.remote).toEqual(client.local);
    });

    it(`${name} - carries bytes both ways, in order`, async () => {
      const { client, server } = await pair();
      const request = patternBytes(100_003, 1);
      const reply = patternBytes(77_777, 2);
      const atServer = readBytes(server.stream, request.length);
      for (let offset = 0; offset < request.length; offset += 997)
        client.stream.write(request.subarray(offset, offset + 997));
      expect((await atServer).equals(request)).toBe(true);
      const atClient = readBytes(client.stream, reply.length);
      server.stream.write(reply);
      expect((await atClient).equals(reply)).toBe(true);
    });

    it(`${name} - a paused reader stops the writer (write() false), and 'drain' follows reading`, async () => {
      const { client, server } = await pair();
      server.stream.pause();
      const chunk = 64 * 1024;
      const limit = 512 * 1024 * 1024;
      const sent = createHash('sha256');
      let written = 0;
      let salt = 0;
      const writeOne = (): boolean => {
        const bytes = patternBytes(chunk, salt++);
        sent.update(bytes);
        written += bytes.length;
        return client.stream.write(bytes);
      };
      while (writeOne()) {
        if (written > limit) throw new Error(`write() never returned false in ${limit} bytes`);
      }
      const blockedAt = written;
      // The reader resumes; the writer waits for 'drain' each time, as a well-behaved sender does.
      const received = createHash('sha256');
      let receivedBytes = 0;
      server.stream.on('data', (data: Buffer) => {
        received.update(data);
        receivedBytes += data.length;
      });
      const ended = once(server.stream, 'end', 'the end of the transfer');
      server.stream.resume();
      const total = blockedAt + 8 * 1024 * 1024;
      let drains = 0;
      while (written < total) {
        if (!writeOne()) {
          await once(client.stream, 'drain', `'drain' after ${written} bytes`);
          drains++;
        }
      }
      if (client.stream.writableNeedDrain) {
        await once(client.stream, 'drain', "the last 'drain'");
        drains++;
      }
      client.stream.end();
      await ended;
      expect(drains).toBeGreaterThan(0);
      expect(receivedBytes).toBe(written);
      expect(received.digest('hex')).toBe(sent.digest('hex'));
    });

    it(`${name} - end() is a half-close: the other side still answers, then both ends close`, async () => {
      const { client, server } = await pair();
      server.stream.on('data', (data: Buffer) => server.stream.write(data));
      const serverEnded = once(server.stream, 'end', "'end' at the server");
      const serverClosed = once(server.stream, 'close', "'close' at the server");
      const echoed = readAll(client.stream);
      const clientClosed = once(client.stream, 'close', "'close' at the client");
      const request = patternBytes(50_000, 3);
      client.stream.write(request);
      client.stream.end();
      await serverEnded;
      expect((await echoed).equals(request)).toBe(true);
      await clientClosed;
      await serverClosed;
    });

    it(`${name} - destroy() at the dialer is seen by the listener's end as a close`, async () => {
      const { client, server } = await pair();
      server.stream.resume();
      const closed = once(server.stream, 'close', "'close' at the server");
      client.stream.destroy();
      await closed;
      expect(server.stream.destroyed).toBe(true);
    });

    it(`${name} - destroy() at the listener's end is seen by the dialer as a close`, async () => {
      const { client, server } = await pair();
      client.stream.resume();
      const closed = once(client.stream, 'close', "'close' at the client");
      server.stream.destroy();
      await closed;
      expect(client.stream.destroyed).toBe(true);
    });

    it(`${name} - a dial where nothing listens fails with a refused code`, async () => {
      const { listener } = await listen();
      const address = listener.address;
      await listener.close();
      listeners.splice(listeners.indexOf(listener), 1);
      await expectRefused(address);
    });

    it(`${name} - listening on an address in use fails with EADDRINUSE`, async () => {
      const { listener } = await listen();
      const error = await setup.server
        .listen(listener.address, () => {})
        .then(
          async (second) => {
            await second.close();
            throw new Error('a second listener on the same address was allowed');
          },
          (failure: unknown) => failure as { code?: string },
        );
      expect(error.code).toBe('EADDRINUSE');
    });

    it(`${name} - close() of the listener stops new connections and keeps open ones`, async () => {
      const { listener, client, server } = await pair();
      await listener.close();
      listeners.splice(listeners.indexOf(listener), 1);
      await expectRefused(listener.address);
      const ping = Buffer.from('ping after close');
      const atServer = readBytes(server.stream, ping.length);
      client.stream.write(ping);
      expect((await atServer).toString()).toBe('ping after close');
      const atClient = readBytes(client.stream, 4);
      server.stream.write('pong');
      expect((await atClient).toString()).toBe('pong');
    });

    it(`${name} - a dial with an aborted signal rejects with an AbortError`, async () => {
      const { listener } = await listen();
      const aborted = AbortSignal.abort();
      await expect(setup.client.dial(listener.address, { signal: aborted })).rejects.toMatchObject({
        name: 'AbortError',
      });
      const controller = new AbortController();
      const dialing = setup.client.dial(listener.address, { signal: controller.signal });
      controller.abort();
      await expect(within(dialing, 'the aborted dial')).rejects.toMatchObject({
        name: 'AbortError',
      });
    });
  });
}
