/**
 * The transport contract: how the net layer gets byte streams. A transport dials and
 * listens; each connection it gives is a duplex byte stream plus the addresses of its two
 * ends. Everything above (framing, handshake, SocketProxy, groups) is the same whatever
 * carries the bytes: TCP (transport/tcp.ts), TLS (transport/tls.ts), an in-memory pipe
 * (transport/memory.ts, and the simulated network built on it in @herald/testing), or a
 * TCP tunnel through an HTTP CONNECT proxy (transport/http-connect.ts).
 *
 * Every transport passes one compliance suite (packages/net/test/transport/compliance.ts),
 * the way libp2p's interface-compliance-tests hold its transports to one contract.
 */
import type { Duplex } from 'node:stream';

/** A host and port (for the memory transport, a name and a number in its own space). */
export interface TransportAddress {
  readonly host: string;
  readonly port: number;
}

/** What a transport's own security layer established (TLS); absent for plain transports. */
export interface TransportSecurity {
  /** 'tls' for node:tls. */
  readonly protocol: string;
  /** Whether the peer presented a certificate that chains to a trusted CA. */
  readonly authorized: boolean;
  /** The peer certificate's subject (e.g. `CN=alice`), when one was presented. */
  readonly peerSubject?: string;
  /** SHA-256 fingerprint of the peer certificate, `AA:BB:...`, when one was presented. */
  readonly peerFingerprint?: string;
}

/**
 * One connection. The stream follows Node's Duplex contract: `write()` returns false when
 * the caller should wait for 'drain'; 'data', 'end', 'error' and 'close' are emitted as
 * for a net.Socket; `destroy()` releases it at once, `end()` after what was written.
 * `pause()`/`resume()` stop and restart reading (backpressure to the peer).
 */
export interface TransportConnection {
  readonly stream: Duplex;
  readonly local: TransportAddress;
  readonly remote: TransportAddress;
  readonly security?: TransportSecurity;
}

export interface DialOptions {
  /** Aborts a dial in progress: the promise rejects with an AbortError, nothing leaks. */
  readonly signal?: AbortSignal;
}

export interface ListenOptions {
  /** Pending-connection backlog, where the transport has one. */
  readonly backlog?: number;
  /** Errors of the listening endpoint after it started (EMFILE on accept, ...), for logging. */
  readonly onError?: (error: Error) => void;
}

/** A listening endpoint. `close()` stops accepting; connections already given stay open. */
export interface TransportListener {
  /** Where it listens (the real port when 0 was asked). */
  readonly address: TransportAddress;
  close(): Promise<void>;
}

/**
 * Failures are errors with an errno-like `code` (ECONNREFUSED, EADDRINUSE, ETIMEDOUT,
 * EHOSTUNREACH, ...), so NotConnected / NotListening carry the same `errno` whatever the
 * transport.
 */
export interface Transport {
  /** Short name for logs: 'tcp', 'tls', 'memory', 'http-connect'. */
  readonly name: string;
  /** Opens a connection; resolves once bytes can flow. */
  dial(to: TransportAddress, options?: DialOptions): Promise<TransportConnection>;
  /** Starts accepting; `onConnection` is called for each connection once bytes can flow. */
  listen(
    at: TransportAddress,
    onConnection: (connection: TransportConnection) => void,
    options?: ListenOptions,
  ): Promise<TransportListener>;
}

/** An error with an errno-like code, as transports reject with. */
export interface TransportError extends Error {
  readonly code: string;
}

/** Makes a transport error with `code` (for transports that are not backed by the OS). */
export function transportError(code: string, message: string): TransportError {
  return Object.assign(new Error(message), { code });
}
