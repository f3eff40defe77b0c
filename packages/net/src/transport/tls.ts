/**
 * TLS over TCP (node:tls): PKI for the server, and mutual TLS when the server asks dialers
 * for a client certificate. A connection is handed over once the handshake is complete, with
 * what TLS established in `security`: whether the peer's certificate chains to a trusted CA,
 * its subject and its SHA-256 fingerprint, so a listener can authorize by certificate.
 *
 * Failures keep Node's codes: a server certificate that does not chain to `ca` rejects the
 * dial with OpenSSL's verify code (UNABLE_TO_VERIFY_LEAF_SIGNATURE, SELF_SIGNED_CERT_IN_CHAIN,
 * ...), a name mismatch with ERR_TLS_CERT_ALTNAME_INVALID, a refused TCP dial with
 * ECONNREFUSED, a handshake past its deadline with ETIMEDOUT.
 *
 * One TLS 1.3 property to know: the client finishes its handshake before the server has
 * checked the client's certificate. A client whose certificate the server refuses therefore
 * sees its dial succeed and then an error on the stream (an alert such as
 * ERR_SSL_TLSV13_ALERT_CERTIFICATE_REQUIRED or ..._UNKNOWN_CA) before any byte arrives; the
 * server never hands such a connection over, and reports it to the listener's `onError`.
 */
import { X509Certificate } from 'node:crypto';
import type { Socket } from 'node:net';
import {
  connect,
  createSecureContext,
  createServer,
  type ConnectionOptions,
  type SecureContext,
  type Server,
  type TLSSocket,
  type TlsOptions,
} from 'node:tls';
import { systemClock, type Clock } from '@herald/runtime';
import { MAX_TIMER_MS, checkWhole } from './checks.js';
import { listenOn } from './tcp.js';
import {
  transportError,
  type DialOptions,
  type ListenOptions,
  type Transport,
  type TransportAddress,
  type TransportConnection,
  type TransportListener,
  type TransportSecurity,
} from './transport.js';

/** How long a TLS handshake may take, dialing or accepting, before the connection is dropped. */
export const DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS = 10_000;

type Pem = string | Buffer;

export interface TlsTransportOptions {
  /** This end's private key, PEM (the server's; a client's too for mutual TLS). */
  readonly key?: Pem;
  /** This end's certificate chain, PEM. */
  readonly cert?: Pem;
  /** CAs trusted for the peer's certificate, PEM; default Node's root store. */
  readonly ca?: Pem | readonly Pem[];
  /** Listening: ask each dialer for a client certificate (mutual TLS). Default false. */
  readonly requestCert?: boolean;
  /**
   * Refuse a peer whose certificate does not chain to `ca` (and, listening with
   * `requestCert`, a dialer with no certificate). Default true. When false the connection is
   * handed over with `security.authorized` false, for an application that decides itself.
   */
  readonly rejectUnauthorized?: boolean;
  /** Dialing: the name checked against the server certificate (and sent as SNI). Default: the dialed host. */
  readonly servername?: string;
  /** Oldest protocol version accepted. Default 'TLSv1.2' (Node's). */
  readonly minVersion?: 'TLSv1.2' | 'TLSv1.3';
  /** Deadline of each handshake; default {@link DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS}. */
  readonly handshakeTimeoutMs?: number;
  /** Clock of the dial deadline; default the system clock. */
  readonly clock?: Clock;
  /**
   * What carries the TLS records: node:tls over its own TCP sockets by default; any other
   * transport (the memory transport or the simulated network, an HTTP CONNECT tunnel) when
   * given. Addresses are the inner connection's.
   */
  readonly inner?: Transport;
}

/** What TLS established on `socket`, for `TransportConnection.security`. */
export function tlsSecurityOf(socket: TLSSocket): TransportSecurity {
  const peer = socket.getPeerX509Certificate();
  if (peer === undefined) return { protocol: 'tls', authorized: socket.authorized };
  return {
    protocol: 'tls',
    authorized: socket.authorized,
    peerSubject: subjectOf(peer),
    peerFingerprint: peer.fingerprint256,
  };
}

/** `CN=alice, O=Example`: Node gives the subject one attribute per line. */
function subjectOf(certificate: X509Certificate): string {
  return certificate.subject.split('\n').join(', ');
}

function abortError(): Error {
  return Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

function connectionOf(socket: TLSSocket): TransportConnection {
  return {
    stream: socket,
    local: { host: socket.localAddress ?? '', port: socket.localPort ?? 0 },
    remote: { host: socket.remoteAddress ?? '', port: socket.remotePort ?? 0 },
    security: tlsSecurityOf(socket),
  };
}

/**
 * The error a listener's `onError` gets for a dialer turned away: it names the peer and, for
 * a refused certificate, carries OpenSSL's verify code (Node reports only "socket hang up").
 */
function refusal(error: Error, socket: TLSSocket, peer: string): Error {
  const verify: unknown = socket.authorizationError;
  const code =
    typeof verify === 'string'
      ? verify
      : ((error as { code?: string }).code ?? 'ERR_TLS_HANDSHAKE');
  const reason = typeof verify === 'string' ? `certificate refused (${verify})` : error.message;
  return Object.assign(transportError(code, `TLS handshake with ${peer} failed: ${reason}`), {
    cause: error,
  });
}

export class TlsTransport implements Transport {
  readonly name: string = 'tls';
  readonly #options: TlsTransportOptions;
  readonly #clock: Clock;
  #dialContext: SecureContext | undefined;

  /** Throws HERALD_ERR_BAD_OPTION for a handshake deadline that is not a positive whole number. */
  constructor(options: TlsTransportOptions) {
    checkWhole('tls', 'handshakeTimeoutMs', options.handshakeTimeoutMs, 1, MAX_TIMER_MS);
    this.#options = options;
    this.#clock = options.clock ?? systemClock;
  }

  /**
   * Dialing options: one secure context for every dial (parsing the key, certificate and
   * CAs costs more than the handshake's own cryptography when done per dial).
   */
  #dialing(): ConnectionOptions {
    this.#dialContext ??= createSecureContext(this.#common());
    return {
      secureContext: this.#dialContext,
      rejectUnauthorized: this.#options.rejectUnauthorized ?? true,
    };
  }

  /** Options shared by both roles, without the undefined ones (exactOptionalPropertyTypes). */
  #common(): TlsOptions & ConnectionOptions {
    const o = this.#options;
    return {
      ...(o.key !== undefined && { key: o.key }),
      ...(o.cert !== undefined && { cert: o.cert }),
      ...(o.ca !== undefined && {
        ca: typeof o.ca === 'string' || Buffer.isBuffer(o.ca) ? o.ca : [...o.ca],
      }),
      ...(o.minVersion !== undefined && { minVersion: o.minVersion }),
      rejectUnauthorized: o.rejectUnauthorized ?? true,
    };
  }

  async dial(to: TransportAddress, options: DialOptions = {}): Promise<TransportConnection> {
    const { signal } = options;
    if (signal?.aborted === true) throw abortError();
    const servername =
      this.#options.servername !== undefined ? { servername: this.#options.servername } : {};
    const inner = this.#options.inner;
    if (inner === undefined) {
      const socket = connect({ ...this.#dialing(), host: to.host, port: to.port, ...servername });
      await this.#secured(socket, to, signal);
      socket.setNoDelay(true);
      return connectionOf(socket);
    }
    const carrier = await inner.dial(to, options);
    // `host` is the name the server certificate is checked against (the socket is given).
    const socket = connect({
      ...this.#dialing(),
      socket: carrier.stream,
      host: to.host,
      ...servername,
    });
    await this.#secured(socket, to, signal);
    return {
      stream: socket,
      local: carrier.local,
      remote: carrier.remote,
      security: tlsSecurityOf(socket),
    };
  }

  /** Resolves when the dialing handshake is done; destroys the socket on failure, abort or deadline. */
  #secured(
    socket: TLSSocket,
    to: TransportAddress,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      const timeoutMs = this.#options.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS;
      const timer = this.#clock.setTimeout(
        () =>
          fail(
            transportError(
              'ETIMEDOUT',
              `TLS handshake with ${to.host}:${to.port} took over ${timeoutMs} ms`,
            ),
          ),
        timeoutMs,
      );
      const done = (): void => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        socket.removeListener('error', fail);
      };
      function fail(error: Error): void {
        done();
        socket.destroy();
        reject(error);
      }
      const onAbort = (): void => fail(abortError());
      if (signal?.aborted === true) return fail(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      socket.once('error', fail);
      socket.once('secureConnect', () => {
        done();
        resolve();
      });
    });
  }

  /** A TLS server for accepting (listening on TCP itself, or fed by an inner transport). */
  #server(): Server {
    return createServer({
      ...this.#common(),
      requestCert: this.#options.requestCert ?? false,
      handshakeTimeout: this.#options.handshakeTimeoutMs ?? DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS,
    });
  }

  listen(
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
    options: ListenOptions = {},
  ): Promise<TransportListener> {
    const inner = this.#options.inner;
    if (inner !== undefined) return this.#listenOver(inner, at, onConnection, options);
    return new Promise((resolve, reject) => {
      const server = this.#server();
      server.on('secureConnection', (socket: TLSSocket) => {
        // A socket reset before its first read must not become an uncaught error.
        if (socket.remoteAddress === undefined) {
          socket.destroy();
          return;
        }
        socket.setNoDelay(true);
        onConnection(connectionOf(socket));
      });
      // The peer's address, read while the TCP socket is open: a refused TLS socket is
      // already destroyed (and has forgotten it) when tlsClientError is emitted.
      const peers = new WeakMap<object, string>();
      server.on('connection', (raw: Socket) => {
        peers.set(raw, `${raw.remoteAddress ?? '?'}:${raw.remotePort ?? 0}`);
      });
      // A refused certificate, a failed or timed-out handshake: the dialer is turned away,
      // and the listener's owner hears of it with the peer's address (for a refusal log).
      server.on('tlsClientError', (error: Error, socket: TLSSocket) => {
        // node:tls keeps the TCP socket it wrapped in `_parent` (not public; hence the fallback).
        const raw = (socket as unknown as { _parent?: object })._parent;
        options.onError?.(
          refusal(error, socket, (raw !== undefined ? peers.get(raw) : undefined) ?? '?'),
        );
      });
      listenOn(server, at, options).then(resolve, reject);
    });
  }

  /**
   * TLS over another transport: each inner connection is handed to a TLS server of its own
   * (node:tls accepts any Duplex through 'connection'), so the accepted TLS socket is known
   * to belong to that connection and carries its addresses. The server does its own checks
   * (requestCert, rejectUnauthorized) exactly as when it listens on TCP.
   */
  async #listenOver(
    inner: Transport,
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
    options: ListenOptions,
  ): Promise<TransportListener> {
    return inner.listen(
      at,
      (carrier) => {
        const server = this.#server();
        server.once('secureConnection', (socket: TLSSocket) =>
          onConnection({
            stream: socket,
            local: carrier.local,
            remote: carrier.remote,
            security: tlsSecurityOf(socket),
          }),
        );
        server.once('tlsClientError', (error: Error, socket: TLSSocket) => {
          const peer = `${carrier.remote.host}:${carrier.remote.port}`;
          options.onError?.(refusal(error, socket, peer));
          carrier.stream.destroy();
        });
        server.emit('connection', carrier.stream);
      },
      options,
    );
  }
}

/** A TLS transport with these keys, certificates and trust. */
export function tlsTransport(options: TlsTransportOptions): Transport {
  return new TlsTransport(options);
}
