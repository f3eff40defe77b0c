/**
 * Test PKI made at test time with the `openssl` binary (Node can verify X.509 chains but not
 * sign certificates): two unrelated CAs, a server certificate for 127.0.0.1 and localhost,
 * and client certificates, each signed by the CA named. P-256 keys, valid for one day,
 * written to a temporary directory that `remove()` deletes.
 */
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface KeyPair {
  readonly key: string;
  readonly cert: string;
}

export interface TestPki {
  /** The CA the server and `alice` belong to. */
  readonly ca: string;
  /** A second CA that nobody trusts. */
  readonly wrongCa: string;
  /** CN=localhost, SAN IP:127.0.0.1 and DNS:localhost, signed by `ca`. */
  readonly server: KeyPair;
  /** The same names, signed by `wrongCa`. */
  readonly wrongServer: KeyPair;
  /** CN=alice, a client certificate signed by `ca`. */
  readonly alice: KeyPair;
  /** CN=mallory, a client certificate signed by `wrongCa`. */
  readonly mallory: KeyPair;
  remove(): void;
}

/** True when the `openssl` binary is on PATH. */
export function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

export function makeTestPki(): TestPki {
  const dir = mkdtempSync(join(tmpdir(), 'herald-pki-'));
  const path = (name: string): string => join(dir, name);
  const openssl = (...args: string[]): void => {
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] });
  };
  const newKey = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];

  const makeCa = (name: string, cn: string): void => {
    openssl(
      'req',
      '-x509',
      ...newKey,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.crt`),
      '-days',
      '1',
      '-subj',
      `/CN=${cn}`,
      '-addext',
      'basicConstraints=critical,CA:TRUE',
      '-addext',
      'keyUsage=critical,keyCertSign,cRLSign',
    );
  };
  let serial = 1;
  const makeLeaf = (name: string, ca: string, cn: string, extensions: string): KeyPair => {
    writeFileSync(path(`${name}.ext`), extensions);
    openssl(
      'req',
      '-new',
      ...newKey,
      '-keyout',
      path(`${name}.key`),
      '-out',
      path(`${name}.csr`),
      '-subj',
      `/CN=${cn}/O=Herald Tests`,
    );
    openssl(
      'x509',
      '-req',
      '-in',
      path(`${name}.csr`),
      '-CA',
      path(`${ca}.crt`),
      '-CAkey',
      path(`${ca}.key`),
      '-set_serial',
      String(serial++),
      '-days',
      '1',
      '-out',
      path(`${name}.crt`),
      '-extfile',
      path(`${name}.ext`),
    );
    return {
      key: readFileSync(path(`${name}.key`), 'utf8'),
      cert: readFileSync(path(`${name}.crt`), 'utf8'),
    };
  };
  const serverExt =
    'basicConstraints=CA:FALSE\nextendedKeyUsage=serverAuth\nsubjectAltName=IP:127.0.0.1,DNS:localhost\n';
  const clientExt = 'basicConstraints=CA:FALSE\nextendedKeyUsage=clientAuth\n';

  makeCa('ca', 'Herald Test CA');
  makeCa('wrong-ca', 'Wrong CA');
  return {
    ca: readFileSync(path('ca.crt'), 'utf8'),
    wrongCa: readFileSync(path('wrong-ca.crt'), 'utf8'),
    server: makeLeaf('server', 'ca', 'localhost', serverExt),
    wrongServer: makeLeaf('wrong-server', 'wrong-ca', 'localhost', serverExt),
    alice: makeLeaf('alice', 'ca', 'alice', clientExt),
    mallory: makeLeaf('mallory', 'wrong-ca', 'mallory', clientExt),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}
