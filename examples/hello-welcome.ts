/**
 * Hello and Welcome: the interface file shared by the listening-and-connecting examples.
 *
 * A client sends `Hello{ myName }`; a server answers with `Welcome{ yourName, myName }`.
 * Both ends import the same declarations, so every server example works with every client
 * example (the six programs below are interchangeable in pairs):
 *
 *   servers: listen-at-address.ts, listen-sessions-at-address.ts, listen-fsm-at-address.ts
 *   clients: connect-to-address.ts, connect-session-to-address.ts, connect-fsm-to-address.ts
 *
 * A message type must be in the catalogue of the runtime that receives it: the programs
 * pass `helloWelcome` to `run(main, { messages })`. A frame whose type the receiver does not
 * know is a dead letter there (reason not-delivered), not a broken connection.
 *
 * Also here: the settings every example takes (with their help text), so that all six
 * agree on `--host`, `--port` and `--encrypted`, and the one line a server prints once it
 * is listening. This file is not a program; run the servers and clients instead.
 */
import { existsSync } from 'node:fs';
import { defineMessage, t, type MessageOf } from '@herald/codec';
import {
  createIdentity,
  formatPublicKey,
  loadIdentity,
  saveIdentity,
  type ConnectOptions,
  type ListenOptions,
} from '@herald/net';

/** Client → server: the opening of the conversation. */
export const Hello = defineMessage('Hello', { myName: t.string() });
export type Hello = MessageOf<typeof Hello>;

/** Server → client: the answer to Hello. */
export const Welcome = defineMessage('Welcome', { yourName: t.string(), myName: t.string() });
export type Welcome = MessageOf<typeof Welcome>;

/** The message types both ends receive from their peers. */
export const helloWelcome = [Hello, Welcome] as const;

/** The port the examples meet at unless told otherwise (the ansar tutorial's). */
export const DEFAULT_PORT = 32011;

/** How long a client waits for Welcome after sending Hello, unless `--timeout` says otherwise. */
export const DEFAULT_WELCOME_TIMEOUT_MS = 5_000;

/** Settings of the three servers, with their defaults (overridable on the command line). */
export const plainServerSettings = {
  host: '127.0.0.1',
  port: DEFAULT_PORT,
  encrypted: false,
  name: 'Buster',
};
export type PlainServerSettings = typeof plainServerSettings;

/** The function and session servers also take an identity (authenticated connections). */
export const serverSettings = { ...plainServerSettings, identity: '', allow: '' };
export type ServerSettings = typeof serverSettings;

export const serverHelp = {
  host: "interface to listen on ('0.0.0.0' for every interface)",
  port: 'port to listen on; 0 asks the OS for a free one (printed once listening)',
  encrypted: 'encrypt connections (clients must use --encrypted too)',
  identity:
    "authenticate: this server's key file (made on first use, mode 0600); prints `identity <public key>` for clients to pin",
  allow:
    'comma-separated client public keys that may connect (with --identity; default: any client)',
  name: 'the name the server gives in Welcome',
};

/** Settings of the three clients, with their defaults. */
export const plainClientSettings = {
  host: '127.0.0.1',
  port: DEFAULT_PORT,
  encrypted: false,
  name: 'Gladys',
  timeout: DEFAULT_WELCOME_TIMEOUT_MS,
};
export type PlainClientSettings = typeof plainClientSettings;

/** The function and session clients also take a server key to pin and an identity. */
export const clientSettings = { ...plainClientSettings, peerKey: '', identity: '' };
export type ClientSettings = typeof clientSettings;

export const clientHelp = {
  host: 'server host',
  port: 'server port',
  encrypted: 'encrypt the connection (the server must use --encrypted too)',
  peerKey:
    "authenticate the server: its public key (printed by the server's --identity); anyone else is refused",
  identity:
    "this client's key file (made on first use), for servers that --allow only known clients",
  name: 'the name the client gives in Hello',
  timeout: 'milliseconds to wait for Welcome',
};

/**
 * Prints `listening on <host>:<port>` on stdout: the real port, so a script or test that
 * started the server with `--port=0` can read it. Node keeps no stdout buffer of its own
 * (unlike C stdio or Python's print), so the line needs no explicit flush.
 */
export function announceListening(host: string, port: number): void {
  process.stdout.write(`listening on ${host}:${port}\n`);
}

/**
 * Loads the identity key file at `path`, or makes one there (mode 0600) on first use, and
 * prints `identity <public key>` on stdout so a peer can pin or allow it.
 */
async function identityAt(path: string) {
  if (!existsSync(path)) await saveIdentity(path, createIdentity());
  const identity = await loadIdentity(path);
  process.stdout.write(`identity ${formatPublicKey(identity.publicKey)}\n`);
  return identity;
}

/**
 * A server's connection options from its settings: clear, encrypted, or authenticated
 * (`--identity`: the server proves its key; `--allow`: only those client keys get in).
 */
export async function serverSecurity(settings: ServerSettings): Promise<ListenOptions> {
  if (settings.identity === '') return { encrypted: settings.encrypted };
  const allow = settings.allow.split(',').filter((k) => k !== '');
  return {
    identity: await identityAt(settings.identity),
    ...(allow.length === 0 ? {} : { allowedPeerKeys: allow }),
  };
}

/**
 * A client's connection options from its settings: clear, encrypted, or authenticated
 * (`--peer-key`: only the server with that key; `--identity`: prove this client's key).
 */
export async function clientSecurity(settings: ClientSettings): Promise<ConnectOptions> {
  if (settings.peerKey === '' && settings.identity === '') return { encrypted: settings.encrypted };
  return {
    encrypted: true,
    ...(settings.peerKey === '' ? {} : { peerKey: settings.peerKey }),
    ...(settings.identity === '' ? {} : { identity: await identityAt(settings.identity) }),
  };
}
