/**
 * The connection handshake (wire version 2) as a pure state machine: it consumes the
 * peer's handshake frames one at a time and queues its own. No sockets, no timers.
 *
 * Clear mode: both sides send preamble + HELLO at once; each opens on the peer's HELLO.
 *
 * Encrypted mode: a Noise-XX-like exchange (anchors: Noise XX and CurveZMQ, RFC 26) on
 * NaCl primitives, with an optional static identity key on each side:
 *
 * ```
 * connector                                           acceptor
 *   preamble, HELLO(e)                     -->                      (acceptor: no key work
 *                                          <--  preamble            before this arrives)
 *                                          <--  HELLO(e), AUTH([s], tag)   ee, [es]
 *   [pin check] AUTH([s], tag)   [se]      -->
 *                                                allow-list, authorize(peer) (async)
 *                                          <--  READY(tag)  or  CLOSE not-authorized
 *   SEALED records                         <->
 * ```
 *
 * Static keys travel only inside boxes keyed by the ephemeral exchange, so a passive
 * observer never sees them. Every box is bound to the whole transcript, so a replayed
 * message from an earlier connection never opens (the acceptor's fresh ephemeral key is in
 * it), and the acceptor opens only after the connector's AUTH proved it derived the same
 * keys. Byte layouts and key schedule: docs/wire-protocol.md, sections 3.2 and 4.
 */
import { ByteWriter, concatBytes } from './bytes.js';
import {
  AUTH_FLAG_STATIC_KEY,
  DEFAULT_KEEPALIVE_IDLE_MS,
  DEFAULT_MAX_FRAME_BYTES,
  FRAME_KIND_AUTH,
  FRAME_KIND_READY,
  MAX_MAX_FRAME_BYTES,
  MIN_MAX_FRAME_BYTES,
  SEALED_STATIC_KEY_BYTES,
  PUBLIC_KEY_BYTES,
  SEAL_OVERHEAD_BYTES,
} from './constants.js';
import {
  type Cipher,
  type CipherSuite,
  type KeyAgreement,
  type KeyPair,
  type RandomSource,
  type Role,
  naclCipherSuite,
} from './cipher.js';
import { WireError } from './errors.js';
import {
  FrameKind,
  type Hello,
  decodeHelloBody,
  encodeCloseFrame,
  encodeFrame,
  encodeHelloBody,
  encodePreamble,
} from './frames.js';
import type { HandshakeFrame } from './handshake-reader.js';
import { formatPublicKey, normalizePublicKey } from './identity.js';
import { Transcript } from './transcript.js';

export interface HandshakeOptions {
  /** Which end of the TCP connection this is (decides the nonce direction). */
  readonly role: Role;
  /**
   * Encrypt the connection. Both sides must agree. Default: true when `identity`,
   * `peerKey`, `allowedPeerKeys` or `requirePeerKey` is given, else false.
   */
  readonly encrypt?: boolean;
  /** Largest frame body we accept. Default `DEFAULT_MAX_FRAME_BYTES`. */
  readonly maxFrameBytes?: number;
  /** Our keep-alive idle time, announced to the peer. Default `DEFAULT_KEEPALIVE_IDLE_MS`. */
  readonly keepaliveMs?: number;
  /** Random source for the ephemeral key. Default: the key agreement's own generator. */
  readonly random?: RandomSource;
  /** Crypto implementation. Default `naclCipherSuite` (see `loadCipherSuite`). */
  readonly cipherSuite?: CipherSuite;
  /**
   * This side's static identity (see identity.ts). Proven to the peer during the
   * handshake; without it this side is anonymous.
   */
  readonly identity?: KeyPair;
  /**
   * Connector only: the acceptor's static public key (32 bytes or `herald-x25519:…`), or
   * a list of keys any of which is accepted (while the acceptor's key is being rotated).
   * A different or missing key fails with `HERALD_ERR_WIRE_PEER_KEY_MISMATCH`, before this
   * side reveals its own identity.
   */
  readonly peerKey?: Uint8Array | string | readonly (Uint8Array | string)[];
  /**
   * Acceptor only: the connector keys that may connect (bytes or printable). Others are
   * refused with `not-authorized`. Implies `requirePeerKey`.
   */
  readonly allowedPeerKeys?: Iterable<Uint8Array | string>;
  /** Acceptor only: refuse connectors without a static key (`not-authorized`). */
  readonly requirePeerKey?: boolean;
  /**
   * Acceptor only: after the key checks, stop with an `authorize` step and wait for
   * `accept()` or `refuse(text)` before opening (an asynchronous authorization decision).
   */
  readonly authorize?: boolean;
}

/** Who the peer proved to be. Both null for an anonymous peer or a clear connection. */
export interface PeerIdentity {
  /** The peer's static key in printable form (`herald-x25519:…`). */
  readonly key: string | null;
  /** The same key as 32 bytes. */
  readonly publicKey: Uint8Array | null;
}

export const ANONYMOUS_PEER: PeerIdentity = Object.freeze({ key: null, publicKey: null });

/** What one step of the handshake decided. Frames to send are taken with `takeOutput()`. */
export type HandshakeResult =
  /** Keep reading the peer's handshake frames. */
  | { readonly type: 'continue' }
  /** Acceptor with `authorize`: the peer is authenticated; call `accept()` or `refuse()`. */
  | { readonly type: 'authorize'; readonly peer: PeerIdentity }
  | {
      readonly type: 'ok';
      readonly encrypted: boolean;
      /** Present iff `encrypted`. */
      readonly cipher: Cipher | null;
      readonly peerMaxFrameBytes: number;
      readonly peerKeepaliveMs: number;
      readonly peer: PeerIdentity;
    }
  /** The handshake failed; a clear CLOSE naming the reason is in the output. */
  | { readonly type: 'failed'; readonly error: WireError };

type Stage = 'start' | 'hello' | 'auth' | 'ready' | 'authorizing' | 'done' | 'failed';

const EMPTY = new Uint8Array(0);
const AUTH_TAG_BYTES = SEAL_OVERHEAD_BYTES;

function identityOf(publicKey: Uint8Array | null): PeerIdentity {
  return publicKey === null ? ANONYMOUS_PEER : { key: formatPublicKey(publicKey), publicKey };
}

interface ResolvedOptions {
  readonly encrypt: boolean;
  readonly maxFrameBytes: number;
  readonly keepaliveMs: number;
  readonly pinned: ReadonlySet<string> | null;
  readonly allowed: ReadonlySet<string> | null;
}

function invalid(text: string): never {
  throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', text);
}

function resolveOptions(options: HandshakeOptions): ResolvedOptions {
  const acceptorOnly =
    options.allowedPeerKeys !== undefined ||
    options.requirePeerKey !== undefined ||
    options.authorize !== undefined;
  if (options.role !== 'connector' && options.role !== 'acceptor') {
    invalid(`role must be 'connector' or 'acceptor'`);
  }
  if (options.role === 'connector' && acceptorOnly) {
    invalid('allowedPeerKeys, requirePeerKey and authorize are acceptor options');
  }
  if (options.role === 'acceptor' && options.peerKey !== undefined) {
    invalid('peerKey is a connector option');
  }
  const wantsIdentity =
    options.identity !== undefined ||
    options.peerKey !== undefined ||
    options.allowedPeerKeys !== undefined ||
    options.requirePeerKey === true;
  const encrypt = options.encrypt ?? wantsIdentity;
  if (!encrypt && (wantsIdentity || options.authorize === true)) {
    invalid('identity keys and authorization need encrypt: true');
  }
  const maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
  const keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_IDLE_MS;
  if (
    !Number.isInteger(maxFrameBytes) ||
    maxFrameBytes < MIN_MAX_FRAME_BYTES ||
    maxFrameBytes > MAX_MAX_FRAME_BYTES
  ) {
    invalid(`maxFrameBytes must be in ${MIN_MAX_FRAME_BYTES}..${MAX_MAX_FRAME_BYTES}`);
  }
  if (!Number.isInteger(keepaliveMs) || keepaliveMs < 0 || keepaliveMs > 0xffff_ffff) {
    invalid('keepaliveMs must be a u32');
  }
  if (options.identity !== undefined) {
    const { publicKey, secretKey } = options.identity;
    if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_BYTES) {
      invalid('identity.publicKey must be 32 bytes');
    }
    if (!(secretKey instanceof Uint8Array) || secretKey.length !== PUBLIC_KEY_BYTES) {
      invalid('identity.secretKey must be 32 bytes');
    }
  }
  const pins = options.peerKey;
  let pinned: ReadonlySet<string> | null = null;
  if (pins !== undefined) {
    const list = typeof pins === 'string' || pins instanceof Uint8Array ? [pins] : pins;
    pinned = new Set(list.map(normalizePublicKey));
    if (pinned.size === 0) invalid('peerKey is an empty list');
  }
  const allowed =
    options.allowedPeerKeys === undefined
      ? null
      : new Set(Array.from(options.allowedPeerKeys, normalizePublicKey));
  return { encrypt, maxFrameBytes, keepaliveMs, pinned, allowed };
}

/**
 * Throws `HERALD_ERR_WIRE_INVALID_ARGUMENT` for options a Handshake (or WireSession) would
 * refuse: call it where the options are given (listen, connect), before a socket exists.
 */
export function checkHandshakeOptions(options: HandshakeOptions): void {
  resolveOptions(options);
}

export class Handshake {
  readonly role: Role;
  readonly encrypt: boolean;
  readonly maxFrameBytes: number;
  readonly keepaliveMs: number;
  private readonly suite: CipherSuite;
  private readonly agreement: KeyAgreement;
  private readonly identity: KeyPair | null;
  private readonly pinned: ReadonlySet<string> | null;
  private readonly allowed: ReadonlySet<string> | null;
  private readonly requirePeerKey: boolean;
  private readonly manualAuthorize: boolean;
  private readonly transcript = new Transcript();
  private readonly output: Uint8Array[] = [];
  private stage: Stage = 'start';
  private ephemeral: KeyPair | null = null;
  private peerEphemeral: Uint8Array | null = null;
  private peerHello: Hello | null = null;
  private peer: PeerIdentity = ANONYMOUS_PEER;

  constructor(options: HandshakeOptions) {
    const o = resolveOptions(options);
    this.role = options.role;
    this.encrypt = o.encrypt;
    this.maxFrameBytes = o.maxFrameBytes;
    this.keepaliveMs = o.keepaliveMs;
    this.identity = options.identity ?? null;
    this.pinned = o.pinned;
    this.allowed = o.allowed;
    this.requirePeerKey = options.requirePeerKey === true || o.allowed !== null;
    this.manualAuthorize = options.authorize === true;
    this.suite = options.cipherSuite ?? naclCipherSuite;
    // Making the object costs nothing; key pairs are made only when a message needs one.
    this.agreement = this.suite.createKeyAgreement(options.random);
  }

  /** Our HELLO body; `ephemeralKey` is null in clear mode. */
  private helloBody(ephemeralKey: Uint8Array | null): Uint8Array {
    return encodeHelloBody({
      encrypt: this.encrypt,
      maxFrameBytes: this.maxFrameBytes,
      keepaliveMs: this.keepaliveMs,
      ephemeralKey,
    });
  }

  /**
   * The bytes to send first on the connection, in one write. Connector: preamble + HELLO
   * (with its ephemeral key when encrypted). Acceptor: preamble + HELLO in clear mode, the
   * preamble alone when encrypted (its HELLO waits for the connector's, so an acceptor does
   * no public-key work for a peer that sends nothing).
   */
  start(): Uint8Array {
    if (this.stage !== 'start') {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'start() called twice');
    }
    this.stage = 'hello';
    if (this.role === 'acceptor' && this.encrypt) return encodePreamble();
    let body: Uint8Array;
    if (this.encrypt) {
      this.ephemeral = this.agreement.generateKeyPair();
      body = this.helloBody(this.ephemeral.publicKey);
      this.transcript.mixHash(body);
    } else {
      body = this.helloBody(null);
    }
    return concatBytes([encodePreamble(), encodeFrame(FrameKind.HELLO, body)]);
  }

  /** Frames queued to send (HELLO, AUTH, READY or a CLOSE), in order; empties the queue. */
  takeOutput(): Uint8Array[] {
    return this.output.splice(0);
  }

  /** Whether the handshake waits for `accept()` or `refuse()`. */
  get authorizing(): boolean {
    return this.stage === 'authorizing';
  }

  /** One handshake frame from the peer (CLOSE frames are the caller's business). */
  receive(frame: HandshakeFrame): HandshakeResult {
    if (this.stage === 'done' || this.stage === 'failed' || this.stage === 'start') {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `receive() at ${this.stage}`);
    }
    try {
      switch (this.stage) {
        case 'hello':
          if (frame.kind !== FrameKind.HELLO) {
            throw new WireError(
              'HERALD_ERR_WIRE_EXPECTED_HELLO',
              `frame kind ${frame.kind} before HELLO`,
            );
          }
          return this.onHello(frame.body);
        case 'auth':
          return this.role === 'connector'
            ? this.onAcceptorAuth(this.expect(frame, FRAME_KIND_AUTH, 'AUTH'))
            : this.onConnectorAuth(this.expect(frame, FRAME_KIND_AUTH, 'AUTH'));
        case 'ready':
          return this.onReady(this.expect(frame, FRAME_KIND_READY, 'READY'));
        case 'authorizing':
          throw new WireError(
            'HERALD_ERR_WIRE_BAD_HANDSHAKE',
            `frame kind ${frame.kind} while authorization is pending`,
          );
      }
    } catch (err) {
      if (err instanceof WireError) return this.fail(err);
      throw err;
    }
  }

  /** Acceptor, after an `authorize` step: let the peer in (queues READY). */
  accept(): HandshakeResult {
    if (this.stage !== 'authorizing') {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `accept() at ${this.stage}`);
    }
    return this.ready();
  }

  /** Acceptor, after an `authorize` step: refuse the peer (queues CLOSE `not-authorized`). */
  refuse(text = 'not authorized'): HandshakeResult {
    if (this.stage !== 'authorizing') {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `refuse() at ${this.stage}`);
    }
    return this.fail(new WireError('HERALD_ERR_WIRE_NOT_AUTHORIZED', text));
  }

  private fail(error: WireError): HandshakeResult {
    this.stage = 'failed';
    this.output.push(encodeCloseFrame(error.closeReason, error.message));
    return { type: 'failed', error };
  }

  private expect(frame: HandshakeFrame, kind: number, name: string): Uint8Array {
    if (frame.kind !== kind) {
      throw new WireError(
        'HERALD_ERR_WIRE_BAD_HANDSHAKE',
        `expected ${name}, got frame kind ${frame.kind}`,
      );
    }
    return frame.body;
  }

  private opened(cipher: Cipher | null): HandshakeResult {
    this.stage = 'done';
    const hello = this.peerHello as Hello;
    return {
      type: 'ok',
      encrypted: cipher !== null,
      cipher,
      peerMaxFrameBytes: hello.maxFrameBytes,
      peerKeepaliveMs: hello.keepaliveMs,
      peer: this.peer,
    };
  }

  private onHello(body: Uint8Array): HandshakeResult {
    const hello = decodeHelloBody(body);
    if (this.encrypt && !hello.encrypt) {
      throw new WireError(
        'HERALD_ERR_WIRE_ENCRYPTION_REQUIRED',
        'this side requires encryption; the peer does not offer it',
      );
    }
    if (!this.encrypt && hello.encrypt) {
      throw new WireError(
        'HERALD_ERR_WIRE_ENCRYPTION_REFUSED',
        'the peer requires encryption; this side is configured without it',
      );
    }
    this.peerHello = hello;
    if (!this.encrypt) return this.opened(null);
    const peerE = hello.ephemeralKey as Uint8Array;
    this.peerEphemeral = peerE;
    if (this.role === 'connector') {
      // HELLO(e_a); then ee.
      this.transcript.mixHash(body);
      this.transcript.mixKey(this.agreement.dh(this.ephemeral as KeyPair, peerE));
      this.stage = 'auth';
      return { type: 'continue' };
    }
    // Acceptor: the first public-key work happens here, for a peer that has spoken.
    this.transcript.mixHash(body);
    const e = this.agreement.generateKeyPair();
    this.ephemeral = e;
    const ownBody = this.helloBody(e.publicKey);
    this.transcript.mixHash(ownBody);
    this.transcript.mixKey(this.agreement.dh(e, peerE)); // ee
    const auth = this.writeAuth(peerE); // [s, es], tag
    this.output.push(encodeFrame(FrameKind.HELLO, ownBody), auth);
    this.stage = 'auth';
    return { type: 'continue' };
  }

  /**
   * Our AUTH frame: flags, then (with an identity) the sealed static key and a DH of the
   * static key with the peer's ephemeral one, then a tag that confirms the keys so far.
   */
  private writeAuth(peerEphemeral: Uint8Array): Uint8Array {
    const w = new ByteWriter(1 + SEALED_STATIC_KEY_BYTES + AUTH_TAG_BYTES);
    const flags = this.identity === null ? 0 : AUTH_FLAG_STATIC_KEY;
    w.u8(flags);
    this.transcript.mixHash(Uint8Array.of(flags));
    if (this.identity !== null) {
      w.bytes(this.transcript.encryptAndHash(this.identity.publicKey));
      this.transcript.mixKey(this.agreement.dh(this.identity, peerEphemeral));
    }
    w.bytes(this.transcript.encryptAndHash(EMPTY));
    return encodeFrame(FRAME_KIND_AUTH, w.take());
  }

  /** Read the peer's AUTH: its static key (or none), checked by the tag. */
  private readAuth(body: Uint8Array): Uint8Array | null {
    const flags = body[0];
    if (flags !== 0 && flags !== AUTH_FLAG_STATIC_KEY) {
      throw new WireError('HERALD_ERR_WIRE_BAD_HANDSHAKE', `AUTH flags ${String(flags)}`);
    }
    const withKey = flags === AUTH_FLAG_STATIC_KEY;
    if (body.length !== 1 + (withKey ? SEALED_STATIC_KEY_BYTES : 0) + AUTH_TAG_BYTES) {
      throw new WireError('HERALD_ERR_WIRE_BAD_HANDSHAKE', `AUTH of ${body.length} bytes`);
    }
    this.transcript.mixHash(Uint8Array.of(flags));
    let staticKey: Uint8Array | null = null;
    if (withKey) {
      staticKey = this.transcript.decryptAndHash(body.subarray(1, 1 + SEALED_STATIC_KEY_BYTES));
      if (staticKey === null) throw authenticationFailed('AUTH');
      this.transcript.mixKey(this.agreement.dh(this.ephemeral as KeyPair, staticKey));
    }
    if (this.transcript.decryptAndHash(body.subarray(body.length - AUTH_TAG_BYTES)) === null) {
      throw authenticationFailed('AUTH');
    }
    return staticKey;
  }

  private onAcceptorAuth(body: Uint8Array): HandshakeResult {
    const serverKey = this.readAuth(body);
    if (this.pinned !== null) {
      const expected = Array.from(this.pinned).join(' or ');
      if (serverKey === null) {
        throw new WireError(
          'HERALD_ERR_WIRE_PEER_KEY_MISMATCH',
          `the acceptor presented no key; expected ${expected}`,
        );
      }
      if (!this.pinned.has(formatPublicKey(serverKey))) {
        throw new WireError(
          'HERALD_ERR_WIRE_PEER_KEY_MISMATCH',
          `the acceptor's key is ${formatPublicKey(serverKey)}; expected ${expected}`,
        );
      }
    }
    this.peer = identityOf(serverKey);
    // Only now, with the acceptor authenticated (when pinned), reveal our identity.
    this.output.push(this.writeAuth(this.peerEphemeral as Uint8Array));
    this.stage = 'ready';
    return { type: 'continue' };
  }

  private onConnectorAuth(body: Uint8Array): HandshakeResult {
    const clientKey = this.readAuth(body);
    this.peer = identityOf(clientKey);
    if (clientKey === null && this.requirePeerKey) {
      throw new WireError('HERALD_ERR_WIRE_NOT_AUTHORIZED', 'this side refuses anonymous peers');
    }
    if (this.allowed !== null && !this.allowed.has(this.peer.key as string)) {
      throw new WireError('HERALD_ERR_WIRE_NOT_AUTHORIZED', "the peer's key is not allowed");
    }
    if (this.manualAuthorize) {
      this.stage = 'authorizing';
      return { type: 'authorize', peer: this.peer };
    }
    return this.ready();
  }

  /** Acceptor: confirm the final keys to the connector and open. */
  private ready(): HandshakeResult {
    this.output.push(encodeFrame(FRAME_KIND_READY, this.transcript.encryptAndHash(EMPTY)));
    return this.opened(this.suite.createCipher(this.transcript.transportKey(), this.role));
  }

  private onReady(body: Uint8Array): HandshakeResult {
    if (body.length !== AUTH_TAG_BYTES) {
      throw new WireError('HERALD_ERR_WIRE_BAD_HANDSHAKE', `READY of ${body.length} bytes`);
    }
    if (this.transcript.decryptAndHash(body) === null) throw authenticationFailed('READY');
    return this.opened(this.suite.createCipher(this.transcript.transportKey(), this.role));
  }
}

function authenticationFailed(what: string): WireError {
  return new WireError(
    'HERALD_ERR_WIRE_AUTHENTICATION_FAILED',
    `the peer's ${what} does not authenticate (altered, replayed, or a different key)`,
  );
}
