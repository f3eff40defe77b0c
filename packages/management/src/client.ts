/**
 * The operator's side of the management protocol, for use inside an actor (what
 * `herald status` and `herald top` do):
 *
 * ```ts
 * const endpoint = await connectManagement(self, { host: '127.0.0.1', port }, {
 *   identity: await loadIdentity('operator.key'),   // one of the endpoint's operators
 *   peerKey: 'herald-x25519:…',                     // the endpoint's public key, pinned
 * });
 * if (NotConnected.is(endpoint)) return endpoint;
 * const status = await askManagement(self, endpoint, GetStatus());
 * ```
 *
 * The connection is an ordinary encrypted, mutually authenticated Herald connection; its
 * default target on the far side is the management actor, so the proxy's address is the
 * endpoint. Close it with `close(self, endpoint)` from @herald/net, or let the actor end.
 */
import type { Address } from '@herald/codec';
import {
  Connected,
  NotConnected,
  connect,
  type ConnectAddress,
  type IdentityKeyPair,
  type Transport,
} from '@herald/net';
import type { Self, TimedOut, Unanswered } from '@herald/runtime';
import { DEFAULT_MANAGEMENT_TIMEOUT_MS } from './constants.js';
import { ManagementError } from './errors.js';
import {
  ANSWER_TYPES,
  Failed,
  managementMessages,
  type AnswerOf,
  type ManagementRequest,
} from './messages.js';

export interface ManagementClientOptions {
  /** This operator's key pair: its public key must be one of the endpoint's `operators`. */
  readonly identity: IdentityKeyPair;
  /**
   * The endpoint's public key (`herald-x25519:…`, hex or bytes), or several during a key
   * rotation. Any other server is refused before this side reveals its own key.
   */
  readonly peerKey: string | Uint8Array | readonly (string | Uint8Array)[];
  /** What carries the bytes; TCP when absent. */
  readonly transport?: Transport;
  /** How long the handshake may take (ms); the net default when absent. */
  readonly handshakeTimeoutMs?: number;
}

/**
 * Connects `self` to a management endpoint. Resolves with the endpoint's address (the
 * connection's proxy: send requests there) once the handshake is done, or with the
 * `NotConnected` fault (`reason` `not-authorized` when this operator's key is not allowed,
 * `peer-key-mismatch` when the server is not the pinned one, an errno otherwise).
 *
 * It waits with `self.receive(Connected, NotConnected)`, so call it before other messages
 * of those types are expected.
 */
export async function connectManagement(
  self: Self,
  to: ConnectAddress,
  options: ManagementClientOptions,
): Promise<Address | NotConnected> {
  if (options.identity === undefined || options.peerKey === undefined) {
    throw new ManagementError(
      'HERALD_ERR_BAD_OPTION',
      'connectManagement needs identity (an operator key pair) and peerKey (the endpoint key)',
    );
  }
  const proxy = connect(self, to, {
    encrypted: true,
    identity: options.identity,
    peerKey: options.peerKey,
    messages: managementMessages,
    ...(options.transport === undefined ? {} : { transport: options.transport }),
    ...(options.handshakeTimeoutMs === undefined
      ? {}
      : { handshakeTimeoutMs: options.handshakeTimeoutMs }),
  });
  for (;;) {
    const result = await self.receive(Connected, NotConnected);
    if (NotConnected.is(result)) return result;
    if (result.remote.equals(proxy)) return proxy;
  }
}

export interface AskManagementOptions {
  /** How long to wait for the answer (ms). Default DEFAULT_MANAGEMENT_TIMEOUT_MS (5 s). */
  readonly timeout?: number;
}

/**
 * Sends one management request to `endpoint` (from connectManagement, or a management
 * actor's local address) and waits for its answer: the typed answer of that request,
 * `Failed` when the endpoint could not do it, `Unanswered` when the connection was lost
 * first, `TimedOut` after `options.timeout`.
 */
export function askManagement<R extends ManagementRequest>(
  self: Self,
  endpoint: Address,
  request: R,
  options: AskManagementOptions = {},
): Promise<AnswerOf<R> | Failed | Unanswered | TimedOut> {
  const answer = ANSWER_TYPES[request.type];
  const timeout = options.timeout ?? DEFAULT_MANAGEMENT_TIMEOUT_MS;
  return self.ask(endpoint, request, answer, Failed, { timeout }) as Promise<
    AnswerOf<R> | Failed | Unanswered | TimedOut
  >;
}
