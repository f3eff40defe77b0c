/**
 * TCP, the default transport: node:net sockets with Nagle off (the writer batches frames
 * per event-loop turn, so small writes are already coalesced).
 */
import { connect, createServer, type Server, type Socket } from 'node:net';
import type {
  DialOptions,
  ListenOptions,
  Transport,
  TransportAddress,
  TransportConnection,
  TransportListener,
} from './transport.js';

function connectionOf(socket: Socket): TransportConnection {
  return {
    stream: socket,
    local: { host: socket.localAddress ?? '', port: socket.localPort ?? 0 },
    remote: { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
  };
}

/** Dials `to` and resolves once `socket` is connected (errors keep their errno code). */
export function whenConnected(socket: Socket, signal: AbortSignal | undefined): Promise<Socket> {
  return new Promise<Socket>((resolve, reject) => {
    const onAbort = (): void => {
      socket.destroy();
      reject(Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' }));
    };
    if (signal?.aborted === true) return onAbort();
    signal?.addEventListener('abort', onAbort, { once: true });
    socket.once('connect', () => {
      signal?.removeEventListener('abort', onAbort);
      socket.removeListener('error', onError);
      resolve(socket);
    });
    const onError = (error: Error): void => {
      signal?.removeEventListener('abort', onAbort);
      socket.destroy();
      reject(error);
    };
    socket.once('error', onError);
  });
}

export class TcpTransport implements Transport {
  readonly name: string = 'tcp';

  async dial(to: TransportAddress, options: DialOptions = {}): Promise<TransportConnection> {
    const socket = connect({ host: to.host, port: to.port, noDelay: true });
    return connectionOf(await whenConnected(socket, options.signal));
  }

  listen(
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
    options: ListenOptions = {},
  ): Promise<TransportListener> {
    return new Promise((resolve, reject) => {
      const server = createServer({ noDelay: true });
      server.on('connection', (socket: Socket) => {
        // A socket that is reset before its first read must not become an uncaught error.
        if (socket.remoteAddress === undefined) {
          socket.destroy();
          return;
        }
        onConnection(connectionOf(socket));
      });
      listenOn(server, at, options).then(resolve, reject);
    });
  }
}

/**
 * Starts `server` (a net.Server or tls.Server with its connection handlers set) listening
 * at `at`; resolves with the contract's listener once it listens, rejects with the errno
 * error if it cannot. Later server errors (rare: EMFILE on accept) go to `onError` and
 * never crash the process.
 */
export function listenOn(
  server: Server,
  at: TransportAddress,
  options: ListenOptions,
): Promise<TransportListener> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host: at.host, port: at.port, backlog: options.backlog }, () => {
      server.removeListener('error', reject);
      server.on('error', (error: Error) => options.onError?.(error));
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : at.port;
      resolve({
        address: { host: at.host, port },
        // net.Server.close() calls back only once every accepted socket has ended; the
        // contract keeps those open, so resolve when the listening handle is closed.
        close: () =>
          new Promise<void>((done) => {
            server.close();
            setImmediate(done);
          }),
      });
    });
  });
}

/** The shared default. */
export const tcpTransport: Transport = new TcpTransport();
