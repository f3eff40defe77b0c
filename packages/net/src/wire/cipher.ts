/**
 * Record encryption and key agreement: the `Cipher` and `KeyAgreement` contracts, the
 * tweetnacl implementation, an X25519 implementation on `node:crypto` (OpenSSL; the same
 * bytes, several times faster than tweetnacl's scalar multiplication) and an optional
 * sodium-native record cipher loaded at run time. Records are XSalsa20-Poly1305 secretbox
 * (16-byte tag first, then ciphertext) under the key the handshake derives (handshake.ts).
 */
import {
  type KeyObject,
  createPrivateKey,
  createPublicKey,
  diffieHellman,
  generateKeyPairSync,
} from 'node:crypto';
import nacl from 'tweetnacl';
import {
  DIRECTION_ACCEPTOR,
  DIRECTION_CONNECTOR,
  MAX_RECORD_COUNTER,
  NONCE_BYTES,
  PUBLIC_KEY_BYTES,
} from './constants.js';
import { WireError } from './errors.js';

/** Which end of the TCP connection this side is. Decides the nonce direction byte. */
export type Role = 'connector' | 'acceptor';

/** Seals records sent and opens records received, for one connection. */
export interface Cipher {
  /** Seal `plain` as record number `counter` of this side's direction. Returns tag ‖ ciphertext. */
  seal(plain: Uint8Array, counter: number): Uint8Array;
  /** Open record number `counter` of the peer's direction; null if authentication fails. */
  open(sealed: Uint8Array, counter: number): Uint8Array | null;
}

export interface KeyPair {
  readonly publicKey: Uint8Array;
  readonly secretKey: Uint8Array;
}

/**
 * X25519 for the handshake. The only public-key operations Herald does go through this
 * interface, so a test can count them (an acceptor must do none before the connector's
 * HELLO has arrived).
 */
export interface KeyAgreement {
  /** A fresh ephemeral X25519 key pair (one scalar multiplication). */
  generateKeyPair(): KeyPair;
  /**
   * Raw X25519(own secret, peer public): 32 bytes, the same in every implementation.
   * Throws `HERALD_ERR_WIRE_BAD_PUBLIC_KEY` for a key that is not 32 bytes or a low-order
   * point (all-zero result).
   */
  dh(own: KeyPair, peerPublic: Uint8Array): Uint8Array;
}

/** A source of random bytes. */
export type RandomSource = (n: number) => Uint8Array;

export const defaultRandom: RandomSource = (n) => nacl.randomBytes(n);

/** A pluggable implementation of both halves. */
export interface CipherSuite {
  readonly name: string;
  createKeyAgreement(random?: RandomSource): KeyAgreement;
  createCipher(key: Uint8Array, role: Role): Cipher;
}

/** Fill `nonce` for `direction` and `counter`: [dir u8][counter u64 BE][15 zero bytes]. */
export function writeNonce(nonce: Uint8Array, direction: number, counter: number): void {
  if (!Number.isInteger(counter) || counter < 0 || counter > MAX_RECORD_COUNTER) {
    throw new WireError('HERALD_ERR_WIRE_COUNTER_EXHAUSTED', `record counter ${counter}`);
  }
  nonce.fill(0);
  nonce[0] = direction;
  const hi = Math.floor(counter / 0x1_0000_0000);
  const lo = counter >>> 0;
  nonce[1] = hi >>> 24;
  nonce[2] = hi >>> 16;
  nonce[3] = hi >>> 8;
  nonce[4] = hi;
  nonce[5] = lo >>> 24;
  nonce[6] = lo >>> 16;
  nonce[7] = lo >>> 8;
  nonce[8] = lo;
}

/** A fresh nonce (for tests and documentation). */
export function makeNonce(direction: number, counter: number): Uint8Array {
  const n = new Uint8Array(NONCE_BYTES);
  writeNonce(n, direction, counter);
  return n;
}

export function directionOf(role: Role): number {
  return role === 'connector' ? DIRECTION_CONNECTOR : DIRECTION_ACCEPTOR;
}

function peerDirectionOf(role: Role): number {
  return role === 'connector' ? DIRECTION_ACCEPTOR : DIRECTION_CONNECTOR;
}

function isAllZero(b: Uint8Array): boolean {
  let acc = 0;
  for (let i = 0; i < b.length; i++) acc |= b[i] as number;
  return acc === 0;
}

function checkPeerKey(peerPublic: Uint8Array): void {
  if (peerPublic.length !== PUBLIC_KEY_BYTES) {
    throw new WireError('HERALD_ERR_WIRE_BAD_PUBLIC_KEY', 'peer key is not 32 bytes');
  }
}

function lowOrder(): WireError {
  return new WireError('HERALD_ERR_WIRE_BAD_PUBLIC_KEY', 'peer key is a low-order point');
}

/** X25519 in pure JavaScript (tweetnacl): about 1 ms per operation. */
class NaclKeyAgreement implements KeyAgreement {
  constructor(private readonly random: RandomSource) {}

  generateKeyPair(): KeyPair {
    const secretKey = this.random(nacl.box.secretKeyLength);
    return { publicKey: nacl.scalarMult.base(secretKey), secretKey };
  }

  dh(own: KeyPair, peerPublic: Uint8Array): Uint8Array {
    checkPeerKey(peerPublic);
    const shared = nacl.scalarMult(own.secretKey, peerPublic);
    if (isAllZero(shared)) throw lowOrder();
    return shared;
  }
}

const b64url = (b: Uint8Array): string => Buffer.from(b).toString('base64url');

/**
 * An ephemeral pair made by OpenSSL: the secret stays inside the KeyObject and is exported
 * only if someone reads `secretKey` (nobody does in the handshake).
 */
class NodeKeyPair implements KeyPair {
  private exported: Uint8Array | null = null;

  constructor(
    readonly publicKey: Uint8Array,
    readonly privateKey: KeyObject,
  ) {}

  get secretKey(): Uint8Array {
    if (this.exported === null) {
      const d = this.privateKey.export({ format: 'jwk' }).d as string;
      this.exported = new Uint8Array(Buffer.from(d, 'base64url'));
    }
    return this.exported;
  }
}

/**
 * Private keys given as bytes, imported into OpenSSL once per key-pair object for the whole
 * process: a static identity is used by every handshake, and importing it costs about as
 * much as a DH.
 */
const importedPrivateKeys = new WeakMap<KeyPair, KeyObject>();

/**
 * X25519 through `node:crypto` (OpenSSL). Keys cross the boundary as JWK, which OpenSSL 3
 * imports an order of magnitude faster than DER. A private key given as bytes (a loaded
 * identity) is imported once and cached per key-pair object.
 */
class NodeKeyAgreement implements KeyAgreement {
  private readonly imported = importedPrivateKeys;
  /** The two peer keys imported last (a handshake has at most two: ephemeral and static). */
  private lastPeer: { readonly x: string; readonly key: KeyObject } | null = null;
  private otherPeer: { readonly x: string; readonly key: KeyObject } | null = null;

  /** `random` null: OpenSSL's own generator (fastest); else keys come from `random`. */
  constructor(private readonly random: RandomSource | null) {}

  generateKeyPair(): KeyPair {
    if (this.random === null) {
      const { publicKey, privateKey } = generateKeyPairSync('x25519');
      const x = publicKey.export({ format: 'jwk' }).x as string;
      return new NodeKeyPair(new Uint8Array(Buffer.from(x, 'base64url')), privateKey);
    }
    const secretKey = this.random(PUBLIC_KEY_BYTES);
    const privateKey = importPrivate(secretKey);
    const x = createPublicKey(privateKey).export({ format: 'jwk' }).x as string;
    const pair: KeyPair = { publicKey: new Uint8Array(Buffer.from(x, 'base64url')), secretKey };
    this.imported.set(pair, privateKey);
    return pair;
  }

  /**
   * The peer's key as a KeyObject. A handshake uses the peer's ephemeral key in two DHs, and
   * on the connector they are not consecutive (ee with E_a, es with S_a, se with E_a again),
   * so the last two imported are kept: each peer key is imported once (an import costs
   * ~13 µs, a quarter of a DH).
   */
  private importPublic(peerPublic: Uint8Array): KeyObject {
    const x = b64url(peerPublic);
    const last = this.lastPeer;
    if (last?.x === x) return last.key;
    const other = this.otherPeer;
    if (other?.x === x) {
      this.otherPeer = last;
      this.lastPeer = other;
      return other.key;
    }
    const key = createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x }, format: 'jwk' });
    this.otherPeer = last;
    this.lastPeer = { x, key };
    return key;
  }

  dh(own: KeyPair, peerPublic: Uint8Array): Uint8Array {
    checkPeerKey(peerPublic);
    let privateKey = own instanceof NodeKeyPair ? own.privateKey : this.imported.get(own);
    if (privateKey === undefined) {
      privateKey = importPrivate(own.secretKey);
      this.imported.set(own, privateKey);
    }
    const publicKey = this.importPublic(peerPublic);
    let shared: Uint8Array;
    try {
      shared = new Uint8Array(diffieHellman({ privateKey, publicKey }));
    } catch (err) {
      // OpenSSL refuses an all-zero result ("failed during derivation").
      throw new WireError('HERALD_ERR_WIRE_BAD_PUBLIC_KEY', 'peer key is a low-order point', {
        cause: err,
      });
    }
    if (isAllZero(shared)) throw lowOrder();
    return shared;
  }
}

/** Import raw X25519 secret bytes (JWK needs an `x`; OpenSSL derives the real one itself). */
function importPrivate(secretKey: Uint8Array): KeyObject {
  const d = b64url(secretKey);
  return createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d, x: d }, format: 'jwk' });
}

/** X25519 in tweetnacl. `random` defaults to `nacl.randomBytes`. */
export function naclKeyAgreement(random: RandomSource = defaultRandom): KeyAgreement {
  return new NaclKeyAgreement(random);
}

/**
 * X25519 in `node:crypto`. Without `random`, key pairs come from OpenSSL's generator;
 * with it (tests), the secret is `random(32)`, so the bytes match tweetnacl's.
 */
export function nodeKeyAgreement(random?: RandomSource): KeyAgreement {
  return new NodeKeyAgreement(random ?? null);
}

/**
 * The nonce rule shared by every implementation: a direction byte and the record counter
 * (see writeNonce), one buffer per direction, so no nonce is ever reused under a key.
 */
abstract class CounterNonceCipher implements Cipher {
  private readonly sendNonce = new Uint8Array(NONCE_BYTES);
  private readonly recvNonce = new Uint8Array(NONCE_BYTES);
  private readonly sendDir: number;
  private readonly recvDir: number;

  constructor(role: Role) {
    this.sendDir = directionOf(role);
    this.recvDir = peerDirectionOf(role);
  }

  seal(plain: Uint8Array, counter: number): Uint8Array {
    writeNonce(this.sendNonce, this.sendDir, counter);
    return this.sealWith(plain, this.sendNonce);
  }

  open(sealed: Uint8Array, counter: number): Uint8Array | null {
    writeNonce(this.recvNonce, this.recvDir, counter);
    return this.openWith(sealed, this.recvNonce);
  }

  protected abstract sealWith(plain: Uint8Array, nonce: Uint8Array): Uint8Array;
  protected abstract openWith(sealed: Uint8Array, nonce: Uint8Array): Uint8Array | null;
}

class NaclCipher extends CounterNonceCipher {
  constructor(
    private readonly key: Uint8Array,
    role: Role,
  ) {
    super(role);
  }

  protected sealWith(plain: Uint8Array, nonce: Uint8Array): Uint8Array {
    return nacl.box.after(plain, nonce, this.key);
  }

  protected openWith(sealed: Uint8Array, nonce: Uint8Array): Uint8Array | null {
    return nacl.box.open.after(sealed, nonce, this.key);
  }
}

/** Everything in pure JavaScript tweetnacl (for comparison; X25519 is slow here). */
export const tweetnaclCipherSuite: CipherSuite = {
  name: 'tweetnacl',
  createKeyAgreement: (random) => naclKeyAgreement(random),
  createCipher: (key, role) => new NaclCipher(key, role),
};

/**
 * The default suite: records in tweetnacl, X25519 in `node:crypto` (same bytes as
 * tweetnacl's, several times faster: the handshake's cost is its public-key operations).
 */
export const naclCipherSuite: CipherSuite = {
  name: 'tweetnacl+node-x25519',
  createKeyAgreement: (random) => nodeKeyAgreement(random),
  createCipher: (key, role) => new NaclCipher(key, role),
};

/** The subset of sodium-native this module uses. */
export interface SodiumNativeLike {
  readonly crypto_secretbox_MACBYTES: number;
  crypto_secretbox_easy(c: Uint8Array, m: Uint8Array, n: Uint8Array, k: Uint8Array): void;
  crypto_secretbox_open_easy(m: Uint8Array, c: Uint8Array, n: Uint8Array, k: Uint8Array): boolean;
}

class SodiumCipher extends CounterNonceCipher {
  constructor(
    private readonly sodium: SodiumNativeLike,
    private readonly key: Uint8Array,
    role: Role,
  ) {
    super(role);
  }

  protected sealWith(plain: Uint8Array, nonce: Uint8Array): Uint8Array {
    const out = new Uint8Array(plain.length + this.sodium.crypto_secretbox_MACBYTES);
    this.sodium.crypto_secretbox_easy(out, plain, nonce, this.key);
    return out;
  }

  protected openWith(sealed: Uint8Array, nonce: Uint8Array): Uint8Array | null {
    const mac = this.sodium.crypto_secretbox_MACBYTES;
    if (sealed.length < mac) return null;
    const out = new Uint8Array(sealed.length - mac);
    return this.sodium.crypto_secretbox_open_easy(out, sealed, nonce, this.key) ? out : null;
  }
}

/**
 * A suite whose symmetric part (the per-record hot path) runs in sodium-native; X25519
 * runs in `node:crypto` (a few operations per connection). Same bytes on the wire.
 */
export function sodiumCipherSuite(sodium: SodiumNativeLike): CipherSuite {
  return {
    name: 'sodium-native',
    createKeyAgreement: (random) => nodeKeyAgreement(random),
    createCipher: (key, role) => new SodiumCipher(sodium, key, role),
  };
}

function isSodiumLike(m: unknown): m is SodiumNativeLike {
  const s = m as Partial<SodiumNativeLike> | null;
  return (
    s != null &&
    typeof s.crypto_secretbox_easy === 'function' &&
    typeof s.crypto_secretbox_open_easy === 'function' &&
    typeof s.crypto_secretbox_MACBYTES === 'number'
  );
}

/**
 * The fastest available suite: sodium-native if it can be imported (an optional
 * dependency, not installed by default), else tweetnacl. `importer` is injectable for tests.
 */
export async function loadCipherSuite(
  importer: (specifier: string) => Promise<unknown> = (s) => import(s),
): Promise<CipherSuite> {
  try {
    const mod = (await importer('sodium-native')) as { default?: unknown } | null;
    const sodium = mod != null && isSodiumLike(mod.default) ? mod.default : mod;
    if (isSodiumLike(sodium)) return sodiumCipherSuite(sodium);
  } catch {
    // Not installed or failed to load: the pure-JS suite is always available.
  }
  return naclCipherSuite;
}
