/**
 * Listings as KV entries: the key names the listing (`<name>.<id>`, each base64url so any
 * service name is a valid key and an exact search is a key filter), the value is the
 * listing as JSON. Anyone with write access to the bucket can put anything there, so a
 * value is checked field by field, with bounds, before it becomes a Listing; a bad one is
 * ignored (and reported), never thrown at a watcher.
 */
import { MAX_ALLOW, MAX_ENDPOINTS, MAX_NAME_LENGTH } from '../constants.js';
import type { Endpoint, Listing } from '../registry.js';
import { MAX_LISTING_BYTES } from './constants.js';

/** Longest listing id, in characters. */
export const MAX_LISTING_ID_LENGTH = 128;

/** Longest host name in an endpoint (DNS names are at most 253). */
const MAX_HOST_LENGTH = 255;

/** Longest identity (hex) or relay subject. */
const MAX_FIELD_LENGTH = 256;

const SCOPES: ReadonlySet<string> = new Set(['host', 'lan', 'cluster']);

function encodeToken(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

function decodeToken(token: string): string | undefined {
  if (!/^[A-Za-z0-9_-]+$/.test(token)) return undefined;
  const text = Buffer.from(token, 'base64url').toString('utf8');
  // Only the canonical encoding names a listing (no second key for the same name).
  return encodeToken(text) === token ? text : undefined;
}

/** The KV key of a listing. */
export function listingKey(name: string, id: string): string {
  return `${encodeToken(name)}.${encodeToken(id)}`;
}

/** The key filter that watches every listing of one name. */
export function nameFilter(name: string): string {
  return `${encodeToken(name)}.*`;
}

/** The name and id a key stands for, or undefined for a key that is not a listing's. */
export function parseListingKey(key: string): { name: string; id: string } | undefined {
  const parts = key.split('.');
  if (parts.length !== 2) return undefined;
  const name = decodeToken(parts[0] as string);
  const id = decodeToken(parts[1] as string);
  if (name === undefined || id === undefined) return undefined;
  return { name, id };
}

/** The stored value of a listing: its JSON, with only the contract's fields. */
export function encodeListing(listing: Listing): Uint8Array {
  const value: Record<string, unknown> = {
    id: listing.id,
    name: listing.name,
    endpoints: listing.endpoints.map((e) => ({ host: e.host, port: e.port, scope: e.scope })),
  };
  if (listing.identity !== undefined) value['identity'] = listing.identity;
  if (listing.allow !== undefined) value['allow'] = [...listing.allow];
  if (listing.relay !== undefined) value['relay'] = listing.relay;
  return Buffer.from(JSON.stringify(value), 'utf8');
}

function isBoundedString(value: unknown, max: number): value is string {
  return typeof value === 'string' && value.length > 0 && value.length <= max;
}

/** Why a listing cannot be stored or read, or undefined when it is a good one. */
export function listingProblem(value: unknown): string | undefined {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not an object';
  const v = value as Record<string, unknown>;
  if (!isBoundedString(v['id'], MAX_LISTING_ID_LENGTH))
    return `id is not a string of 1 to ${MAX_LISTING_ID_LENGTH} characters`;
  if (!isBoundedString(v['name'], MAX_NAME_LENGTH))
    return `name is not a string of 1 to ${MAX_NAME_LENGTH} characters`;
  const endpoints = v['endpoints'];
  if (!Array.isArray(endpoints) || endpoints.length > MAX_ENDPOINTS)
    return `endpoints is not a list of at most ${MAX_ENDPOINTS}`;
  for (const e of endpoints as unknown[]) {
    if (typeof e !== 'object' || e === null) return 'an endpoint is not an object';
    const { host, port, scope } = e as Record<string, unknown>;
    if (!isBoundedString(host, MAX_HOST_LENGTH)) return 'an endpoint host is not a short string';
    if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65_535)
      return 'an endpoint port is not 1..65535';
    if (typeof scope !== 'string' || !SCOPES.has(scope)) return 'an endpoint scope is unknown';
  }
  const identity = v['identity'];
  if (identity !== undefined && !isBoundedString(identity, MAX_FIELD_LENGTH))
    return 'identity is not a short string';
  const allow = v['allow'];
  if (allow !== undefined) {
    if (!Array.isArray(allow) || allow.length > MAX_ALLOW)
      return `allow is not a list of at most ${MAX_ALLOW}`;
    if (!(allow as unknown[]).every((a) => isBoundedString(a, MAX_FIELD_LENGTH)))
      return 'an allow entry is not a short string';
  }
  const relay = v['relay'];
  if (relay !== undefined && !isBoundedString(relay, MAX_FIELD_LENGTH))
    return 'relay is not a short string';
  return undefined;
}

/** The listing a stored value holds, or a reason it is not one. */
export function decodeListing(
  value: Uint8Array,
  key: { readonly name: string; readonly id: string },
): Listing | string {
  if (value.length > MAX_LISTING_BYTES) return `value of ${value.length} bytes`;
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(value.buffer, value.byteOffset, value.length).toString('utf8'));
  } catch {
    return 'value is not JSON';
  }
  const problem = listingProblem(parsed);
  if (problem !== undefined) return problem;
  const v = parsed as Record<string, unknown>;
  if (v['name'] !== key.name || v['id'] !== key.id) return 'value does not match its key';
  const endpoints = (v['endpoints'] as Record<string, unknown>[]).map((e): Endpoint => ({
    host: e['host'] as string,
    port: e['port'] as number,
    scope: e['scope'] as Endpoint['scope'],
  }));
  return {
    id: key.id,
    name: key.name,
    endpoints,
    ...(v['identity'] !== undefined ? { identity: v['identity'] as string } : {}),
    ...(v['allow'] !== undefined ? { allow: [...(v['allow'] as string[])] } : {}),
    ...(v['relay'] !== undefined ? { relay: v['relay'] as string } : {}),
  };
}
