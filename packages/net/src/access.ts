/**
 * Access control for a listener (docs/security.md): which remote addresses may connect
 * (allow and deny lists of addresses and subnets, on node:net's BlockList), and how many
 * connections it holds at once, in all and per remote address. A refused connection is
 * destroyed at accept, before any handshake work, and logged at a bounded rate with the
 * peer's address.
 */
import { BlockList, isIP } from 'node:net';
import { NetError } from './errors.js';

/** An address or subnet rule: `'10.1.2.3'`, `'10.0.0.0/8'`, `'::1'`, `'fd00::/8'`, or a BlockList. */
export type AddressRules = BlockList | readonly string[];

/** Builds a BlockList from rules (a BlockList is used as it is). Throws HERALD_ERR_BAD_OPTION. */
export function blockListOf(rules: AddressRules, option: string): BlockList {
  if (rules instanceof BlockList) return rules;
  if (!Array.isArray(rules))
    throw new NetError(
      'HERALD_ERR_BAD_OPTION',
      `${option} must be a BlockList or an array of addresses and subnets`,
    );
  const list = new BlockList();
  for (const rule of rules as readonly unknown[]) {
    if (typeof rule !== 'string')
      throw new NetError(
        'HERALD_ERR_BAD_OPTION',
        `${option}: ${String(rule)} is not an address or subnet`,
      );
    const [address, prefix, extra] = rule.split('/');
    const family = isIP(address ?? '');
    if (family === 0 || extra !== undefined)
      throw new NetError(
        'HERALD_ERR_BAD_OPTION',
        `${option}: ${JSON.stringify(rule)} is not an address or subnet`,
      );
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (prefix === undefined) {
      list.addAddress(address as string, type);
    } else {
      const bits = Number(prefix);
      if (!Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128) || prefix === '')
        throw new NetError(
          'HERALD_ERR_BAD_OPTION',
          `${option}: ${JSON.stringify(rule)} has a bad prefix length`,
        );
      list.addSubnet(address as string, bits, type);
    }
  }
  return list;
}

/** The address and family a BlockList is asked about (IPv4-mapped IPv6 as IPv4). */
function normalise(host: string): { address: string; type: 'ipv4' | 'ipv6' } | undefined {
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(host);
  if (mapped !== null) return { address: mapped[1] as string, type: 'ipv4' };
  const family = isIP(host);
  if (family === 4) return { address: host, type: 'ipv4' };
  if (family === 6) return { address: host, type: 'ipv6' };
  return undefined;
}

export interface AccessRules {
  readonly allow?: AddressRules;
  readonly deny?: AddressRules;
  readonly maxConnections?: number;
  readonly maxConnectionsPerAddress?: number;
}

/** Why a connection is refused at accept, or undefined. */
export type Refusal = 'denied' | 'not-allowed' | 'too-many-connections' | 'too-many-from-address';

/** Live connection counts and the allow/deny decision for one listener. */
export class AccessControl {
  readonly #allow: BlockList | undefined;
  readonly #deny: BlockList | undefined;
  readonly #max: number;
  readonly #maxPerAddress: number;
  readonly #perAddress = new Map<string, number>();
  #live = 0;

  constructor(rules: AccessRules) {
    this.#allow = rules.allow === undefined ? undefined : blockListOf(rules.allow, 'allow');
    this.#deny = rules.deny === undefined ? undefined : blockListOf(rules.deny, 'deny');
    this.#max = rules.maxConnections ?? Infinity;
    this.#maxPerAddress = rules.maxConnectionsPerAddress ?? Infinity;
  }

  get live(): number {
    return this.#live;
  }

  /** Decides on a new connection from `host`; when admitted it is counted until `release`. */
  admit(host: string): Refusal | undefined {
    const ip = normalise(host);
    if (this.#deny !== undefined && (ip === undefined || this.#deny.check(ip.address, ip.type)))
      return 'denied';
    if (this.#allow !== undefined && (ip === undefined || !this.#allow.check(ip.address, ip.type)))
      return 'not-allowed';
    if (this.#live >= this.#max) return 'too-many-connections';
    const key = ip?.address ?? host;
    const n = this.#perAddress.get(key) ?? 0;
    if (n >= this.#maxPerAddress) return 'too-many-from-address';
    this.#perAddress.set(key, n + 1);
    this.#live++;
    return undefined;
  }

  /** A connection admitted for `host` ended. */
  release(host: string): void {
    const key = normalise(host)?.address ?? host;
    const n = this.#perAddress.get(key) ?? 0;
    if (n <= 1) this.#perAddress.delete(key);
    else this.#perAddress.set(key, n - 1);
    this.#live = Math.max(0, this.#live - 1);
  }
}
