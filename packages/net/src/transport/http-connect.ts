/**
 * Dialing through an HTTP proxy with CONNECT (RFC 9110 §9.3.6), the way clients leave a
 * corporate network: dial the proxy (over `inner`, TCP by default), send
 * `CONNECT host:port HTTP/1.1`, read the proxy's answer, and on a 2xx hand over the raw
 * stream, which from then on is a byte tunnel to the target.
 *
 * What is bounded, and why: the answer's header may be at most `maxHeaderBytes` (a proxy, or
 * whatever answers on its port, cannot make us buffer without limit) and must arrive within
 * `timeoutMs` on the injected clock (a proxy that accepts and says nothing cannot hold a dial
 * forever). Bytes that arrive after the header in the same read are the target's first bytes:
 * they are put back on the stream, never lost.
 *
 * Failures: the proxy's own dial keeps its code (ECONNREFUSED when the proxy is down); any
 * answer but 2xx, a malformed or oversized answer, or a proxy that closes before answering is
 * EPROXY, with the status (when there is one) in `status` and in the message (407: the proxy
 * wants credentials, see `headers`; 403: refused by policy; 502/504: the proxy could not reach
 * the target); a proxy past the deadline is ETIMEDOUT.
 *
 * Listening is not something a proxy does for us: `listen()` is the inner transport's, so one
 * transport value can serve both roles of a process.
 */
import { systemClock, type Clock } from '@herald/runtime';
import { MAX_TIMER_MS, badOption, checkWhole } from './checks.js';
import { tcpTransport } from './tcp.js';
import {
  transportError,
  type DialOptions,
  type ListenOptions,
  type Transport,
  type TransportAddress,
  type TransportConnection,
  type TransportError,
  type TransportListener,
} from './transport.js';

/** Largest proxy answer header accepted (status line and headers, through the blank line). */
export const DEFAULT_CONNECT_MAX_HEADER_BYTES = 16 * 1024;

/** How long the proxy may take to answer CONNECT once it accepted the TCP connection. */
export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

/** The code of every failure the proxy itself reports or causes. */
export const PROXY_ERROR_CODE = 'EPROXY';

export interface HttpConnectOptions {
  /** Where the proxy listens. */
  readonly proxy: TransportAddress;
  /** How to reach the proxy; default TCP. */
  readonly inner?: Transport;
  /**
   * Extra request headers, e.g. `{ 'Proxy-Authorization': 'Basic ...' }`. Names must be
   * tokens and values must not contain CR or LF (checked once, when the transport is made).
   */
  readonly headers?: Readonly<Record<string, string>>;
  /** Bound on the proxy's answer header; default {@link DEFAULT_CONNECT_MAX_HEADER_BYTES}. */
  readonly maxHeaderBytes?: number;
  /** Deadline for the proxy's answer; default {@link DEFAULT_CONNECT_TIMEOUT_MS}. */
  readonly timeoutMs?: number;
  /** Clock of the deadline; default the system clock. */
  readonly clock?: Clock;
}

/** A proxy's refusal or misbehaviour: code EPROXY, the HTTP status when there was one. */
export interface ProxyError extends TransportError {
  readonly status?: number;
}

const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;
const STATUS_LINE = /^HTTP\/1\.[01] (\d{3})(?: (.*))?$/;
const HEADER_END = Buffer.from('\r\n\r\n');

function proxyError(message: string, status?: number): ProxyError {
  const error = transportError(PROXY_ERROR_CODE, message);
  return status === undefined ? error : Object.assign(error, { status });
}

function abortError(): Error {
  return Object.assign(new Error('dial aborted'), { name: 'AbortError', code: 'ABORT_ERR' });
}

/** `host:port`, with IPv6 literals in brackets as the request target requires. */
function authorityOf(to: TransportAddress): string {
  return to.host.includes(':') ? `[${to.host}]:${to.port}` : `${to.host}:${to.port}`;
}

export class HttpConnectTransport implements Transport {
  readonly name: string = 'http-connect';
  readonly #proxy: TransportAddress;
  readonly #inner: Transport;
  readonly #headerLines: string;
  readonly #maxHeaderBytes: number;
  readonly #timeoutMs: number;
  readonly #clock: Clock;

  /**
   * Throws HERALD_ERR_BAD_OPTION for a proxy address, bound or deadline out of range, or a
   * header that could break the request.
   */
  constructor(options: HttpConnectOptions) {
    const proxy = options.proxy as TransportAddress | undefined;
    if (typeof proxy?.host !== 'string' || proxy.host === '')
      badOption('http-connect', 'proxy.host must be a non-empty string');
    checkWhole('http-connect', 'proxy.port', proxy.port, 1, 65_535);
    if (proxy.port === undefined) badOption('http-connect', 'proxy.port is required');
    checkWhole('http-connect', 'maxHeaderBytes', options.maxHeaderBytes, 16);
    checkWhole('http-connect', 'timeoutMs', options.timeoutMs, 1, MAX_TIMER_MS);
    this.#proxy = options.proxy;
    this.#inner = options.inner ?? tcpTransport;
    this.#maxHeaderBytes = options.maxHeaderBytes ?? DEFAULT_CONNECT_MAX_HEADER_BYTES;
    this.#timeoutMs = options.timeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
    this.#clock = options.clock ?? systemClock;
    let lines = '';
    for (const [name, value] of Object.entries(options.headers ?? {})) {
      // A CR or LF would let a value end the request early and smuggle a second one.
      if (!HEADER_NAME.test(name) || /[\r\n\0]/.test(value))
        badOption('http-connect', `bad header ${JSON.stringify(name)}`);
      lines += `${name}: ${value}\r\n`;
    }
    this.#headerLines = lines;
  }

  async dial(to: TransportAddress, options: DialOptions = {}): Promise<TransportConnection> {
    const connection = await this.#inner.dial(this.#proxy, options);
    const authority = authorityOf(to);
    connection.stream.write(
      `CONNECT ${authority} HTTP/1.1\r\nHost: ${authority}\r\n${this.#headerLines}\r\n`,
    );
    await this.#answer(connection, authority, options.signal);
    return { stream: connection.stream, local: connection.local, remote: to };
  }

  listen(
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
    options?: ListenOptions,
  ): Promise<TransportListener> {
    return this.#inner.listen(at, onConnection, options);
  }

  /** Reads the proxy's answer; resolves with the stream positioned at the tunnel's first byte. */
  #answer(
    connection: TransportConnection,
    authority: string,
    signal: AbortSignal | undefined,
  ): Promise<void> {
    const stream = connection.stream;
    const proxy = authorityOf(this.#proxy);
    return new Promise<void>((resolve, reject) => {
      let buffered: Buffer = Buffer.alloc(0);
      const timer = this.#clock.setTimeout(
        () =>
          fail(
            transportError(
              'ETIMEDOUT',
              `proxy ${proxy} did not answer CONNECT ${authority} within ${this.#timeoutMs} ms`,
            ),
          ),
        this.#timeoutMs,
      );
      const cleanUp = (): void => {
        this.#clock.clearTimeout(timer);
        signal?.removeEventListener('abort', onAbort);
        stream.removeListener('readable', onReadable);
        stream.removeListener('end', onEnd);
        stream.removeListener('error', fail);
      };
      function fail(error: Error): void {
        cleanUp();
        stream.destroy();
        reject(error);
      }
      const onAbort = (): void => fail(abortError());
      const onEnd = (): void =>
        fail(
          proxyError(`proxy ${proxy} closed the connection before answering CONNECT ${authority}`),
        );
      const onReadable = (): void => {
        // 'readable' (not 'data') keeps the stream paused, so what follows the header stays
        // in it for whoever reads next.
        for (let chunk: Buffer | null; (chunk = stream.read() as Buffer | null) !== null;) {
          buffered = buffered.length === 0 ? chunk : Buffer.concat([buffered, chunk]);
          const end = buffered.indexOf(HEADER_END);
          if (end === -1) {
            if (buffered.length > this.#maxHeaderBytes)
              return fail(
                proxyError(`proxy ${proxy} answer header exceeds ${this.#maxHeaderBytes} bytes`),
              );
            continue;
          }
          if (end + HEADER_END.length > this.#maxHeaderBytes)
            return fail(
              proxyError(`proxy ${proxy} answer header exceeds ${this.#maxHeaderBytes} bytes`),
            );
          const statusLine = buffered.subarray(0, buffered.indexOf('\r\n')).toString('latin1');
          const match = STATUS_LINE.exec(statusLine);
          if (match === null)
            return fail(
              proxyError(
                `proxy ${proxy} answered CONNECT with ${JSON.stringify(statusLine.slice(0, 80))}`,
              ),
            );
          const status = Number(match[1]);
          if (status < 200 || status > 299)
            return fail(
              proxyError(
                `proxy ${proxy} refused CONNECT ${authority}: ${statusLine.slice(0, 200)}`,
                status,
              ),
            );
          cleanUp();
          const rest = buffered.subarray(end + HEADER_END.length);
          if (rest.length > 0) stream.unshift(rest);
          return resolve();
        }
      };
      if (signal?.aborted === true) return fail(abortError());
      signal?.addEventListener('abort', onAbort, { once: true });
      stream.on('readable', onReadable);
      stream.once('end', onEnd);
      stream.once('error', fail);
    });
  }
}

/** A transport that dials through the HTTP CONNECT proxy at `options.proxy`. */
export function httpConnectTransport(options: HttpConnectOptions): Transport {
  return new HttpConnectTransport(options);
}
