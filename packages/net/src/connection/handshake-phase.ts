/**
 * The handshake phase of a connection, above the wire: the deadline for the peer's
 * handshake, and what happens when it completes: the session actor (if any) is spawned
 * and the controller is told Connected or Accepted, from the session when there is one.
 */
import type { Address } from '@herald/codec';
import type { Logger, Self } from '@herald/runtime';
import { unwrapBehavior } from '@herald/runtime/internal';
import { DEFAULT_HANDSHAKE_TIMEOUT_MS } from '../constants.js';
import { Accepted, Connected, type HostPort } from '../messages.js';
import type { ConnectionOptions, PeerInfo, SessionContext } from '../options.js';
import type { TransportSecurity } from '../transport/transport.js';

/** The timer key of the handshake deadline (a timer of the proxy actor itself). */
export const HANDSHAKE_TIMER = 'herald.handshake';

export interface Establishment {
  readonly self: Self;
  /** The connection's logger, when info lines are on (else nothing is logged here). */
  readonly log: Logger | undefined;
  readonly role: 'connector' | 'acceptor';
  readonly controller: Address;
  readonly options: ConnectionOptions;
  readonly peer: HostPort;
  readonly local: HostPort;
  readonly requested: HostPort | undefined;
  readonly listening: HostPort | undefined;
  readonly opened: Date;
  readonly encrypted: boolean;
  readonly peerKey: string | undefined;
  readonly security: TransportSecurity | undefined;
}

/** Starts the deadline for the peer's handshake. */
export function armHandshakeDeadline(self: Self, options: ConnectionOptions): void {
  self.startTimer(HANDSHAKE_TIMER, options.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS);
}

/**
 * The handshake completed: cancels the deadline, spawns the session (when configured) and
 * tells the controller. Returns the session's address, or undefined.
 */
export function establish(e: Establishment): Address | undefined {
  const self = e.self;
  self.cancelTimer(HANDSHAKE_TIMER);
  let session: Address | undefined;
  const frame = e.options.session;
  if (frame !== undefined) {
    const context: SessionContext = {
      controller: e.controller,
      remote: self.address,
      peer: e.peer,
      opened: e.opened,
      encrypted: e.encrypted,
      ...(e.peerKey === undefined ? {} : { peerKey: e.peerKey }),
      ...(e.security === undefined ? {} : { security: e.security }),
    };
    const spawn = self.spawn.bind(self) as (behavior: unknown, ...args: unknown[]) => Address;
    const isFunction = typeof unwrapBehavior(frame.behavior).behavior === 'function';
    session = isFunction
      ? spawn(frame.behavior, context, ...frame.args)
      : spawn(frame.behavior, { ...context, args: frame.args });
  }
  const common = {
    peer: e.peer,
    opened: e.opened,
    encrypted: e.encrypted,
    remote: self.address,
    ...(session === undefined ? {} : { session }),
    ...(e.peerKey === undefined ? {} : { peerKey: e.peerKey }),
    ...(e.security === undefined ? {} : { security: e.security }),
  };
  const from = session ?? self.address;
  if (e.role === 'connector') {
    e.log?.info({ encrypted: e.encrypted, peerKey: e.peerKey }, 'connected');
    self.forward(
      e.controller,
      Connected({ requested: e.requested ?? e.peer, local: e.local, ...common }),
      from,
    );
  } else {
    e.log?.info({ encrypted: e.encrypted, peerKey: e.peerKey }, 'accepted');
    self.forward(e.controller, Accepted({ listening: e.listening ?? e.peer, ...common }), from);
  }
  return session;
}

/**
 * The peer proved its key (or is anonymous and allowed so far): the listener's `authorize`
 * decides, asynchronously if it likes; nothing opens until it admits. A throw or a
 * rejection refuses (and is reported through `warn`). `settle` is called exactly once.
 */
export function decideAdmission(
  decide: ConnectionOptions['authorize'],
  peer: PeerInfo,
  warn: (error: unknown, msg: string) => void,
  settle: (admit: boolean, reason: string) => void,
): void {
  const done = (decision: unknown): void => {
    const admit = decision === true;
    const reason =
      typeof decision === 'string' && decision.length > 0 ? decision : 'not authorized';
    settle(admit, reason.slice(0, 200));
  };
  let decision: unknown;
  try {
    decision = decide === undefined ? true : decide(peer);
  } catch (error) {
    warn(error, 'authorize threw: the peer is refused');
    decision = false;
  }
  if (decision instanceof Promise) {
    decision.then(done, (error: unknown) => {
      warn(error, 'authorize rejected: the peer is refused');
      done(false);
    });
  } else {
    done(decision);
  }
}
