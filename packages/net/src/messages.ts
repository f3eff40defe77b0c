/**
 * The session message catalogue (docs/networking.md). Results of listen() and connect()
 * arrive only as these messages. Failures are faults (`isFaulted`), so a controller can
 * return one as its value and the process runner exits non-zero.
 */
import { defineMessage, t, type MessageOf } from '@herald/codec';
import { defineFault } from '@herald/runtime';

/** A host and port. */
export const hostPort = t.object({ host: t.string(), port: t.int() });
export interface HostPort {
  host: string;
  port: number;
}

/** listen() succeeded. Sent from the listener actor; `listening.port` is the real port when 0 was asked. */
export const Listening = defineMessage('herald.Listening', {
  requested: hostPort,
  listening: hostPort,
  encrypted: t.boolean(),
  listener: t.address(),
});
export type Listening = MessageOf<typeof Listening>;

/** listen() failed (errno in `errno`), or the listener was stopped (code HERALD_LISTEN_STOPPED). */
export const NotListening = defineFault(
  'herald.NotListening',
  { requested: hostPort, errno: t.optional(t.string()) },
  { code: 'HERALD_NOT_LISTENING', explanation: 'cannot listen' },
);
export type NotListening = MessageOf<typeof NotListening>;

/** What a TLS transport established about the peer. */
export const transportSecurity = t.object({
  protocol: t.string(),
  authorized: t.boolean(),
  peerSubject: t.optional(t.string()),
  peerFingerprint: t.optional(t.string()),
});

/** A peer connected and the handshake completed. Sent from the proxy (or the session). */
export const Accepted = defineMessage('herald.Accepted', {
  listening: hostPort,
  peer: hostPort,
  opened: t.date(),
  encrypted: t.boolean(),
  /** The peer's proven identity key (`herald-x25519:…`); absent for an anonymous peer. */
  peerKey: t.optional(t.string()),
  /** The TLS transport's view of the peer (certificate subject, fingerprint). */
  security: t.optional(transportSecurity),
  /** The SocketProxy: send here to reach the peer. */
  remote: t.address(),
  /** The session actor, when the listener has one. */
  session: t.optional(t.address()),
});
export type Accepted = MessageOf<typeof Accepted>;

/** connect() succeeded and the handshake completed. Sent from the proxy (or the session). */
export const Connected = defineMessage('herald.Connected', {
  requested: hostPort,
  peer: hostPort,
  local: hostPort,
  opened: t.date(),
  encrypted: t.boolean(),
  /** The server's proven identity key (`herald-x25519:…`); absent when it is anonymous. */
  peerKey: t.optional(t.string()),
  /** The TLS transport's view of the server (certificate subject, fingerprint). */
  security: t.optional(transportSecurity),
  remote: t.address(),
  session: t.optional(t.address()),
});
export type Connected = MessageOf<typeof Connected>;

/** connect() failed: TCP error (`errno`) or handshake failure (`reason`, a wire close reason). */
export const NotConnected = defineFault(
  'herald.NotConnected',
  { requested: hostPort, reason: t.string(), errno: t.optional(t.string()) },
  { code: 'HERALD_NOT_CONNECTED', explanation: 'cannot connect' },
);
export type NotConnected = MessageOf<typeof NotConnected>;

/** Application → proxy: close this connection; the controller gets Closed with `value`. */
export const Close = defineMessage('herald.Close', { value: t.unknown() });
export type Close = MessageOf<typeof Close>;

/** The connection was closed on this side (Close, session completed, process stopping). */
export const Closed = defineFault(
  'herald.Closed',
  { value: t.unknown(), reason: t.string(), peer: hostPort, opened: t.date() },
  { code: 'HERALD_CLOSED', explanation: 'connection closed' },
);
export type Closed = MessageOf<typeof Closed>;

/**
 * The peer went away: it closed, the connection broke, keep-alive found it silent, or its
 * bytes broke the protocol (`reason` says which).
 */
export const Abandoned = defineFault(
  'herald.Abandoned',
  { reason: t.string(), peer: hostPort, opened: t.date() },
  { code: 'HERALD_ABANDONED', explanation: 'connection abandoned' },
);
export type Abandoned = MessageOf<typeof Abandoned>;

/** Application → listener: stop accepting. Replied to with NotListening (code HERALD_LISTEN_STOPPED). */
export const StopListening = defineMessage('herald.StopListening', {});
export type StopListening = MessageOf<typeof StopListening>;

/**
 * Sent to the controller when a connection's outbound buffer passes its high-water mark:
 * slow down. Sends still work until `maxPendingBytes`, after which they become dead letters.
 */
export const Congested = defineMessage('herald.Congested', {
  remote: t.address(),
  pendingBytes: t.int(),
  highWaterBytes: t.int(),
});
export type Congested = MessageOf<typeof Congested>;

/** The outbound buffer fell back to its low-water mark (to the controller, and to every AwaitDrain). */
export const Drained = defineMessage('herald.Drained', {
  remote: t.address(),
  pendingBytes: t.int(),
});
export type Drained = MessageOf<typeof Drained>;

/** Application → proxy: reply Drained as soon as the outbound buffer is at or below low water. */
export const AwaitDrain = defineMessage('herald.AwaitDrain', {});
export type AwaitDrain = MessageOf<typeof AwaitDrain>;

/**
 * Application → proxy: measure one protocol round trip. The proxy sends a wire PING and
 * replies RoundTrip when the PONG arrives, or NoRoundTrip (docs/networking.md, "Measuring a
 * round trip"). Works against any Herald peer: nothing but PING / PONG crosses the wire.
 */
export const MeasureRoundTrip = defineMessage('herald.MeasureRoundTrip', {});
export type MeasureRoundTrip = MessageOf<typeof MeasureRoundTrip>;

/** Proxy → asker: the PONG arrived `micros` µs (runtime clock) after the PING `seq` went out. */
export const RoundTrip = defineMessage('herald.RoundTrip', {
  remote: t.address(),
  micros: t.int(),
  seq: t.int(),
});
export type RoundTrip = MessageOf<typeof RoundTrip>;

/**
 * Proxy → asker: no round trip was measured. `reason` is 'not-open' (the handshake has not
 * completed), 'too-many-probes' (MAX_ROUND_TRIP_PROBES are waiting), 'closed' or
 * 'abandoned' (the connection ended first; `detail` is its close reason).
 */
export const NoRoundTrip = defineFault(
  'herald.NoRoundTrip',
  { remote: t.address(), reason: t.string(), detail: t.string() },
  { code: 'HERALD_NO_ROUND_TRIP', explanation: 'no round trip measured' },
);
export type NoRoundTrip = MessageOf<typeof NoRoundTrip>;

/**
 * Proxy → peer proxy, protocol only: a message the peer sent could not be delivered here
 * (`reason`: refused, no-such-actor, not-delivered, ...). Sent at a bounded rate; the peer's
 * proxy records a dead letter for the sender with the far reason. Never delivered to an
 * actor on either side (docs/networking.md, "Delivery feedback").
 */
export const Undeliverable = defineMessage('herald.Undeliverable', {
  /** Type name of the message that was not delivered. */
  messageType: t.string(),
  reason: t.string(),
  detail: t.string(),
  /** The ask it belonged to, or 0. */
  correlation: t.int(),
});
export type Undeliverable = MessageOf<typeof Undeliverable>;

export const sessionMessages = [
  Listening,
  NotListening,
  Accepted,
  Connected,
  NotConnected,
  Close,
  Closed,
  Abandoned,
  StopListening,
  Congested,
  Drained,
  AwaitDrain,
  MeasureRoundTrip,
  RoundTrip,
  NoRoundTrip,
  Undeliverable,
] as const;
