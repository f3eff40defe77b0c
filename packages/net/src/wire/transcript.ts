/**
 * The handshake's symmetric state, after Noise's SymmetricState, on NaCl primitives:
 * SHA-512 (`crypto_hash`; computed by node:crypto, the same bytes) for the transcript hash
 * and key chaining, XSalsa20-Poly1305 (`crypto_secretbox`) for the few boxes a handshake
 * sends. Normative: docs/wire-protocol.md, section 4.
 *
 * - `h` (64 bytes) hashes every handshake byte both sides have seen, so a box only opens
 *   for a peer that saw the same transcript (a replayed or altered message fails).
 * - `ck` (32 bytes) chains every Diffie-Hellman result; `k` (32 bytes) is the current key.
 * - Each box is sealed under `SHA-512(k ‖ h)[0..32]` with a zero nonce: `h` changes after
 *   every box (the box itself is hashed in), so no box key is ever used twice.
 */
import * as nodeCrypto from 'node:crypto';
import nacl from 'tweetnacl';
import { NONCE_BYTES, SHARED_KEY_BYTES } from './constants.js';
import { WireError } from './errors.js';

/** Normative: the label hashed first; it names the protocol and every primitive. */
export const HANDSHAKE_LABEL = 'Herald handshake v2: X25519, XSalsa20-Poly1305, SHA-512';

const TRANSPORT_LABEL = new TextEncoder().encode('herald transport key');
/** `h` at the start of every handshake (computed once). */
let initialHash: Uint8Array | null = null;
const ZERO_NONCE = new Uint8Array(NONCE_BYTES);

/**
 * node:crypto's one-shot `hash()` (Node 20.12 and later): a handshake hashes ~16 times per
 * side, and a `Hash` object per call cost ~1.5 µs more each (bench/handshake.ts profile).
 * Older Node versions use `createHash`.
 */
const oneShot = (nodeCrypto as { hash?: typeof nodeCrypto.hash }).hash;
/** Input of one hash: every transcript hash is over at most 64 + 64 + 20 bytes but a body. */
const scratch = new Uint8Array(512);

function sha512(a: Uint8Array, b: Uint8Array, c?: Uint8Array): Uint8Array {
  const n = a.length + b.length + (c?.length ?? 0);
  if (oneShot === undefined || n > scratch.length) {
    const hash = nodeCrypto.createHash('sha512');
    hash.update(a);
    hash.update(b);
    if (c !== undefined) hash.update(c);
    return new Uint8Array(hash.digest());
  }
  scratch.set(a, 0);
  scratch.set(b, a.length);
  if (c !== undefined) scratch.set(c, a.length + b.length);
  return new Uint8Array(oneShot('sha512', scratch.subarray(0, n), 'buffer'));
}

export class Transcript {
  private h: Uint8Array;
  private ck: Uint8Array;
  private k: Uint8Array | null = null;

  constructor() {
    initialHash ??= sha512(new TextEncoder().encode(HANDSHAKE_LABEL), new Uint8Array(0));
    this.h = initialHash;
    this.ck = this.h.slice(0, SHARED_KEY_BYTES);
  }

  /** Whether a key has been mixed in (boxes need one). */
  get hasKey(): boolean {
    return this.k !== null;
  }

  mixHash(data: Uint8Array): void {
    this.h = sha512(this.h, data);
  }

  /** Mix in a Diffie-Hellman result: `ck, k = SHA-512(ck ‖ dh)` split in two halves. */
  mixKey(dh: Uint8Array): void {
    const t = sha512(this.ck, dh);
    this.ck = t.slice(0, SHARED_KEY_BYTES);
    this.k = t.slice(SHARED_KEY_BYTES, 2 * SHARED_KEY_BYTES);
  }

  private boxKey(): Uint8Array {
    if (this.k === null) {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'transcript: no key mixed in');
    }
    return sha512(this.k, this.h).subarray(0, SHARED_KEY_BYTES);
  }

  /** Seal `plain` (16 bytes longer), then hash the box into the transcript. */
  encryptAndHash(plain: Uint8Array): Uint8Array {
    const box = nacl.secretbox(plain, ZERO_NONCE, this.boxKey());
    this.mixHash(box);
    return box;
  }

  /** Open a box sealed by the peer at the same point of the transcript; null if it fails. */
  decryptAndHash(box: Uint8Array): Uint8Array | null {
    const plain = nacl.secretbox.open(box, ZERO_NONCE, this.boxKey());
    if (plain === null) return null;
    this.mixHash(box);
    return plain;
  }

  /**
   * The record key for the connection: `SHA-512(ck ‖ h ‖ label)[0..32]`. It depends on
   * every DH result (forward secrecy through the ephemeral one) and on the whole
   * transcript (both sides saw the same handshake).
   */
  transportKey(): Uint8Array {
    return sha512(this.ck, this.h, TRANSPORT_LABEL).slice(0, SHARED_KEY_BYTES);
  }
}
