/**
 * `herald-directory`: runs a host or LAN directory as its own process.
 *
 * ```sh
 * herald-directory                                   # host directory on 127.0.0.1:32171
 * herald-directory --scope=lan --host=0.0.0.0        # LAN directory on port 32172
 * herald-directory --upstream=10.0.0.5:32172         # host directory under that LAN directory
 * herald-directory --scope=lan --nats=nats://10.0.0.9:4222   # LAN directory under a NATS cluster
 * ```
 *
 * It prints `directory <scope> listening on <host>:<port>` once it listens (with `--port=0`
 * the real port), and `identity <key>` when given `--identity`. It runs until Ctrl-C. Flags
 * as every Herald program: `--help`, `--debug-level=info` (a line per connection and
 * re-registration).
 */
import { existsSync } from 'node:fs';
import { createIdentity, formatPublicKey, loadIdentity, saveIdentity } from '@herald/net';
import { run, type Self } from '@herald/runtime';
import { DEFAULT_HOST_DIRECTORY_PORT, DEFAULT_LAN_DIRECTORY_PORT } from './constants.js';
import { createNatsRegistry } from './cluster/index.js';
import { directory, type DirectoryOptions } from './directory.js';
import { DiscoveryError } from './errors.js';
import { discoveryMessages } from './messages.js';
import { parseHostPort } from './state.js';

const settings = {
  scope: 'host',
  host: '',
  port: -1,
  upstream: '',
  upstreamKey: '',
  identity: '',
  allow: '',
  nats: '',
  natsBucket: '',
};
type DirectorySettings = typeof settings;

const help = {
  scope: "'host' (one per machine, loopback) or 'lan' (one per network)",
  host: 'interface to listen on (default 127.0.0.1 for host, 0.0.0.0 for lan)',
  port: `port (default ${DEFAULT_HOST_DIRECTORY_PORT} for host, ${DEFAULT_LAN_DIRECTORY_PORT} for lan; 0: any free port, printed)`,
  upstream: 'host:port of the LAN directory this host directory passes listings and searches to',
  upstreamKey: "the upstream directory's public key to pin (herald-x25519:...)",
  identity: "this directory's key file (made on first use, mode 0600); prints `identity <key>`",
  allow: 'comma-separated client public keys that may connect (default: any)',
  nats: 'comma-separated NATS server URLs: pass listings and searches up to the cluster registry',
  natsBucket: 'the NATS KV bucket of the cluster registry (default herald-discovery)',
};

async function directoryMain(self: Self, s: DirectorySettings): Promise<unknown> {
  if (s.scope !== 'host' && s.scope !== 'lan') {
    throw new DiscoveryError(
      'HERALD_ERR_BAD_OPTION',
      `--scope must be host or lan, got ${s.scope}`,
    );
  }
  let identity;
  if (s.identity !== '') {
    if (!existsSync(s.identity)) await saveIdentity(s.identity, createIdentity());
    identity = await loadIdentity(s.identity);
    process.stdout.write(`identity ${formatPublicKey(identity.publicKey)}\n`);
  }
  const allow = s.allow.split(',').filter((k) => k !== '');
  const servers = s.nats.split(',').filter((url) => url !== '');
  const registry =
    servers.length === 0
      ? undefined
      : await createNatsRegistry({
          servers,
          name: `herald-directory ${s.scope}`,
          ...(s.natsBucket === '' ? {} : { bucket: s.natsBucket }),
          onError: (error) => self.log.warn({ err: error }, 'cluster registry'),
        });
  if (registry !== undefined) self.runtime.onClose(() => registry.close());
  const options: DirectoryOptions = {
    scope: s.scope,
    ...(s.host === '' ? {} : { host: s.host }),
    ...(s.port < 0 ? {} : { port: s.port }),
    ...(s.upstream === '' ? {} : { upstream: parseHostPort(s.upstream) }),
    ...(s.upstreamKey === '' ? {} : { upstreamKey: s.upstreamKey }),
    ...(registry === undefined ? {} : { upstreamRegistry: registry }),
    ...(identity === undefined ? {} : { identity }),
    ...(allow.length === 0 ? {} : { allowedPeerKeys: allow, requirePeerKey: true }),
    onListening: (at) => {
      process.stdout.write(`directory ${s.scope} listening on ${at.host}:${at.port}\n`);
    },
  };
  // The main actor is the directory: Ctrl-C (Stop) ends it, and the process exits 0.
  return directory(self, options);
}

await run(directoryMain, {
  name: 'herald-directory',
  description: 'Runs a Herald discovery directory (host or LAN scope).',
  settings,
  help,
  messages: discoveryMessages,
  logLevel: 'warn',
});
