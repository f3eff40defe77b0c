/**
 * Hop-stack translation at a connection boundary (docs/wire-protocol.md, "Address
 * translation"). `proxyId` is the id of the local SocketProxy that stands for the peer.
 * All functions are pure and return new arrays.
 *
 * Stacks route on their LAST element. A stack received from a peer is relative to the
 * peer; appending the local proxy id makes it relative to us. The value 0 as the last
 * element is the "returning home" mark: the address names something on the receiving side,
 * so the receiver pops it instead of appending its proxy (no trombone back over the link).
 */

/** The hop value that marks "this address is on your side" (never an actor id). */
export const RETURNING_HOME = 0;

/**
 * Outbound `to`: the stack ends with `proxyId` (that is why it was routed to this proxy);
 * strip it and send the rest. An empty result means "the peer's default target".
 */
export function outboundTo(to: readonly number[], proxyId: number): number[] {
  if (to.length > 0 && to[to.length - 1] === proxyId) return to.slice(0, -1);
  return to.slice();
}

/**
 * Outbound return or space address: if it leads back over this same connection (last hop
 * is `proxyId`), drop that hop and mark it `0` so the peer resolves it on its own side;
 * otherwise send it as is (the peer appends its proxy on arrival).
 */
export function outboundAddress(addr: readonly number[], proxyId: number): number[] {
  if (addr.length > 0 && addr[addr.length - 1] === proxyId) {
    const out = addr.slice(0, -1);
    out.push(RETURNING_HOME);
    return out;
  }
  return addr.slice();
}

/** Where an inbound `to` stack leads. */
export type InboundRoute =
  | { readonly type: 'default' }
  | { readonly type: 'local'; readonly actor: number }
  | { readonly type: 'relay'; readonly to: readonly number[]; readonly via: number };

/**
 * Inbound `to`: empty → the connection's default target (session or controller); one hop →
 * that local actor; longer → relay: deliver the whole stack to the local proxy named by
 * the last hop, which strips it when sending on.
 */
export function inboundTo(to: readonly number[]): InboundRoute {
  if (to.length === 0) return { type: 'default' };
  const last = to[to.length - 1] as number;
  if (to.length === 1) return { type: 'local', actor: last };
  return { type: 'relay', to: to.slice(), via: last };
}

/**
 * Inbound return or space address: a trailing `0` is popped (the address is ours; an empty
 * result means the local default target, returned as `[]`); otherwise `proxyId` is
 * appended so the address leads back through this connection.
 */
export function inboundAddress(addr: readonly number[], proxyId: number): number[] {
  if (addr.length > 0 && addr[addr.length - 1] === RETURNING_HOME) return addr.slice(0, -1);
  const out = addr.slice();
  out.push(proxyId);
  return out;
}
