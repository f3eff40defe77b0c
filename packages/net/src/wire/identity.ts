/**
 * Static identity keys: an X25519 key pair that names a Herald process to its peers (the
 * handshake proves possession of the secret half). Create, save to a private file, load,
 * and a stable printable form of the public key for pinning and allow-lists.
 *
 * The key file is text, so an operator can read the public key from it:
 *
 * ```
 * # Herald identity key (X25519). Keep this file private (mode 0600).
 * public herald-x25519:<43 base64url characters>
 * secret <43 base64url characters>
 * ```
 */
import { open } from 'node:fs/promises';
import nacl from 'tweetnacl';
import { type KeyPair, type RandomSource, defaultRandom } from './cipher.js';
import { PUBLIC_KEY_BYTES } from './constants.js';
import { WireError } from './errors.js';

/** Normative: the prefix of a printable public key. */
export const PUBLIC_KEY_PREFIX = 'herald-x25519:';
/** Mode a key file is created with (owner read/write only). */
export const KEY_FILE_MODE = 0o600;
/** Permission bits that must be clear on a key file before it is loaded (group, others). */
const EXPOSED_BITS = 0o077;
const FILE_HEADER = '# Herald identity key (X25519). Keep this file private (mode 0600).';
/** Refuse to read a "key file" larger than this: it is not one. */
const MAX_KEY_FILE_BYTES = 4096;

/** A static identity: an X25519 key pair. `secretKey` never leaves the process. */
export type IdentityKeyPair = KeyPair;

/** A new identity key pair; `random` (32 bytes) defaults to `nacl.randomBytes`. */
export function createIdentity(random: RandomSource = defaultRandom): IdentityKeyPair {
  const secretKey = random(nacl.scalarMult.scalarLength);
  return { publicKey: nacl.scalarMult.base(secretKey), secretKey };
}

/** The identity whose secret half is `secretKey` (32 bytes). */
export function identityFromSecret(secretKey: Uint8Array): IdentityKeyPair {
  if (secretKey.length !== nacl.scalarMult.scalarLength) {
    throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'a secret key is 32 bytes');
  }
  return { publicKey: nacl.scalarMult.base(secretKey), secretKey: secretKey.slice() };
}

/** The printable form: `herald-x25519:` then the 32 bytes in base64url without padding. */
export function formatPublicKey(publicKey: Uint8Array): string {
  if (publicKey.length !== PUBLIC_KEY_BYTES) {
    throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'a public key is 32 bytes');
  }
  return PUBLIC_KEY_PREFIX + Buffer.from(publicKey).toString('base64url');
}

function decodeKey(b64: string, what: string): Uint8Array {
  // Buffer's base64url decoder skips bad characters; re-encoding catches them.
  const bytes = Buffer.from(b64, 'base64url');
  if (bytes.length !== PUBLIC_KEY_BYTES || bytes.toString('base64url') !== b64) {
    throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', `${what} is not 32 base64url bytes`);
  }
  return new Uint8Array(bytes);
}

/**
 * A public key from its printable form (or 32 bytes, returned as a copy). Throws
 * `HERALD_ERR_WIRE_INVALID_ARGUMENT` for anything else.
 */
export function parsePublicKey(key: string | Uint8Array): Uint8Array {
  if (typeof key !== 'string') {
    if (key.length !== PUBLIC_KEY_BYTES) {
      throw new WireError('HERALD_ERR_WIRE_INVALID_ARGUMENT', 'a public key is 32 bytes');
    }
    return key.slice();
  }
  if (!key.startsWith(PUBLIC_KEY_PREFIX)) {
    throw new WireError(
      'HERALD_ERR_WIRE_INVALID_ARGUMENT',
      `a public key starts with "${PUBLIC_KEY_PREFIX}"`,
    );
  }
  return decodeKey(key.slice(PUBLIC_KEY_PREFIX.length), 'the public key');
}

/** Canonical printable form of a key given either way (for allow-list sets). */
export function normalizePublicKey(key: string | Uint8Array): string {
  return formatPublicKey(parsePublicKey(key));
}

/**
 * Write `identity` to `path`, created with mode 0600. Refuses to replace an existing file
 * unless `overwrite` (a key is not something to lose by accident); an existing file is
 * set back to 0600 before it is written.
 */
export async function saveIdentity(
  path: string,
  identity: IdentityKeyPair,
  options: { readonly overwrite?: boolean } = {},
): Promise<void> {
  const text = [
    FILE_HEADER,
    `public ${formatPublicKey(identity.publicKey)}`,
    `secret ${Buffer.from(identity.secretKey).toString('base64url')}`,
    '',
  ].join('\n');
  const file = await open(path, options.overwrite === true ? 'w' : 'wx', KEY_FILE_MODE);
  try {
    // The mode argument is filtered by the umask and ignored for an existing file.
    await file.chmod(KEY_FILE_MODE);
    await file.writeFile(text, 'utf8');
  } finally {
    await file.close();
  }
}

/**
 * Read an identity saved by `saveIdentity`. Throws `HERALD_ERR_WIRE_KEY_FILE_EXPOSED` if
 * the file can be read or written by group or others (checked on the open file, so it
 * cannot be swapped between the check and the read; skipped on Windows, which has no such
 * mode bits), and `HERALD_ERR_WIRE_KEY_FILE_INVALID` if it is not a key file or its public
 * line does not match its secret.
 */
export async function loadIdentity(path: string): Promise<IdentityKeyPair> {
  const file = await open(path, 'r');
  let text: string;
  try {
    const st = await file.stat();
    if (!st.isFile() || st.size > MAX_KEY_FILE_BYTES) {
      throw new WireError('HERALD_ERR_WIRE_KEY_FILE_INVALID', `${path} is not a key file`);
    }
    if (process.platform !== 'win32' && (st.mode & EXPOSED_BITS) !== 0) {
      throw new WireError(
        'HERALD_ERR_WIRE_KEY_FILE_EXPOSED',
        `${path} is accessible by others (mode ${(st.mode & 0o777).toString(8)}); ` +
          `run chmod 600 on it`,
      );
    }
    text = await file.readFile('utf8');
  } finally {
    await file.close();
  }
  let publicText: string | undefined;
  let secretText: string | undefined;
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const [field, value, extra] = line.split(/\s+/);
    if (extra === undefined && field === 'public' && publicText === undefined) {
      publicText = value;
    } else if (extra === undefined && field === 'secret' && secretText === undefined) {
      secretText = value;
    } else {
      throw new WireError('HERALD_ERR_WIRE_KEY_FILE_INVALID', `${path}: unexpected line`);
    }
  }
  if (publicText === undefined || secretText === undefined) {
    throw new WireError('HERALD_ERR_WIRE_KEY_FILE_INVALID', `${path}: no public or secret line`);
  }
  let identity: IdentityKeyPair;
  let claimed: Uint8Array;
  try {
    identity = identityFromSecret(decodeKey(secretText, 'the secret key'));
    claimed = parsePublicKey(publicText);
  } catch (err) {
    throw new WireError('HERALD_ERR_WIRE_KEY_FILE_INVALID', `${path}: ${(err as Error).message}`, {
      cause: err,
    });
  }
  if (!nacl.verify(claimed, identity.publicKey)) {
    throw new WireError(
      'HERALD_ERR_WIRE_KEY_FILE_INVALID',
      `${path}: the public key does not match the secret key`,
    );
  }
  return identity;
}
