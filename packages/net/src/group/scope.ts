/**
 * Address scope: how far away a host is, which picks the reconnect backoff for it.
 *
 * This is ansar's `ScopeOfIP` / `local_private_public`, with two differences: IPv6 is
 * classified too, and ansar's `OTHER` (a name rather than an address) is folded into
 * `public`, which is what ansar did with it for retry purposes anyway. Names are not
 * resolved: resolution is slow, can fail, and its answer can change between attempts.
 */
import { isIP } from 'node:net';

/**
 * - `loopback`: this machine (127.0.0.0/8, `::1`, the name `localhost`).
 * - `private`: the local network (10/8, 172.16/12, 192.168/16, IPv6 unique-local fc00::/7
 *   and link-local fe80::/10).
 * - `public`: everything else, including every host name other than `localhost`.
 */
export type AddressScope = 'loopback' | 'private' | 'public';

/**
 * Classifies a host as written in an address (`127.0.0.1`, `::1`, `[fe80::1%eth0]`,
 * `db.example.com`). IPv4-mapped IPv6 addresses (`::ffff:10.0.0.1`, what a dual-stack
 * socket reports as its peer) are classified by the IPv4 address they carry. Never throws:
 * anything that is not an IP address and not `localhost` is `public`.
 */
export function scopeOf(host: string): AddressScope {
  let text = host.trim();
  if (text.startsWith('[') && text.endsWith(']')) text = text.slice(1, -1);
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  switch (isIP(bare)) {
    case 4:
      return scopeOfIPv4(parseIPv4(bare));
    case 6:
      return scopeOfIPv6(parseIPv6(bare));
    default:
      return isLocalhostName(text) ? 'loopback' : 'public';
  }
}

/** `localhost`, in any letter case, with or without the root label's trailing dot. */
function isLocalhostName(name: string): boolean {
  const lower = name.toLowerCase();
  return lower === 'localhost' || lower === 'localhost.';
}

type Octets = readonly [number, number, number, number];

/** Only called on text that `isIP` accepted as IPv4: four decimal octets. */
function parseIPv4(text: string): Octets {
  const [a = 0, b = 0, c = 0, d = 0] = text.split('.').map((part) => Number.parseInt(part, 10));
  return [a, b, c, d];
}

function scopeOfIPv4([a, b]: Octets): AddressScope {
  if (a === 127) return 'loopback';
  if (a === 10) return 'private';
  if (a === 172 && b >= 16 && b <= 31) return 'private';
  if (a === 192 && b === 168) return 'private';
  return 'public';
}

/**
 * Only called on text that `isIP` accepted as IPv6 (zone already removed): expands `::`
 * and a trailing dotted IPv4 part into eight 16-bit groups.
 */
function parseIPv6(text: string): number[] {
  let source = text;
  const lastColon = source.lastIndexOf(':');
  const last = source.slice(lastColon + 1);
  if (last.includes('.')) {
    const [a, b, c, d] = parseIPv4(last);
    const high = ((a << 8) | b).toString(16);
    const low = ((c << 8) | d).toString(16);
    source = `${source.slice(0, lastColon + 1)}${high}:${low}`;
  }
  const toGroups = (part: string): number[] =>
    part === '' ? [] : part.split(':').map((group) => Number.parseInt(group, 16));
  const gap = source.indexOf('::');
  if (gap < 0) return toGroups(source);
  const head = toGroups(source.slice(0, gap));
  const tail = toGroups(source.slice(gap + 2));
  const zeros = new Array<number>(8 - head.length - tail.length).fill(0);
  return [...head, ...zeros, ...tail];
}

function scopeOfIPv6(groups: readonly number[]): AddressScope {
  const first = groups[0] ?? 0;
  const leadingZeros = groups.slice(0, 5).every((group) => group === 0);
  if (leadingZeros && groups[5] === 0xffff) {
    // ::ffff:a.b.c.d, an IPv4 address seen through a dual-stack socket.
    const high = groups[6] ?? 0;
    const low = groups[7] ?? 0;
    return scopeOfIPv4([high >> 8, high & 0xff, low >> 8, low & 0xff]);
  }
  if (leadingZeros && groups[5] === 0 && groups[6] === 0 && groups[7] === 1) return 'loopback';
  if ((first & 0xfe00) === 0xfc00) return 'private'; // fc00::/7 unique local
  if ((first & 0xffc0) === 0xfe80) return 'private'; // fe80::/10 link local
  return 'public';
}
