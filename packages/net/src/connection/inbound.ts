/**
 * Inbound routing for one connection: what happens to each whole message the peer sent.
 *
 * Every message is checked before anything is decoded or delivered (docs/security.md):
 * - `to` must be empty (the default target) or a hop stack this side gave the peer
 *   (the connection's export table); anything else is refused.
 * - the return address must name something on the sender's side (it may not end in the
 *   "returning home" mark: a peer cannot pose as an actor of this process);
 * - addresses inside the body that point into this process must be ones the peer was
 *   given;
 * - runtime and net control messages never arrive as messages: Watch, Unwatch and
 *   Terminated are the watch protocol, checked against this connection's watch tables
 *   (connection/watches.ts); every other reserved type is refused; an application type
 *   must be one the connection accepts.
 * A refused message is never delivered: it is counted, reported as a dead letter
 * (`refused`), logged at a bounded rate, and a peer that keeps trying is disconnected.
 *
 * Relayed messages (a longer `to`) pass to the connection named by the last hop without
 * their body being decoded.
 */
import {
  Address,
  BODY_FLAG_STREAM,
  isCodecError,
  type AnyMessage,
  type CodecStream,
} from '@herald/codec';
import { Terminated, Unwatch, Watch, type Self } from '@herald/runtime';
import { Envelope, typePriority } from '@herald/runtime/internal';
import { Undeliverable } from '../messages.js';
import type { Network } from '../network.js';
import { inboundAddress, RETURNING_HOME, type WireMessage } from '../wire/index.js';
import type { ExportTable } from './exports.js';
import type { ConnectionWatches } from './watches.js';

/** Internal message: a frame passing through this process, body still encoded. */
export const RELAY_TYPE = 'herald.Relay';
export interface Relay extends AnyMessage {
  readonly type: typeof RELAY_TYPE;
  readonly wire: WireMessage;
  /** Body addresses, already relative to this process. */
  readonly space: readonly Address[];
}

/** What the router needs from its connection. */
export interface InboundHost {
  readonly self: Self;
  readonly network: Network;
  /** The connection's stream decoder (made on first use). */
  decoder(): CodecStream['decoder'];
  readonly exports: ExportTable;
  readonly watches: ConnectionWatches;
  /** The session, or the controller. */
  defaultTarget(): Address;
  /** Whether an application message of this type is accepted on this connection. */
  accepts(typeName: string): boolean;
  /** Whether debug lines are on (read once per socket read). */
  debug(): boolean;
  logDebug(fields: Record<string, unknown>, msg: string): void;
  /** A message that must not be delivered: counted, dead-lettered, logged at a bounded rate. */
  refuse(why: string, to: Address, from: Address, typeName: string): void;
  /** A well-formed message that cannot be delivered here (dead letter, connection stays). */
  undeliverable(
    reason: 'no-such-actor' | 'not-delivered',
    to: Address,
    from: Address,
    typeName: string,
    detail: string,
  ): void;
  /** The peer could not deliver a message this side sent (delivery feedback). */
  farUndeliverable(notice: Undeliverable, sender: Address): void;
  /** Closes the connection (the peer broke the protocol). */
  fail(code: number, text: string): void;
}

/**
 * Whether a type name is reserved for the runtime and net layers: every Herald control
 * and lifecycle message is named `herald.*`, and none of them is accepted from the wire as
 * an application message.
 */
export function isReservedType(typeName: string): boolean {
  return typeName.startsWith('herald.');
}

function isWatchProtocol(typeName: string): boolean {
  return typeName === Watch.type || typeName === Unwatch.type || typeName === Terminated.type;
}

/** Reserved types that cross connections as protocol (checked by the proxy, never delivered as-is). */
function isProtocol(typeName: string): boolean {
  return isWatchProtocol(typeName) || typeName === Undeliverable.type;
}

export class InboundRouter {
  readonly #host: InboundHost;
  /** The last inbound return stack and its Address: a stream of messages from one sender reuses it. */
  #lastRet: readonly number[] = [];
  #lastFrom: Address | undefined;
  #lastTo: Address | undefined;

  constructor(host: InboundHost) {
    this.#host = host;
  }

  /**
   * The correlation of the message being routed (0: none), so a notice about it can name
   * the ask it belongs to.
   */
  correlation = 0;

  route(wire: WireMessage): void {
    this.correlation = wire.correlation ?? 0;
    const host = this.#host;
    const self = host.self;
    const id = self.address.local;
    const ret = wire.ret;
    if (ret.length > 0 && ret[ret.length - 1] === RETURNING_HOME) {
      host.refuse(
        'return address names this side',
        this.#toAddress(wire.to),
        self.address,
        wire.typeName,
      );
      return;
    }
    const from = this.#returnAddress(ret, id);
    const toHops = wire.to;
    if (toHops.length > 0 && !host.exports.has(toHops)) {
      host.refuse(
        'destination was not given to this peer',
        this.#toAddress(toHops),
        from,
        wire.typeName,
      );
      return;
    }
    let space: Address[] = [];
    if (wire.space.length > 0) {
      space = new Array<Address>(wire.space.length);
      for (let i = 0; i < wire.space.length; i++) {
        const hops = wire.space[i] as readonly number[];
        if (hops.length > 0 && hops[hops.length - 1] === RETURNING_HOME) {
          const mine = hops.slice(0, -1);
          if (mine.length > 0 && !host.exports.has(mine)) {
            host.refuse(
              'an address in the body was not given to this peer',
              this.#toAddress(toHops),
              from,
              wire.typeName,
            );
            return;
          }
        }
        const h = inboundAddress(hops, id);
        space[i] = h.length === 0 ? host.defaultTarget() : new Address(h);
      }
    }
    if (toHops.length > 1) {
      this.#relay(wire, toHops, from, space);
      return;
    }
    const to = toHops.length === 0 ? host.defaultTarget() : this.#toAddress(toHops);
    const typeName = wire.typeName;
    if (typeName === Undeliverable.type) {
      this.#feedback(wire, space, to);
      return;
    }
    const watchProtocol = isWatchProtocol(typeName);
    if (!watchProtocol && !host.accepts(typeName)) {
      if (isReservedType(typeName))
        host.refuse('control messages do not cross connections', to, from, typeName);
      // A well-formed frame of a type this connection does not take: the connection is
      // fine, the message cannot be delivered.
      else host.undeliverable('not-delivered', to, from, typeName, 'unknown message type');
      return;
    }
    let message: AnyMessage;
    try {
      message = host.decoder().decodeBody(typeName, wire.body, space, wire.bodyMode);
    } catch (error) {
      const code = isCodecError(error) ? error.code : 'HERALD_ERR_MALFORMED';
      // One bad message costs one dead letter: the stream itself is intact.
      host.refuse(`undecodable ${typeName}: ${code}`, to, from, typeName);
      return;
    }
    if (watchProtocol && !this.#watchIn(message, to, from)) return;
    if (!watchProtocol && !self.runtime.isAlive(to)) {
      // The destination was given to the peer but has ended since. (A Watch of an ended
      // actor is answered by the runtime with Terminated, as locally.)
      host.undeliverable('no-such-actor', to, from, typeName, 'the actor has ended');
      return;
    }
    if (host.debug())
      host.logDebug({ to: to.toString(), from: from.toString(), type: typeName }, 'forwarded');
    // Delivered with its correlation, so an answer finds its ask and a request its answer,
    // and with its trace context, so the handling joins the sender's trace. Its lane here
    // is its type's declared priority (the wire does not carry a sender's choice).
    self.runtime.deliver(
      new Envelope(to, from, message, wire.correlation ?? 0, typePriority(typeName), wire.trace),
    );
  }

  /** Delivery feedback from the peer: decoded and handed to the connection, never delivered. */
  #feedback(wire: WireMessage, space: Address[], sender: Address): void {
    let notice: AnyMessage;
    try {
      notice = this.#host.decoder().decodeBody(wire.typeName, wire.body, space, wire.bodyMode);
    } catch {
      this.#host.refuse('undecodable delivery notice', sender, sender, wire.typeName);
      return;
    }
    this.#host.farUndeliverable(notice as Undeliverable, sender);
  }

  /** Watch-protocol checks for a message to a local actor. False when refused. */
  #watchIn(message: AnyMessage, to: Address, from: Address): boolean {
    const host = this.#host;
    switch (message.type) {
      case Watch.type:
        if (host.watches.watchIn(to, from)) return true;
        host.refuse('too many watches on this connection', to, from, message.type);
        return false;
      case Unwatch.type:
        host.watches.unwatchIn(to, from);
        return true;
      default: {
        const target = (message as Terminated).address;
        if (host.watches.terminatedIn(target, to)) return true;
        host.refuse('Terminated for a watch this connection did not carry', to, from, message.type);
        return false;
      }
    }
  }

  #relay(wire: WireMessage, toHops: readonly number[], from: Address, space: Address[]): void {
    const host = this.#host;
    const to = new Address(toHops);
    const typeName = wire.typeName;
    if ((wire.bodyMode & BODY_FLAG_STREAM) !== 0) {
      // CLOSE: only self-contained bodies may be relayed (the next hop has another stream).
      host.fail(2, `relayed ${typeName} has a stream-encoded body`);
      return;
    }
    if (isReservedType(typeName)) {
      if (!isProtocol(typeName)) {
        host.refuse('control messages do not cross connections', to, from, typeName);
        return;
      }
      if (typeName === Watch.type && !host.watches.watchIn(to, from)) {
        host.refuse('too many watches on this connection', to, from, typeName);
        return;
      }
      if (typeName === Unwatch.type) host.watches.unwatchIn(to, from);
      // A relayed Terminated comes from the watched target to its watcher.
      if (typeName === Terminated.type && !host.watches.terminatedIn(from, to)) {
        host.refuse('Terminated for a watch this connection did not carry', to, from, typeName);
        return;
      }
    }
    if (!host.network.proxies.has(toHops[toHops.length - 1] as number)) {
      host.undeliverable('no-such-actor', to, from, typeName, 'no connection for relay hop');
      return;
    }
    if (host.debug())
      host.logDebug({ to: to.toString(), from: from.toString(), type: typeName }, 'relayed');
    const relay: Relay = { type: RELAY_TYPE, wire, space };
    host.self.runtime.send(to, relay, from);
  }

  #toAddress(toHops: readonly number[]): Address {
    if (toHops.length === 0) return this.#host.defaultTarget();
    if (toHops.length === 1) {
      const actor = toHops[0] as number;
      if (this.#lastTo === undefined || this.#lastTo.local !== actor)
        this.#lastTo = new Address([actor]);
      return this.#lastTo;
    }
    return new Address(toHops);
  }

  #returnAddress(ret: readonly number[], id: number): Address {
    const last = this.#lastRet;
    if (this.#lastFrom !== undefined && ret.length === last.length) {
      let same = true;
      for (let i = 0; i < ret.length; i++) {
        if (ret[i] !== last[i]) {
          same = false;
          break;
        }
      }
      if (same) return this.#lastFrom;
    }
    const from = new Address(inboundAddress(ret, id));
    this.#lastRet = ret;
    this.#lastFrom = from;
    return from;
  }
}
