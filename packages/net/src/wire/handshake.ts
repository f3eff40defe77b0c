/**
 * The connection handshake as a pure state machine: produce our preamble + HELLO, consume
 * the peer's HELLO, decide. Never falls back to clear text when either side wants
 * encryption and the other does not.
 */
import { ByteWriter } from './bytes.js';
import {
  DEFAULT_KEEPALIVE_IDLE_MS,
  DEFAULT_MAX_FRAME_BYTES,
  MAX_MAX_FRAME_BYTES,
  MIN_MAX_FRAME_BYTES,
} from './constants.js';
import {
  type Cipher,
  type CipherSuite,
  type KeyPair,
  type RandomSource,
  type Role,
  defaultRandom,
  naclCipherSuite,
} from './cipher.js';
import { WireError } from './errors.js';
import {
  FrameKind,
  type Hello,
  encodeCloseFrame,
  encodeHelloBody,
  encodePreamble,
  writeFrame,
} from './frames.js';

export interface HandshakeOptions {
  /** Which end of the TCP connection this is (decides the nonce direction). */
  readonly role: Role;
  /** Require encryption. Default false. Both sides must agree. */
  readonly encrypt?: boolean;
  /** Largest frame body we accept. Default `DEFAULT_MAX_FRAME_BYTES`. */
  readonly maxFrameBytes?: number;
  /** Our keep-alive idle time, announced to the peer. Default `DEFAULT_KEEPALIVE_IDLE_MS`. */
  readonly keepaliveMs?: number;
  /** Random source for the ephemeral key. Default `nacl.randomBytes`. */
  readonly random?: RandomSource;
  /** Crypto implementation. Default tweetnacl (see `loadCipherSuite`). */
  readonly cipherSuite?: CipherSuite;
}

export type HandshakeResult =
  | {
      readonly type: 'ok';
      readonly encrypted: boolean;
      /** Present iff `encrypted`. */
      readonly cipher: Cipher | null;
      readonly peerMaxFrameBytes: number;
      readonly peerKeepaliveMs: number;
    }
  | {
      readonly type: 'failed';
      readonly error: WireError;
      /** A clear-text CLOSE frame to send before closing the socket. */
      readonly closeFrame: Uint8Array;
    };

export class Handshake {
  readonly role: Role;
  readonly encrypt: boolean;
  readonly maxFrameBytes: number;
  readonly keepaliveMs: number;
  private readonly suite: CipherSuite;
  private readonly keyPair: KeyPair | null;
  private result: HandshakeResult | null = null;

  constructor(options: HandshakeOptions) {
    this.role = options.role;
    this.encrypt = options.encrypt ?? false;
    this.maxFrameBytes = options.maxFrameBytes ?? DEFAULT_MAX_FRAME_BYTES;
    this.keepaliveMs = options.keepaliveMs ?? DEFAULT_KEEPALIVE_IDLE_MS;
    if (
      !Number.isInteger(this.maxFrameBytes) ||
      this.maxFrameBytes < MIN_MAX_FRAME_BYTES ||
      this.maxFrameBytes > MAX_MAX_FRAME_BYTES
    ) {
      throw new WireError(
        'HERALD_ERR_WIRE_INVALID_ARGUMENT',
        `maxFrameBytes must be in ${MIN_MAX_FRAME_BYTES}..${MAX_MAX_FRAME_BYTES}`,
      );
    }
    if (
      !Number.isInteger(this.keepaliveMs) ||
      this.keepaliveMs < 0 ||
      this.keepaliveMs > 0xffff_ffff
    ) {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'keepaliveMs must be a u32');
    }
    this.suite = options.cipherSuite ?? naclCipherSuite;
    this.keyPair = this.encrypt
      ? this.suite.createKeyAgreement(options.random ?? defaultRandom).generateKeyPair()
      : null;
  }

  /** Our HELLO contents. */
  get hello(): Hello {
    return {
      encrypt: this.encrypt,
      maxFrameBytes: this.maxFrameBytes,
      keepaliveMs: this.keepaliveMs,
      ephemeralKey: this.keyPair === null ? null : this.keyPair.publicKey,
    };
  }

  /** The bytes to send first on the connection: preamble then HELLO, in one write. */
  start(): Uint8Array {
    const w = new ByteWriter(64);
    w.bytes(encodePreamble());
    writeFrame(w, FrameKind.HELLO, encodeHelloBody(this.hello));
    return w.take();
  }

  /** Decide from the peer's HELLO. Call once; a second call returns the first result. */
  receiveHello(peer: Hello): HandshakeResult {
    if (this.result !== null) return this.result;
    this.result = this.decide(peer);
    return this.result;
  }

  private fail(error: WireError): HandshakeResult {
    return {
      type: 'failed',
      error,
      closeFrame: encodeCloseFrame(error.closeReason, error.message),
    };
  }

  private decide(peer: Hello): HandshakeResult {
    if (this.encrypt && !peer.encrypt) {
      return this.fail(
        new WireError(
          'HERALD_ERR_WIRE_ENCRYPTION_REQUIRED',
          'this side requires encryption; the peer does not offer it',
        ),
      );
    }
    if (!this.encrypt && peer.encrypt) {
      return this.fail(
        new WireError(
          'HERALD_ERR_WIRE_ENCRYPTION_REFUSED',
          'the peer requires encryption; this side is configured without it',
        ),
      );
    }
    let cipher: Cipher | null = null;
    if (this.keyPair !== null) {
      if (peer.ephemeralKey === null) {
        return this.fail(new WireError('HERALD_ERR_WIRE_BAD_HELLO', 'no ephemeral key'));
      }
      try {
        const key = this.suite
          .createKeyAgreement()
          .sharedKey(peer.ephemeralKey, this.keyPair.secretKey);
        cipher = this.suite.createCipher(key, this.role);
      } catch (err) {
        if (err instanceof WireError) return this.fail(err);
        throw err;
      }
    }
    return {
      type: 'ok',
      encrypted: cipher !== null,
      cipher,
      peerMaxFrameBytes: peer.maxFrameBytes,
      peerKeepaliveMs: peer.keepaliveMs,
    };
  }
}
