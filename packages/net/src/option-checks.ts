/**
 * Options are checked at the call: listen() and connect() throw `HERALD_ERR_BAD_OPTION`
 * (a NetError) before any socket is opened or any actor spawned, so a bad option never
 * surfaces later as an uncaught error inside a connection, and nothing leaks.
 */
import { isAddress } from '@herald/codec';
import { NetError } from './errors.js';
import { blockListOf } from './access.js';
import type { ConnectAddress, ConnectionOptions, ListenAddress, ListenOptions } from './options.js';
import { MAX_MAX_FRAME_BYTES, MIN_MAX_FRAME_BYTES } from './wire/constants.js';
import { checkDecoderOptions, checkHandshakeOptions } from './wire/index.js';

function bad(message: string): never {
  throw new NetError('HERALD_ERR_BAD_OPTION', message);
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** A whole number in [min, max] (max may be Infinity), or absent. */
function int(options: object, key: string, min: number, max = Number.MAX_SAFE_INTEGER): void {
  const value = (options as Record<string, unknown>)[key];
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    bad(`${key} must be a whole number from ${min} to ${max}, got ${String(value)}`);
}

function checkPort(port: unknown, allowZero: boolean): void {
  if (
    typeof port !== 'number' ||
    !Number.isInteger(port) ||
    port < (allowZero ? 0 : 1) ||
    port > 65_535
  )
    bad(`port must be a whole number from ${allowZero ? 0 : 1} to 65535, got ${String(port)}`);
}

function checkHost(host: unknown, optional: boolean): void {
  if (host === undefined && optional) return;
  if (typeof host !== 'string' || host.length === 0 || host.length > 255)
    bad(`host must be a non-empty string, got ${JSON.stringify(host)}`);
}

/** The identity options, checked by the wire layer's own rules for the given role. */
function checkIdentity(options: ConnectionOptions, role: 'connector' | 'acceptor'): void {
  if (options.authorize !== undefined && typeof options.authorize !== 'function')
    bad('authorize must be a function of the peer returning true, false or a reason');
  if (
    role === 'connector' &&
    (options.allowedPeerKeys !== undefined ||
      options.requirePeerKey !== undefined ||
      options.authorize !== undefined)
  )
    bad('allowedPeerKeys, requirePeerKey and authorize are listen() options');
  if (role === 'acceptor' && options.peerKey !== undefined)
    bad(
      'peerKey is a connect() option (a listener checks clients with allowedPeerKeys or authorize)',
    );
  try {
    checkHandshakeOptions({
      role,
      ...(options.encrypted === undefined ? {} : { encrypt: options.encrypted }),
      ...(options.identity === undefined ? {} : { identity: options.identity }),
      ...(options.peerKey === undefined ? {} : { peerKey: options.peerKey }),
      ...(options.allowedPeerKeys === undefined
        ? {}
        : { allowedPeerKeys: options.allowedPeerKeys }),
      ...(options.requirePeerKey === undefined ? {} : { requirePeerKey: options.requirePeerKey }),
      ...(options.authorize === undefined ? {} : { authorize: true }),
    });
  } catch (error) {
    throw new NetError('HERALD_ERR_BAD_OPTION', (error as Error).message, { cause: error });
  }
}

/** Options shared by listen() and connect(). */
export function checkConnectionOptions(options: ConnectionOptions): void {
  if (!isObject(options)) bad('options must be an object');
  int(options, 'maxFrameBytes', MIN_MAX_FRAME_BYTES, MAX_MAX_FRAME_BYTES);
  int(options, 'maxMessageBytes', 1);
  int(options, 'keepaliveIdleMs', 0, 2 ** 31 - 1);
  int(options, 'keepaliveTimeoutMs', 1, 2 ** 31 - 1);
  int(options, 'handshakeTimeoutMs', 1, 2 ** 31 - 1);
  int(options, 'highWaterBytes', 0);
  int(options, 'lowWaterBytes', 0);
  int(options, 'maxPendingBytes', 0);
  if (options.encrypted !== undefined && typeof options.encrypted !== 'boolean')
    bad('encrypted must be true or false');
  if (options.session !== undefined) {
    const s = options.session as unknown;
    if (!isObject(s) || !('behavior' in s) || !Array.isArray((s as { args?: unknown }).args))
      bad('session must be made with sessionOf(behavior, ...args)');
  }
  if (options.messages !== undefined) {
    if (!Array.isArray(options.messages)) bad('messages must be an array of message types');
    for (const m of options.messages as readonly unknown[])
      if (!isObject(m) && typeof m !== 'function') bad('messages must be declared message types');
      else if (typeof (m as { type?: unknown }).type !== 'string')
        bad('messages must be declared message types (defineMessage)');
  }
  if (options.transport !== undefined) {
    const t = options.transport as unknown;
    if (!isObject(t) || typeof t.dial !== 'function' || typeof t.listen !== 'function')
      bad('transport must implement dial() and listen() (docs/transports.md)');
  }
  if (options.exports !== undefined) {
    if (!Array.isArray(options.exports)) bad('exports must be an array of addresses');
    for (const a of options.exports as readonly unknown[])
      if (!isAddress(a)) bad('exports must hold addresses');
  }
  if (options.cipherSuite !== undefined && !isObject(options.cipherSuite))
    bad('cipherSuite must be a cipher suite object');
  // Already checked to be whole numbers above; the wire layer adds its own rules.
  const { maxFrameBytes, maxMessageBytes } = options as ConnectionOptions;
  try {
    checkDecoderOptions({
      ...(maxFrameBytes === undefined ? {} : { maxFrameBytes }),
      ...(maxMessageBytes === undefined ? {} : { maxMessageBytes }),
    });
  } catch (error) {
    throw new NetError('HERALD_ERR_BAD_OPTION', (error as Error).message, { cause: error });
  }
}

export function checkListen(at: ListenAddress, options: ListenOptions): void {
  if (!isObject(at)) bad('listen() needs { host?, port }');
  checkHost(at.host, true);
  checkPort(at.port, true);
  checkConnectionOptions(options);
  checkIdentity(options, 'acceptor');
  int(options, 'backlog', 0, 65_535);
  int(options, 'maxConnections', 1);
  int(options, 'maxConnectionsPerAddress', 1);
  if (options.allow !== undefined) blockListOf(options.allow, 'allow');
  if (options.deny !== undefined) blockListOf(options.deny, 'deny');
}

export function checkConnect(to: ConnectAddress, options: ConnectionOptions): void {
  if (!isObject(to)) bad('connect() needs { host, port }');
  checkHost(to.host, false);
  checkPort(to.port, false);
  checkConnectionOptions(options);
  checkIdentity(options, 'connector');
}
