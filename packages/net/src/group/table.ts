/**
 * Group tables and the typed group view (docs/groups.md).
 *
 * ```ts
 * const table = groupTable({ server: connectTo({ host: '127.0.0.1', port: 32011 }) });
 * const group = createGroup(self, table, { getReadyMs: 10_000 });
 * for (;;) {
 *   const m = await self.receive(GroupUpdate, Ready, NotReady, Completed);
 *   if (GroupUpdate.is(m)) group.update(m);
 *   else if (Ready.is(m)) self.send(group.server!, Hello({ myName: 'Gladys' }));
 *   ...
 * }
 * ```
 */
import type { Address, Self } from '@herald/runtime';
import { withOptions } from '@herald/runtime';
import type { HostPort } from '../messages.js';
import type { SessionFrame } from '../options.js';
import { RESERVED_MEMBER_NAMES } from './constants.js';
import { BadGroupError } from './errors.js';
import { GroupManager } from './manager.js';
import type { GroupMember } from './members.js';
import { groupMessages, type GroupUpdate } from './messages.js';

/** Named members: `{ server: connectTo(...), backup: connectTo(...) }`. */
export type MemberTable = { readonly [name: string]: GroupMember };

/** A validated table of members, ready to be created any number of times. */
export interface GroupTable<T extends MemberTable = MemberTable> {
  readonly members: T;
  readonly names: readonly (keyof T & string)[];
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Declares the members of a group. Names must be identifiers and may not be one of the
 * view's own properties (`address`, `update`, `stop`, `ready`, `names`, `remoteOf`,
 * `endpointOf`) or an `Object.prototype` property. Throws BadGroupError
 * (`HERALD_ERR_BAD_OPTION`) otherwise, or when the table is empty.
 */
export function groupTable<const T extends MemberTable>(members: T): GroupTable<T> {
  const names = Object.keys(members) as (keyof T & string)[];
  if (names.length === 0) throw new BadGroupError('members', 'group table: no members');
  for (const name of names) {
    if (
      !IDENTIFIER.test(name) ||
      RESERVED_MEMBER_NAMES.includes(name) ||
      name in Object.prototype
    ) {
      throw new BadGroupError(
        name,
        `group table: member name ${JSON.stringify(name)} is reserved or not an identifier`,
      );
    }
    const member = members[name];
    if (typeof member !== 'object' || member === null || typeof member.create !== 'function') {
      throw new BadGroupError(
        name,
        `group table: member ${name} is not a group member (connectTo, listenAt, ...)`,
      );
    }
  }
  return Object.freeze({ members, names: Object.freeze(names) });
}

/** What a group session is given (see {@link GroupOptions.session}). */
export interface GroupSessionContext {
  /** The actor that created the group. */
  readonly owner: Address;
  /** The group manager (the session's parent). */
  readonly manager: Address;
  /** Every member's address at Ready. */
  readonly members: Readonly<Record<string, Address>>;
  /** The completion value of the previous session, undefined for the first. */
  readonly previous: unknown;
}

export interface GroupOptions {
  /**
   * Ready must come within this many ms of creation, or the owner receives TimedOut and the
   * group ends with it (Completed{ value: TimedOut }). Applies to the first Ready only.
   * Default: wait forever.
   */
  readonly getReadyMs?: number;
  /**
   * An actor created at every Ready (a child of the manager), stopped at NotReady and
   * created again at the next Ready, as `behavior(self, context: GroupSessionContext, ...args)`
   * (a machine gets `{ ...context, args }` as input). `context.previous` carries the previous
   * session's completion value. If a session completes by itself, the group ends with its
   * value. Build it with `sessionOf(behavior, ...args)`.
   */
  readonly session?: SessionFrame;
}

/** The methods and state of a group view, beside one property per member. */
export interface GroupControls<N extends string> {
  /** The group manager. Stop it (or call {@link stop}) to end the group. */
  readonly address: Address;
  /** The member names, in table order. */
  readonly names: readonly N[];
  /** True when every member has an address, by the updates applied so far. */
  readonly ready: boolean;
  /**
   * Applies a GroupUpdate from this group's manager. Returns false (and changes nothing)
   * for an update from another group.
   */
  update(message: GroupUpdate): boolean;
  /** The connection behind a member (its SocketProxy, or a listen-at member's listener). */
  remoteOf(name: N): Address | undefined;
  /** Where a member is connected or listening. */
  endpointOf(name: N): HostPort | undefined;
  /** Stops the group: members close their connections; the owner gets Completed. */
  stop(): void;
}

/** `group.server` is the member's address while it has one, else undefined. */
export type GroupView<T extends MemberTable> = {
  readonly [K in keyof T]: Address | undefined;
} & GroupControls<keyof T & string>;

interface MemberState {
  address: Address | undefined;
  remote: Address | undefined;
  endpoint: HostPort | undefined;
}

/**
 * Creates a group: spawns its manager as a child of `self` (which starts one actor per
 * member) and returns the view the owner keeps current with `group.update(m)`. The owner
 * receives GroupUpdate, Ready, NotReady, TimedOut and finally Completed from the manager.
 */
export function createGroup<T extends MemberTable>(
  self: Self,
  table: GroupTable<T>,
  options: GroupOptions = {},
): GroupView<T> {
  const { getReadyMs } = options;
  if (getReadyMs !== undefined && (!Number.isFinite(getReadyMs) || getReadyMs < 0)) {
    throw new BadGroupError(
      'getReadyMs',
      `group: getReadyMs must be a finite number of at least 0, got ${String(getReadyMs)}`,
    );
  }
  self.runtime.catalogue.add(...groupMessages);
  const manager = self.spawn(
    withOptions(new GroupManager(table as unknown as GroupTable, options, self.address), {
      name: 'GroupManager',
    }),
  );
  const states = new Map<string, MemberState>();
  for (const name of table.names)
    states.set(name, { address: undefined, remote: undefined, endpoint: undefined });
  const controls: GroupControls<keyof T & string> = {
    address: manager,
    names: table.names,
    get ready() {
      for (const state of states.values()) if (state.address === undefined) return false;
      return true;
    },
    update(message) {
      if (!message.group.equals(manager)) return false;
      const state = states.get(message.name);
      if (state === undefined) return false;
      state.address = message.address;
      state.remote = message.remote;
      state.endpoint = message.endpoint;
      return true;
    },
    remoteOf: (name) => states.get(name)?.remote,
    endpointOf: (name) => states.get(name)?.endpoint,
    stop: () => self.stop(manager),
  };
  for (const name of table.names) {
    Object.defineProperty(controls, name, {
      enumerable: true,
      get: () => states.get(name)?.address,
    });
  }
  return controls as GroupView<T>;
}
