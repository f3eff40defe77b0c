/**
 * The HTTP CONNECT dialer: the compliance suite through a test proxy (listening is TCP's),
 * then the proxy's answers: credentials, refusals, the target's first bytes in the same
 * read as the header, malformed and oversized answers, a proxy that says nothing.
 */
import { TestClock } from '@herald/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { httpConnectTransport } from '../../src/transport/http-connect.js';
import { tcpTransport } from '../../src/transport/tcp.js';
import type { TransportConnection, TransportListener } from '../../src/transport/transport.js';
import { readBytes, transportCompliance, within } from './compliance.js';
import { scriptedProxy, startConnectProxy, type TestProxy } from './connect-proxy.js';

const LOCAL = '127.0.0.1';

transportCompliance('http-connect', async () => {
  const proxy = await startConnectProxy();
  return {
    server: tcpTransport,
    client: httpConnectTransport({ proxy: { host: LOCAL, port: proxy.port } }),
    listenAt: { host: LOCAL, port: 0 },
    refusedCodes: ['EPROXY'],
    direct: false,
    close: () => proxy.close(),
  };
});

describe('http-connect transport', () => {
  const open: { close(): Promise<void> }[] = [];
  afterEach(async () => {
    for (const item of open.splice(0).reverse()) await item.close();
  });
  const keep = <T extends { close(): Promise<void> }>(item: T): T => {
    open.push(item);
    return item;
  };
  const keepStream = (connection: TransportConnection): TransportConnection => {
    keep({ close: async () => void connection.stream.destroy() });
    connection.stream.on('error', () => {});
    return connection;
  };

  /** A TCP server that greets each connection with `greeting` at once. */
  async function greeter(greeting: string): Promise<TransportListener> {
    return keep(
      await tcpTransport.listen({ host: LOCAL, port: 0 }, (connection) => {
        keepStream(connection);
        connection.stream.write(greeting);
      }),
    );
  }

  async function failure(
    proxy: TestProxy,
    extra: object = {},
  ): Promise<Error & { code?: string; status?: number }> {
    const target = await greeter('hi');
    const transport = httpConnectTransport({ proxy: { host: LOCAL, port: proxy.port }, ...extra });
    return within(
      transport.dial(target.address).then(
        (connection) => {
          keepStream(connection);
          throw new Error('the dial succeeded');
        },
        (error: unknown) => error as Error,
      ),
      'the failed dial',
    );
  }

  it('http-connect - bytes the target sent in the same read as the 200 header are kept', async () => {
    const proxy = keep(await startConnectProxy({ coalesce: true }));
    const target = await greeter('greetings from the target');
    const transport = httpConnectTransport({ proxy: { host: LOCAL, port: proxy.port } });
    const connection = keepStream(await within(transport.dial(target.address), 'the dial'));
    const greeting = await readBytes(connection.stream, 'greetings from the target'.length);
    expect(greeting.toString()).toBe('greetings from the target');
    expect(connection.remote).toEqual(target.address);
    expect(proxy.requests[0]).toBe(
      `CONNECT ${LOCAL}:${target.address.port} HTTP/1.1\r\nHost: ${LOCAL}:${target.address.port}`,
    );
  });

  it('http-connect - a proxy that wants credentials answers 407: EPROXY with the status; with the header the dial goes through', async () => {
    const proxy = keep(
      await startConnectProxy({ requireAuthorization: 'Basic aGVyYWxkOnNlY3JldA==' }),
    );
    const refused = await failure(proxy);
    expect(refused).toMatchObject({ code: 'EPROXY', status: 407 });
    expect(refused.message).toContain('407 Proxy Authentication Required');

    const target = await greeter('in');
    const transport = httpConnectTransport({
      proxy: { host: LOCAL, port: proxy.port },
      headers: { 'Proxy-Authorization': 'Basic aGVyYWxkOnNlY3JldA==' },
    });
    const connection = keepStream(await within(transport.dial(target.address), 'the dial'));
    expect((await readBytes(connection.stream, 2)).toString()).toBe('in');
  });

  it.each([
    ['HTTP/1.1 403 Forbidden\r\n\r\n', 403],
    ['HTTP/1.1 502 Bad Gateway\r\nContent-Length: 0\r\n\r\n', 502],
    ['HTTP/1.0 504 Gateway Timeout\r\n\r\n', 504],
  ])('http-connect - a proxy answer %j is EPROXY with status %i', async (answer, status) => {
    const proxy = keep(await scriptedProxy(answer));
    const error = await failure(proxy);
    expect(error).toMatchObject({ code: 'EPROXY', status });
    expect(error.message).toContain(String(status));
  });

  it('http-connect - a 2xx other than 200 opens the tunnel too', async () => {
    const proxy = keep(await scriptedProxy('HTTP/1.1 204 No Content\r\n\r\nafter', 'stay'));
    const transport = httpConnectTransport({ proxy: { host: LOCAL, port: proxy.port } });
    const connection = keepStream(await transport.dial({ host: 'example.invalid', port: 1 }));
    expect((await readBytes(connection.stream, 5)).toString()).toBe('after');
  });

  it('http-connect - a malformed status line is EPROXY', async () => {
    const proxy = keep(await scriptedProxy('SSH-2.0-OpenSSH_9.6\r\n\r\n'));
    const error = await failure(proxy);
    expect(error.code).toBe('EPROXY');
    expect(error.message).toContain('SSH-2.0');
  });

  it('http-connect - an answer header over the bound is EPROXY, read no further', async () => {
    const huge = `HTTP/1.1 200 OK\r\nX-Pad: ${'a'.repeat(4096)}\r\n\r\n`;
    const proxy = keep(await scriptedProxy(huge, 'stay'));
    const error = await failure(proxy, { maxHeaderBytes: 1024 });
    expect(error.code).toBe('EPROXY');
    expect(error.message).toContain('exceeds 1024 bytes');
  });

  it('http-connect - a proxy that closes before answering is EPROXY', async () => {
    const proxy = keep(await scriptedProxy(''));
    const error = await failure(proxy);
    expect(error.code).toBe('EPROXY');
    expect(error.message).toContain('before answering');
  });

  it('http-connect - a proxy that never answers fails the dial with ETIMEDOUT at the deadline on the clock', async () => {
    const proxy = keep(await scriptedProxy(undefined, 'stay'));
    const clock = new TestClock();
    const transport = httpConnectTransport({
      proxy: { host: LOCAL, port: proxy.port },
      timeoutMs: 3000,
      clock,
    });
    let settled = false;
    const dialing = transport.dial({ host: LOCAL, port: 9 }).finally(() => (settled = true));
    dialing.catch(() => {});
    await within(proxy.firstRequest, 'the CONNECT request');
    clock.advance(2999);
    await new Promise<void>((resolve) => setImmediate(resolve));
    expect(settled).toBe(false);
    clock.advance(1);
    await expect(dialing).rejects.toMatchObject({ code: 'ETIMEDOUT' });
  });

  it('http-connect - aborting while the proxy has not answered rejects with an AbortError', async () => {
    const proxy = keep(await scriptedProxy(undefined, 'stay'));
    const transport = httpConnectTransport({ proxy: { host: LOCAL, port: proxy.port } });
    const controller = new AbortController();
    const dialing = transport.dial({ host: LOCAL, port: 9 }, { signal: controller.signal });
    dialing.catch(() => {});
    await within(proxy.firstRequest, 'the CONNECT request');
    controller.abort();
    await expect(dialing).rejects.toMatchObject({ name: 'AbortError' });
  });

  it('http-connect - a proxy that is down keeps the dial code (ECONNREFUSED)', async () => {
    const proxy = await scriptedProxy(undefined);
    await proxy.close();
    const transport = httpConnectTransport({ proxy: { host: LOCAL, port: proxy.port } });
    await expect(transport.dial({ host: LOCAL, port: 9 })).rejects.toMatchObject({
      code: 'ECONNREFUSED',
    });
  });

  it('http-connect - a proxy address, bound or deadline out of range is HERALD_ERR_BAD_OPTION', () => {
    const bad = [
      { proxy: { host: '', port: 3128 } },
      { proxy: { host: LOCAL, port: 0 } },
      { proxy: { host: LOCAL, port: 70_000 } },
      { proxy: { host: LOCAL, port: 3128 }, maxHeaderBytes: 0 },
      { proxy: { host: LOCAL, port: 3128 }, timeoutMs: -1 },
    ];
    for (const options of bad)
      expect(() => httpConnectTransport(options)).toThrow(
        expect.objectContaining({ name: 'NetError', code: 'HERALD_ERR_BAD_OPTION' }),
      );
  });

  it('http-connect - header values with CR or LF are refused when the transport is made', () => {
    expect(() =>
      httpConnectTransport({
        proxy: { host: LOCAL, port: 1 },
        headers: { 'X-A': 'x\r\nCONNECT evil:1 HTTP/1.1' },
      }),
    ).toThrow(expect.objectContaining({ code: 'HERALD_ERR_BAD_OPTION' }));
  });

  it("http-connect - listen() is the inner transport's", async () => {
    const transport = httpConnectTransport({ proxy: { host: LOCAL, port: 1 } });
    let onAccepted: (connection: TransportConnection) => void = () => {};
    const accepted = new Promise<TransportConnection>((resolve) => (onAccepted = resolve));
    const listener = keep(
      await transport.listen({ host: LOCAL, port: 0 }, (c) => onAccepted(keepStream(c))),
    );
    const direct = keepStream(await tcpTransport.dial(listener.address));
    const server = await within(accepted, 'the accepted connection');
    expect(server.remote.port).toBe(direct.local.port);
  });
});
