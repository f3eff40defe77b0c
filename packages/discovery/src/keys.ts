/**
 * Identity keys in the two spellings discovery meets: the registry contract carries public
 * keys as hex (contracts §5), @herald/net prints them as `herald-x25519:<base64url>`.
 */
import { formatPublicKey, parsePublicKey } from '@herald/net';
import { DiscoveryError } from './errors.js';

const HEX_KEY = /^[0-9a-f]{64}$/u;

/** Hex of a public key given as hex, as `herald-x25519:…`, or as 32 bytes. */
export function keyToHex(key: string | Uint8Array): string {
  if (typeof key === 'string' && HEX_KEY.test(key.toLowerCase())) return key.toLowerCase();
  try {
    return Buffer.from(parsePublicKey(key)).toString('hex');
  } catch (error) {
    throw new DiscoveryError('HERALD_ERR_BAD_OPTION', `not a public key: ${String(key)}`, {
      cause: error,
    });
  }
}

/** `herald-x25519:…` of a hex key (for peerKey pins). */
export function hexToPrintable(hex: string): string {
  return formatPublicKey(new Uint8Array(Buffer.from(hex, 'hex')));
}
