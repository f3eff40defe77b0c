/**
 * The set of peers a send mode chooses from. It is fed by what the application already
 * receives: a group's GroupUpdate, a listener's or connector's Accepted / Connected and
 * Closed / Abandoned, a proxy's Congested / Drained, a discovery subscription's Available /
 * NotAvailable, or by hand (`add` / `remove`) for any other source.
 *
 * Each peer has an address to send to, the connection behind it (`remote`, for matching
 * Closed / Congested), and up to two ways to be named: `identity`, the public key the peer
 * proved in the handshake (authenticated), and `name`, a declared name (a group member's
 * name, a listing's name, anything the application says). A send by identity only matches
 * the proven key; a send by name trusts whoever declared it.
 */
import type { Address, AnyMessage } from '@herald/codec';
import {
  Abandoned,
  Accepted,
  Closed,
  Congested,
  Connected,
  Drained,
  GroupUpdate,
} from '@herald/net';

export interface Peer {
  /** Where messages for this peer go (a SocketProxy, a group member, any actor). */
  readonly address: Address;
  /** The connection behind it, when known (matches Closed, Abandoned, Congested, Drained). */
  readonly remote: Address | undefined;
  /** The peer's proven identity key (`herald-x25519:…`), when it proved one. */
  readonly identity: string | undefined;
  /** A declared name (not proven). */
  readonly name: string | undefined;
  /** Its connection reported Congested and not yet Drained. */
  readonly congested: boolean;
}

export interface PeerDescription {
  readonly remote?: Address;
  readonly identity?: string;
  readonly name?: string;
}

/** What changed when a message was applied. */
export type PeerChange =
  | { readonly kind: 'added'; readonly peer: Peer }
  | { readonly kind: 'removed'; readonly peer: Peer }
  | { readonly kind: 'congested' | 'drained'; readonly peer: Peer }
  | { readonly kind: 'none' };

interface MutablePeer {
  address: Address;
  remote: Address | undefined;
  identity: string | undefined;
  name: string | undefined;
  congested: boolean;
}

const NONE: PeerChange = { kind: 'none' };

/** The peer-set messages of @herald/net that `PeerSet.apply` understands. */
export const peerEventTypes = [
  Accepted,
  Connected,
  Closed,
  Abandoned,
  Congested,
  Drained,
  GroupUpdate,
] as const;

/**
 * A discovery subscription's match (`herald.discovery.Available` of @herald/discovery),
 * recognised by its shape so that this package does not depend on discovery: the service
 * `name`, the `listing` id, the connection (`remote`) and the publisher's proven key.
 */
interface DiscoveryAvailable {
  readonly type: 'herald.discovery.Available';
  readonly name: string;
  readonly listing: string;
  readonly remote: Address;
  readonly peerKey?: string;
}

/** A subscription's match that went away (`herald.discovery.NotAvailable`). */
interface DiscoveryNotAvailable {
  readonly type: 'herald.discovery.NotAvailable';
  readonly listing: string;
}

function isAvailable(message: AnyMessage): message is AnyMessage & DiscoveryAvailable {
  const m = message as Partial<DiscoveryAvailable>;
  return (
    m.type === 'herald.discovery.Available' &&
    typeof m.name === 'string' &&
    typeof m.listing === 'string' &&
    typeof m.remote === 'object' &&
    m.remote !== null
  );
}

function isNotAvailable(message: AnyMessage): message is AnyMessage & DiscoveryNotAvailable {
  const m = message as Partial<DiscoveryNotAvailable>;
  return m.type === 'herald.discovery.NotAvailable' && typeof m.listing === 'string';
}

/** Whether `PeerSet.apply` would look at `message` (a net peer event or a discovery match). */
export function isPeerEvent(message: AnyMessage): boolean {
  return (
    peerEventTypes.some((type) => type.is(message)) ||
    isAvailable(message) ||
    isNotAvailable(message)
  );
}

export class PeerSet {
  /** By address key, in arrival order (round-robin walks this order). */
  readonly #peers = new Map<string, MutablePeer>();
  /** Discovery listing id → the address key of the peer it gave. */
  readonly #listings = new Map<string, string>();

  get size(): number {
    return this.#peers.size;
  }

  /** Every peer, in arrival order. */
  list(): readonly Peer[] {
    return [...this.#peers.values()];
  }

  get(address: Address): Peer | undefined {
    return this.#peers.get(address.key);
  }

  /** The peer with proven identity `identity` (the most recent one if it connected twice). */
  byIdentity(identity: string): Peer | undefined {
    let found: MutablePeer | undefined;
    for (const peer of this.#peers.values()) if (peer.identity === identity) found = peer;
    return found;
  }

  /** The peer declared as `name` (the most recent one). */
  byName(name: string): Peer | undefined {
    let found: MutablePeer | undefined;
    for (const peer of this.#peers.values()) if (peer.name === name) found = peer;
    return found;
  }

  /** Adds a peer, or updates the description of the one already at `address`. */
  add(address: Address, description: PeerDescription = {}): Peer {
    const existing = this.#peers.get(address.key);
    if (existing !== undefined) {
      if (description.remote !== undefined) existing.remote = description.remote;
      if (description.identity !== undefined) existing.identity = description.identity;
      if (description.name !== undefined) existing.name = description.name;
      return existing;
    }
    const peer: MutablePeer = {
      address,
      remote: description.remote,
      identity: description.identity,
      name: description.name,
      congested: false,
    };
    this.#peers.set(address.key, peer);
    return peer;
  }

  /** Removes the peer at `address` (or whose connection is `address`); undefined if none. */
  remove(address: Address): Peer | undefined {
    const peer = this.#find(address);
    if (peer !== undefined) this.#peers.delete(peer.address.key);
    return peer;
  }

  /**
   * Applies one of `peerEventTypes`; `from` is the message's return address (Closed and
   * Abandoned name their connection only that way). Anything else changes nothing.
   */
  apply(message: AnyMessage, from: Address): PeerChange {
    if (Accepted.is(message) || Connected.is(message)) {
      const peer = this.add(message.remote, {
        remote: message.remote,
        ...(message.peerKey === undefined ? {} : { identity: message.peerKey }),
      });
      return { kind: 'added', peer };
    }
    if (Closed.is(message) || Abandoned.is(message)) {
      const peer = this.remove(from);
      return peer === undefined ? NONE : { kind: 'removed', peer };
    }
    if (Congested.is(message) || Drained.is(message)) {
      const peer = this.#find(message.remote);
      if (peer === undefined) return NONE;
      const congested = Congested.is(message);
      if (peer.congested === congested) return NONE;
      peer.congested = congested;
      return { kind: congested ? 'congested' : 'drained', peer };
    }
    if (isAvailable(message)) {
      const peer = this.add(message.remote, {
        remote: message.remote,
        name: message.name,
        ...(message.peerKey === undefined ? {} : { identity: message.peerKey }),
      });
      this.#listings.set(message.listing, message.remote.key);
      return { kind: 'added', peer };
    }
    if (isNotAvailable(message)) {
      const key = this.#listings.get(message.listing);
      this.#listings.delete(message.listing);
      const peer = key === undefined ? undefined : this.#peers.get(key);
      if (peer === undefined) return NONE;
      this.#peers.delete(key!);
      return { kind: 'removed', peer };
    }
    if (GroupUpdate.is(message)) {
      // A member's address is replaced as a whole: the old entry goes, the new one comes.
      const old = this.byName(message.name);
      if (
        old !== undefined &&
        (message.address === undefined || !old.address.equals(message.address))
      ) {
        this.#peers.delete(old.address.key);
      }
      if (message.address === undefined) {
        return old === undefined ? NONE : { kind: 'removed', peer: old };
      }
      const peer = this.add(message.address, {
        name: message.name,
        ...(message.remote === undefined ? {} : { remote: message.remote }),
      });
      return { kind: 'added', peer };
    }
    return NONE;
  }

  /** The peer whose address or connection is `address`. */
  #find(address: Address): MutablePeer | undefined {
    const direct = this.#peers.get(address.key);
    if (direct !== undefined) return direct;
    for (const peer of this.#peers.values()) if (peer.remote?.equals(address) === true) return peer;
    return undefined;
  }
}

/** A short description of a peer for NotDelivered and logs: its name, identity or address. */
export function describePeer(peer: Peer): string {
  return peer.name ?? peer.identity ?? peer.address.toString();
}
