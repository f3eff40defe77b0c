/**
 * The management endpoint's HTTP face: the browser inspector (a self-contained page, no
 * CDN), its WebSocket feed, a JSON snapshot and, when a prom-client registry is given,
 * `/metrics`.
 *
 * Access: a random token (INSPECTOR_TOKEN_BYTES, hex) in the URL the endpoint prints. The
 * first request with `?token=` gets it back as an HttpOnly, SameSite=Strict cookie named
 * for the port (cookies are not scoped by port, and two inspectors on one machine must
 * not log each other out); `Authorization: Bearer <token>` works too (for a Prometheus
 * scrape). Tokens are compared in constant time. When bound to loopback, the Host header
 * must name loopback (a page on another site that rebinds its DNS name to 127.0.0.1
 * still cannot read anything: it has no token, and its Host is wrong); a WebSocket's
 * Origin must be this server.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { timingSafeEqual } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Duplex } from 'node:stream';
import { WebSocketServer, type WebSocket } from 'ws';
import type { InspectorFeed } from './inspector-feed.js';
import { INSPECTOR_CSS, INSPECTOR_HTML, INSPECTOR_SCRIPT } from './inspector-page.js';

/** What the server needs from a prom-client Registry (structural: prom-client is optional). */
export interface MetricsRegistry {
  metrics(): Promise<string>;
  readonly contentType: string;
}

export interface InspectorServerOptions {
  readonly host: string;
  readonly port: number;
  readonly token: string;
  readonly maxClients: number;
  readonly feed: InspectorFeed;
  /** The JSON answer of `/api/snapshot`. */
  readonly snapshot: () => unknown;
  readonly metrics: MetricsRegistry | undefined;
  readonly onError: (error: unknown) => void;
}

/** Largest message a browser may send on the inspector WebSocket (it has nothing to say). */
const MAX_CLIENT_MESSAGE_BYTES = 1024;

/** HTTP connections held at once besides the WebSockets (page, script, scrapes). */
const MAX_PLAIN_HTTP_CONNECTIONS = 32;
/** A request's headers must arrive within this (ms). */
const HTTP_HEADERS_TIMEOUT_MS = 5_000;
/** A whole request must arrive within this (ms). */
const HTTP_REQUEST_TIMEOUT_MS = 10_000;

const LOOPBACK_NAMES = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

export interface InspectorServer {
  readonly port: number;
  readonly url: string;
  /** Browsers connected now. */
  readonly clients: number;
  close(): Promise<void>;
}

export async function openInspectorServer(
  options: InspectorServerOptions,
): Promise<InspectorServer> {
  const { token, feed } = options;
  const sockets = new Set<WebSocket>();
  const wss = new WebSocketServer({ noServer: true, maxPayload: MAX_CLIENT_MESSAGE_BYTES });
  let port = options.port;
  const cookieName = () => `herald_inspector_${port}`;
  const loopback = LOOPBACK_NAMES.has(options.host) || options.host.startsWith('127.');

  const hostAllowed = (req: IncomingMessage): boolean => {
    if (!loopback) return true;
    const host = req.headers.host ?? '';
    const name = host.replace(/:\d+$/, '');
    return LOOPBACK_NAMES.has(name) || name.startsWith('127.');
  };

  const tokenOf = (req: IncomingMessage, url: URL): string | undefined => {
    const query = url.searchParams.get('token');
    if (query !== null) return query;
    const auth = req.headers.authorization;
    if (auth?.startsWith('Bearer ')) return auth.slice('Bearer '.length).trim();
    for (const part of (req.headers.cookie ?? '').split(';')) {
      const [name, value] = part.trim().split('=', 2);
      if (name === cookieName() && value !== undefined) return value;
    }
    return undefined;
  };

  const authorized = (req: IncomingMessage, url: URL): boolean => {
    const given = tokenOf(req, url);
    if (given === undefined) return false;
    const a = Buffer.from(given);
    const b = Buffer.from(token);
    return a.length === b.length && timingSafeEqual(a, b);
  };

  const send = (res: ServerResponse, status: number, type: string, body: string, headers = {}) => {
    res.writeHead(status, {
      'content-type': type,
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      'referrer-policy': 'no-referrer',
      ...headers,
    });
    res.end(body);
  };

  const server: Server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://inspector.invalid');
      if (!hostAllowed(req)) return send(res, 403, 'text/plain', 'forbidden host\n');
      if (req.method !== 'GET' && req.method !== 'HEAD')
        return send(res, 405, 'text/plain', 'method not allowed\n', { allow: 'GET' });
      if (!authorized(req, url))
        return send(
          res,
          401,
          'text/plain',
          'the inspector needs its token: open the URL the endpoint printed\n',
        );
      switch (url.pathname) {
        case '/':
        case '/index.html':
          return send(res, 200, 'text/html; charset=utf-8', INSPECTOR_HTML, {
            'set-cookie': `${cookieName()}=${token}; HttpOnly; SameSite=Strict; Path=/`,
            'content-security-policy':
              "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
              `connect-src 'self' ws://${req.headers.host ?? ''}; frame-ancestors 'none'; base-uri 'none'`,
            'x-frame-options': 'DENY',
          });
        case '/inspector.js':
          return send(res, 200, 'text/javascript; charset=utf-8', INSPECTOR_SCRIPT);
        case '/inspector.css':
          return send(res, 200, 'text/css; charset=utf-8', INSPECTOR_CSS);
        case '/api/snapshot':
          return send(res, 200, 'application/json', JSON.stringify(options.snapshot()));
        case '/metrics':
          if (options.metrics === undefined)
            return send(
              res,
              404,
              'text/plain',
              'no metrics registry was given to openManagement\n',
            );
          return send(res, 200, options.metrics.contentType, await options.metrics.metrics());
        default:
          return send(res, 404, 'text/plain', 'not found\n');
      }
    })().catch((error: unknown) => {
      options.onError(error);
      if (!res.headersSent) send(res, 500, 'text/plain', 'internal error\n');
      else res.destroy();
    });
  });

  server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
    const url = new URL(req.url ?? '/', 'http://inspector.invalid');
    const refuse = (status: string) => {
      socket.end(`HTTP/1.1 ${status}\r\nconnection: close\r\ncontent-length: 0\r\n\r\n`);
    };
    const origin = req.headers.origin;
    if (url.pathname !== '/ws') return refuse('404 Not Found');
    if (
      !hostAllowed(req) ||
      (origin !== undefined && origin !== `http://${req.headers.host ?? ''}`)
    )
      return refuse('403 Forbidden');
    if (!authorized(req, url)) return refuse('401 Unauthorized');
    if (sockets.size >= options.maxClients) return refuse('503 Service Unavailable');
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.add(ws);
      const remove = feed.add(ws);
      ws.on('error', () => ws.terminate());
      ws.on('close', () => {
        sockets.delete(ws);
        remove();
      });
    });
  });
  server.on('clientError', (_error, socket) => socket.destroy());
  // Sockets and slow requests a local client can make the server hold are bounded too.
  server.maxConnections = options.maxClients + MAX_PLAIN_HTTP_CONNECTIONS;
  server.headersTimeout = HTTP_HEADERS_TIMEOUT_MS;
  server.requestTimeout = HTTP_REQUEST_TIMEOUT_MS;

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port, options.host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  server.on('error', options.onError);
  port = (server.address() as AddressInfo).port;
  const hostInUrl = options.host.includes(':') ? `[${options.host}]` : options.host;

  return {
    port,
    url: `http://${hostInUrl}:${port}/?token=${token}`,
    get clients() {
      return sockets.size;
    },
    async close() {
      for (const ws of sockets) ws.terminate();
      sockets.clear();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
