/**
 * What the management actor, the inspector and the metrics read from a runtime, turned
 * into the protocol's plain entries (addresses as strings, no `undefined`): the runtime's
 * own `actors()` and @herald/net's `connections()` and `groups()`. Each call builds a
 * fresh snapshot; nothing is kept between calls.
 */
import { connections, disconnect, groups } from '@herald/net';
import type { Address } from '@herald/codec';
import type { Runtime } from '@herald/runtime';
import type { ActorEntry, ConnectionEntry, GroupEntry } from './messages.js';

/** A list cut at `limit`, with how many there were in all. */
export interface Listed<T> {
  readonly items: T[];
  readonly total: number;
}

function cut<T>(all: readonly T[], limit: number): Listed<T> {
  return { items: all.length <= limit ? [...all] : all.slice(0, limit), total: all.length };
}

/** A JSON-safe copy of a machine's state value (it crosses a wire and reaches a browser). */
function jsonSafe(value: unknown): unknown {
  try {
    return JSON.parse(JSON.stringify(value)) as unknown;
  } catch {
    return String(value);
  }
}

export function actorEntries(runtime: Runtime, limit: number): Listed<ActorEntry> {
  const all = runtime.actors();
  const listed = cut(all, limit);
  return {
    total: listed.total,
    items: listed.items.map((actor) => {
      const entry: ActorEntry = {
        address: actor.address.toString(),
        name: actor.name,
        kind: actor.kind,
        parent: actor.parent === undefined ? null : actor.parent.toString(),
        mailbox: actor.mailbox,
        capacity: actor.capacity,
      };
      if (actor.state !== undefined)
        entry.state = jsonSafe(actor.state) as NonNullable<ActorEntry['state']>;
      return entry;
    }),
  };
}

export function connectionEntries(runtime: Runtime, limit: number): Listed<ConnectionEntry> {
  const listed = cut(connections(runtime), limit);
  return {
    total: listed.total,
    items: listed.items.map((c) => ({
      address: c.address.toString(),
      role: c.role,
      host: c.peer.host,
      port: c.peer.port,
      identity: c.identity ?? null,
      encrypted: c.encrypted,
      openedAt: c.openedAt,
      bytesIn: c.bytesIn,
      bytesOut: c.bytesOut,
      messagesIn: c.messagesIn,
      messagesOut: c.messagesOut,
      queuedBytes: c.queuedBytes,
      congested: c.congested,
      state: c.state,
    })),
  };
}

export function groupEntries(runtime: Runtime, limit: number): Listed<GroupEntry> {
  const listed = cut(groups(runtime), limit);
  return {
    total: listed.total,
    items: listed.items.map((g) => ({
      address: g.address.toString(),
      ready: g.ready,
      members: g.members.map((m) => ({
        name: m.name,
        state: m.state,
        address: m.address === undefined ? null : m.address.toString(),
      })),
    })),
  };
}

/** The live connection whose proxy address prints as `text`, if any. */
export function findConnection(runtime: Runtime, text: string): Address | undefined {
  return connections(runtime).find((c) => c.address.toString() === text)?.address;
}

/** Closes the connection named by `text`; false when there is no such connection. */
export function disconnectPeer(runtime: Runtime, text: string, reason: string): boolean {
  const proxy = findConnection(runtime, text);
  return proxy !== undefined && disconnect(runtime, proxy, reason);
}
