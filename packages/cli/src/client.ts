/**
 * What the client commands (ping, send, request, chat, bench, ...) share: the connection
 * flags and opening a connection from a main actor.
 */
import {
  Connected,
  NotConnected,
  connect,
  loadIdentity,
  type ConnectOptions,
  type ListenOptions,
} from '@herald/net';
import type { Self } from '@herald/runtime';
import { performance } from 'node:perf_hooks';
import { parseHostPort } from './args.js';
import { DEFAULT_REPLY_TIMEOUT_MS } from './constants.js';

/** Connection settings shared by the client commands. */
export const clientSettings = {
  peerKey: '',
  identity: '',
  encrypted: false,
  timeout: DEFAULT_REPLY_TIMEOUT_MS,
};
export const clientHelp = {
  peerKey: "the server's public key (herald-x25519:…); any other server is refused",
  identity: "this client's key file (herald keygen), for servers that allow only known keys",
  encrypted: 'encrypt the connection (implied by --peer-key or --identity)',
  timeout: 'ms to wait for each answer',
};
export type ClientSettings = typeof clientSettings;

export async function clientOptions(settings: ClientSettings): Promise<ConnectOptions> {
  return {
    // An identity or a pinned key only means something on an encrypted connection.
    encrypted: settings.encrypted || settings.peerKey !== '' || settings.identity !== '',
    ...(settings.peerKey === '' ? {} : { peerKey: settings.peerKey }),
    ...(settings.identity === '' ? {} : { identity: await loadIdentity(settings.identity) }),
  };
}

/**
 * Connects; resolves with the handshake time in µs (the proxy is then `self.returnAddress`),
 * or with the NotConnected fault for the caller to return.
 */
export async function open(self: Self, target: string, settings: ClientSettings) {
  const options = await clientOptions(settings);
  const started = performance.now();
  connect(self, parseHostPort(target), options);
  const result = await self.receive(Connected, NotConnected);
  if (NotConnected.is(result)) return result;
  return { handshakeUs: Math.round((performance.now() - started) * 1000) };
}

/** Server-side trust settings shared by listen and the `--listen` modes. */
export const serverSettings = { identity: '', allow: '', encrypted: false };
export const serverHelp = {
  identity: "this server's key file (herald keygen); clients may pin its public key",
  allow: 'comma-separated client public keys that may connect (default: any)',
  encrypted: 'encrypt connections (implied by --identity or --allow)',
};
export type ServerSettings = typeof serverSettings;

export async function serverOptions(settings: ServerSettings): Promise<ListenOptions> {
  const allow = settings.allow.split(',').filter((k) => k !== '');
  return {
    encrypted: settings.encrypted || settings.identity !== '' || allow.length > 0,
    ...(settings.identity === '' ? {} : { identity: await loadIdentity(settings.identity) }),
    ...(allow.length === 0 ? {} : { allowedPeerKeys: allow }),
  };
}

/** The value at quantile `q` of sorted `values` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

/** `min`, `p50`, `p99` lines of round-trip times in µs (sorts `times` in place). */
export function roundTripLines(times: number[]): string {
  times.sort((a, b) => a - b);
  const us = (value: number) => `${Math.round(value)} µs`;
  return `min ${us(times[0] as number)}\np50 ${us(quantile(times, 0.5))}\np99 ${us(quantile(times, 0.99))}\n`;
}
