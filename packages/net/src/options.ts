import type { AnyMessageType } from '@herald/codec';
import type { Address } from '@herald/runtime';
import type { Behavior, Self, WithOptions } from '@herald/runtime';
import type { HostPort } from './messages.js';
import type { AddressRules } from './access.js';
import type { Transport } from './transport/transport.js';
import type { TransportSecurity } from './transport/transport.js';
import type { CipherSuite, IdentityKeyPair } from './wire/index.js';

/** What a session actor is given, besides its own arguments. */
export interface SessionContext {
  /** The actor that called listen() or connect(). */
  readonly controller: Address;
  /** The SocketProxy: send here to reach the peer. */
  readonly remote: Address;
  readonly peer: HostPort;
  readonly opened: Date;
  readonly encrypted: boolean;
  /** The peer's proven identity key (`herald-x25519:…`), or undefined when anonymous. */
  readonly peerKey?: string;
  /** What a TLS transport established about the peer (its certificate), if any. */
  readonly security?: TransportSecurity;
}

/** Who is asking to connect, as `authorize` sees it. */
export interface PeerInfo {
  /** The peer's proven identity key (`herald-x25519:…`), or null for an anonymous peer. */
  readonly key: string | null;
  /** Its network address. */
  readonly address: HostPort;
  /** What a TLS transport established (client certificate), if any. */
  readonly security?: TransportSecurity;
}

/** `true` admits the peer; `false` or a reason (sent in the CLOSE, logged) refuses it. */
export type AuthorizeDecision = boolean | string;

/** A session to create per connection: `sessionOf(behavior, ...args)`. */
export interface SessionFrame {
  readonly behavior: Behavior | WithOptions<Behavior>;
  readonly args: readonly unknown[];
}

/**
 * Describes the session actor created for each connection. A function session is called
 * as `behavior(self, context, ...args)`; a machine session gets `{ ...context, args }` as input.
 */
export function sessionOf<A extends unknown[]>(
  behavior:
    | ((self: Self, context: SessionContext, ...args: A) => unknown)
    | Behavior
    | WithOptions<Behavior>,
  ...args: A
): SessionFrame {
  return { behavior: behavior as Behavior, args };
}

/** Options shared by listen() and connect(). Every default is in constants.ts. */
export interface ConnectionOptions {
  /** A session actor per connection; its completion closes the connection with its value. */
  readonly session?: SessionFrame;
  /**
   * Encrypt the connection (X25519 + XSalsa20-Poly1305). Both ends must agree. Default
   * false, or true when any identity option below is given.
   */
  readonly encrypted?: boolean;
  /**
   * This side's static identity key pair (`createIdentity()`, `loadIdentity(path)`), proven
   * to the peer in the handshake. Without it this side is anonymous (docs/security.md).
   */
  readonly identity?: IdentityKeyPair;
  /**
   * connect(): the server's public key (`herald-x25519:…` or 32 bytes), or a list during a
   * key rotation. Any other key fails with NotConnected{ reason: 'peer-key-mismatch' }
   * before this side reveals its own identity.
   */
  readonly peerKey?: string | Uint8Array | readonly (string | Uint8Array)[];
  /** listen(): the client keys that may connect; others get `not-authorized`. */
  readonly allowedPeerKeys?: Iterable<string | Uint8Array>;
  /** listen(): refuse clients that do not prove a static key (anonymous peers). */
  readonly requirePeerKey?: boolean;
  /**
   * listen(): decides per peer once it has proven its key (or is anonymous and allowed so
   * far), before anything opens: a token check, a database look-up. May be async; a throw
   * or a rejection refuses. Nothing of the connection is visible to actors until it admits.
   */
  readonly authorize?: (peer: PeerInfo) => AuthorizeDecision | Promise<AuthorizeDecision>;
  /**
   * The cipher implementation. Default: sodium-native when installed, else tweetnacl (the
   * same wire format either way; see docs/encryption.md).
   */
  readonly cipherSuite?: CipherSuite;
  /**
   * Message types this connection carries, added to the runtime's catalogue. Both ends need
   * every type they exchange: the sender to encode it, the receiver to decode it.
   */
  readonly messages?: readonly AnyMessageType[];
  /**
   * What carries the bytes: TCP by default; TLS, the in-memory transport, or an HTTP
   * CONNECT tunnel (docs/transports.md). Both ends use transports that can reach each other.
   */
  readonly transport?: Transport;
  /**
   * Addresses every peer of this connection (every accepted connection, for listen()) may
   * send to, besides its default target and what it is sent (docs/security.md).
   */
  readonly exports?: readonly Address[];
  /** Quiet time before a keep-alive PING. Default DEFAULT_KEEPALIVE_IDLE_MS (5 s). 0 disables. */
  readonly keepaliveIdleMs?: number;
  /** Time a PING may go unanswered before Abandoned. Default DEFAULT_KEEPALIVE_TIMEOUT_MS (5 s). */
  readonly keepaliveTimeoutMs?: number;
  /** Time the handshake may take. Default DEFAULT_HANDSHAKE_TIMEOUT_MS (10 s). */
  readonly handshakeTimeoutMs?: number;
  /** Largest frame body accepted from the peer. Default 64 KiB (wire DEFAULT_MAX_FRAME_BYTES). */
  readonly maxFrameBytes?: number;
  /** Largest message accepted from the peer. Default 64 MiB. */
  readonly maxMessageBytes?: number;
  /** Outbound buffer size that triggers Congested. Default 1 MiB. */
  readonly highWaterBytes?: number;
  /** Outbound buffer size at which Drained is reported. Default 256 KiB. */
  readonly lowWaterBytes?: number;
  /** Outbound buffer size above which sends become dead letters. Default 64 MiB. */
  readonly maxPendingBytes?: number;
}

export interface ListenOptions extends ConnectionOptions {
  /** TCP backlog. Default DEFAULT_LISTEN_BACKLOG. */
  readonly backlog?: number;
  /**
   * Only these remote addresses and subnets may connect (`['10.0.0.0/8', '::1']` or a
   * node:net BlockList). Default: any. Others are destroyed at accept (docs/security.md).
   */
  readonly allow?: AddressRules;
  /** These remote addresses and subnets may not connect; deny wins over allow. */
  readonly deny?: AddressRules;
  /** Connections held at once by this listener; more are destroyed at accept. Default: no cap. */
  readonly maxConnections?: number;
  /** Connections held at once from one remote address. Default: no cap. */
  readonly maxConnectionsPerAddress?: number;
}

export type ConnectOptions = ConnectionOptions;

export interface ListenAddress {
  /** Interface to bind. Default '127.0.0.1' (loopback only; pass '0.0.0.0' to serve a network). */
  readonly host?: string;
  /** Port; 0 asks the OS for a free one (Listening carries the real port). */
  readonly port: number;
}

export interface ConnectAddress {
  readonly host: string;
  readonly port: number;
}
