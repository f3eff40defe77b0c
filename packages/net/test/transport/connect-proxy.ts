/**
 * A small HTTP CONNECT proxy for tests, on 127.0.0.1 port 0: it reads the CONNECT request
 * (bounded), optionally demands a Proxy-Authorization value (407 otherwise), dials the
 * target and answers 200 (502 when the target cannot be reached), then relays bytes both
 * ways, passing on half-closes and closes. With `coalesce`, it waits for the target's first
 * bytes and sends them in the same write as the 200 header, so a client that reads past the
 * header must keep them.
 *
 * `scriptedProxy(answer)` is the other kind: it answers every request with fixed bytes (or
 * nothing), for the failure cases.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

export interface TestProxy {
  readonly port: number;
  /** The request heads received, in order. */
  readonly requests: string[];
  /** Resolves when the first request has arrived. */
  readonly firstRequest: Promise<string>;
  close(): Promise<void>;
}

const MAX_REQUEST_BYTES = 8 * 1024;

function serve(server: Server, sockets: Set<Socket>): Promise<number> {
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => {});
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve((server.address() as { port: number }).port)),
  );
}

function closer(server: Server, sockets: Set<Socket>): () => Promise<void> {
  return () => {
    for (const socket of sockets) socket.destroy();
    return new Promise((resolve) => server.close(() => resolve()));
  };
}

export async function startConnectProxy(
  options: { requireAuthorization?: string; coalesce?: boolean } = {},
): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const server = createServer({ allowHalfOpen: true }, (client) => {
    let head = Buffer.alloc(0);
    const onData = (chunk: Buffer): void => {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf('\r\n\r\n');
      if (end === -1) {
        if (head.length > MAX_REQUEST_BYTES) client.destroy();
        return;
      }
      client.removeListener('data', onData);
      client.pause();
      const request = head.subarray(0, end).toString('latin1');
      const early = head.subarray(end + 4);
      requests.push(request);
      const [line = '', ...headers] = request.split('\r\n');
      const target = /^CONNECT (\S+):(\d+) HTTP\/1\.1$/.exec(line);
      if (target === null) {
        client.end('HTTP/1.1 400 Bad Request\r\n\r\n');
        return;
      }
      const required = options.requireAuthorization;
      if (required !== undefined && !headers.includes(`Proxy-Authorization: ${required}`)) {
        client.end(
          'HTTP/1.1 407 Proxy Authentication Required\r\nProxy-Authenticate: Basic\r\n\r\n',
        );
        return;
      }
      const upstream = connect({ host: target[1], port: Number(target[2]), allowHalfOpen: true });
      sockets.add(upstream);
      upstream.on('close', () => {
        sockets.delete(upstream);
        client.destroy();
      });
      client.on('close', () => upstream.destroy());
      upstream.once('error', () => {
        if (!upstream.readyState.includes('open')) client.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
      });
      upstream.once('connect', () => {
        const established = 'HTTP/1.1 200 Connection Established\r\n\r\n';
        const relay = (): void => {
          if (early.length > 0) upstream.write(early);
          client.pipe(upstream);
          upstream.pipe(client);
          client.resume();
        };
        if (options.coalesce !== true) {
          client.write(established);
          relay();
          return;
        }
        upstream.once('data', (first: Buffer) => {
          upstream.pause();
          client.write(Buffer.concat([Buffer.from(established), first]));
          relay();
        });
      });
    };
    client.on('data', onData);
  });
  const port = await serve(server, sockets);
  return { port, requests, firstRequest: first(requests), close: closer(server, sockets) };
}

/** A promise of the first element pushed onto `requests`. */
function first(requests: string[]): Promise<string> {
  return new Promise((resolve) => {
    const push = requests.push.bind(requests);
    requests.push = (...items: string[]): number => {
      if (items[0] !== undefined) resolve(items[0]);
      return push(...items);
    };
  });
}

/** A "proxy" that answers every connection with `answer` (or never, when undefined), then closes or not. */
export async function scriptedProxy(
  answer: string | Buffer | undefined,
  then: 'close' | 'stay' = 'close',
): Promise<TestProxy> {
  const sockets = new Set<Socket>();
  const requests: string[] = [];
  const server = createServer((socket) => {
    socket.once('data', (chunk: Buffer) => {
      requests.push(chunk.toString('latin1'));
      if (answer === undefined) return;
      if (then === 'close') socket.end(answer);
      else socket.write(answer);
    });
  });
  const port = await serve(server, sockets);
  return { port, requests, firstRequest: first(requests), close: closer(server, sockets) };
}
