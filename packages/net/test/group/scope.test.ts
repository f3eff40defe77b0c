import { describe, expect, it } from 'vitest';
import { scopeOf, type AddressScope } from '../../src/group/index.js';

const cases: ReadonlyArray<readonly [string, AddressScope]> = [
  // loopback
  ['127.0.0.1', 'loopback'],
  ['127.255.255.254', 'loopback'],
  ['127.1.2.3', 'loopback'],
  ['::1', 'loopback'],
  ['0:0:0:0:0:0:0:1', 'loopback'],
  ['[::1]', 'loopback'],
  ['localhost', 'loopback'],
  ['LocalHost', 'loopback'],
  ['localhost.', 'loopback'],
  ['::ffff:127.0.0.1', 'loopback'],
  ['::ffff:7f00:1', 'loopback'],
  // private IPv4, including both edges of 172.16/12
  ['10.0.0.1', 'private'],
  ['10.255.255.255', 'private'],
  ['172.16.0.1', 'private'],
  ['172.31.255.255', 'private'],
  ['192.168.0.1', 'private'],
  ['192.168.255.255', 'private'],
  ['::ffff:10.1.2.3', 'private'],
  ['::ffff:192.168.1.1', 'private'],
  // private IPv6: fc00::/7 and fe80::/10, with edges
  ['fc00::1', 'private'],
  ['fd12:3456:789a::1', 'private'],
  ['FD00::', 'private'],
  ['fe80::1', 'private'],
  ['fe80::1%eth0', 'private'],
  ['[fe80::abcd%2]', 'private'],
  ['febf:ffff::1', 'private'],
  // public: just outside every private range
  ['172.15.255.255', 'public'],
  ['172.32.0.0', 'public'],
  ['192.167.255.255', 'public'],
  ['192.169.0.0', 'public'],
  ['11.0.0.1', 'public'],
  ['9.255.255.255', 'public'],
  ['126.255.255.255', 'public'],
  ['128.0.0.1', 'public'],
  ['8.8.8.8', 'public'],
  ['0.0.0.0', 'public'],
  ['::ffff:8.8.8.8', 'public'],
  ['fbff::1', 'public'],
  ['fec0::1', 'public'],
  ['2001:db8::1', 'public'],
  ['::', 'public'],
  ['::2', 'public'],
  ['1::1', 'public'],
  // names other than localhost are public (not resolved)
  ['example.com', 'public'],
  ['db.internal', 'public'],
  ['localhost.localdomain', 'public'],
  ['my-localhost', 'public'],
  ['', 'public'],
  // not valid IPs: treated as names
  ['127.1', 'public'],
  ['10.0.0.256', 'public'],
];

describe('scopeOf', () => {
  it.each(cases)('scope - classifies %j as %s', (host, expected) => {
    expect(scopeOf(host)).toBe(expected);
  });
});
