/**
 * Sessions of process-scope routes. A network route's sessions are made by its SocketProxy
 * (listen/connect `session`); a process route has no connection, so its agents make them,
 * with the same calling convention and a context whose `peer` is `process:0`.
 */
import type { SessionContext, SessionFrame } from '@herald/net';
import type { Address, Self } from '@herald/runtime';

/**
 * Spawns `frame` as a child of the agent `self`, called as `behavior(self, context,
 * ...args)` with `remote` the other end of the route.
 */
export function spawnSession(
  self: Self,
  frame: SessionFrame,
  remote: Address,
  opened: Date,
): Address {
  const context: SessionContext = {
    controller: self.address,
    remote,
    peer: { host: 'process', port: 0 },
    opened,
    encrypted: false,
  };
  const spawn = self.spawn.bind(self) as (behavior: unknown, ...args: unknown[]) => Address;
  return spawn(frame.behavior, context, ...frame.args);
}
