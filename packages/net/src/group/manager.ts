/**
 * The group manager: the actor createGroup() starts as a child of the owner. It starts one
 * member actor per table entry, turns their UseAddress / NoAddress reports into GroupUpdate,
 * Ready and NotReady for the owner, runs the optional session while the group is ready,
 * enforces the get-ready timeout, and ends the group when a member gives up or it is
 * stopped (docs/groups.md).
 */
import {
  Aborted,
  Completed,
  TimedOut,
  Timer,
  withOptions,
  type Address,
  type AnyMessage,
  type Envelope,
  type Handler,
  type Self,
} from '@herald/runtime';
import { unwrapBehavior } from '@herald/runtime/internal';
import type { HostPort } from '../messages.js';
import { networkOf } from '../network.js';
import { DEFAULT_GROUP_MEMBER_STOP_MS } from './constants.js';
import { GroupUpdate, NoAddress, NotReady, Ready, UseAddress } from './messages.js';
import type { GroupOptions, GroupSessionContext, GroupTable, MemberTable } from './table.js';

/** One group, as `groups(runtime)` lists it (docs/groups.md). */
export interface GroupInfo {
  /** The group manager. */
  readonly address: Address;
  readonly members: readonly GroupMemberInfo[];
  /** Every member has an address. */
  readonly ready: boolean;
}

export interface GroupMemberInfo {
  readonly name: string;
  /** 'up' (it has an address), 'down' (it is waiting for one) or 'ending' (the group ends). */
  readonly state: 'up' | 'down' | 'ending';
  /** Where to send to reach the member, while it has an address. */
  readonly address: Address | undefined;
}

const GET_READY_TIMER = 'group.get-ready';
const MEMBERS_STOPPED_TIMER = 'group.members-stopped';

interface Member {
  readonly name: string;
  readonly actor: Address;
  address: Address | undefined;
  remote: Address | undefined;
  endpoint: HostPort | undefined;
}

export class GroupManager implements Handler {
  readonly name = 'GroupManager';
  readonly #table: GroupTable<MemberTable>;
  readonly #options: GroupOptions;
  readonly #owner: Address;
  /** Members by actor address key. */
  readonly #members = new Map<string, Member>();
  #self!: Self;
  #ready = false;
  #everReady = false;
  #session: Address | undefined;
  /** Stop was sent to the session; its Completed is awaited. */
  #sessionStopping = false;
  #previous: unknown = undefined;
  /** The group itself was asked to stop and waits for its session to end. */
  #stopping = false;
  /**
   * The group is ending with this value and waits for its members to stop first, so that
   * what they held reaches its senders (NotDelivered) before the owner's Completed.
   */
  #ending: { value: unknown } | undefined;

  constructor(table: GroupTable<MemberTable>, options: GroupOptions, owner: Address) {
    this.#table = table;
    this.#options = options;
    this.#owner = owner;
  }

  start(self: Self): void {
    this.#self = self;
    networkOf(self.runtime).groups.add(this);
    for (const name of this.#table.names) {
      const kind = this.#table.members[name];
      if (kind === undefined) continue;
      const behavior = kind.create({ name, manager: self.address, owner: this.#owner });
      const spawn = self.spawn.bind(self) as (behavior: unknown) => Address;
      const actor = spawn(behavior);
      this.#members.set(actor.key, {
        name,
        actor,
        address: undefined,
        remote: undefined,
        endpoint: undefined,
      });
      self.log.debug({ member: name, kind: kind.kind, target: kind.target }, 'member started');
    }
    if (this.#options.getReadyMs !== undefined)
      self.startTimer(GET_READY_TIMER, this.#options.getReadyMs);
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    const member = this.#members.get(envelope.from.key);
    if (member !== undefined && this.#ending !== undefined) {
      if (Completed.is(message)) {
        this.#members.delete(member.actor.key);
        if (this.#members.size === 0) self.complete(this.#ending.value);
      }
      return;
    }
    if (member !== undefined) {
      if (UseAddress.is(message)) this.#use(member, message);
      else if (NoAddress.is(message)) this.#lose(member, message.reason);
      else if (Completed.is(message)) this.#memberEnded(member, message.value);
      else this.#unhandled(message, envelope);
      return;
    }
    if (
      Completed.is(message) &&
      this.#session !== undefined &&
      envelope.from.equals(this.#session)
    ) {
      this.#sessionEnded(message.value);
      return;
    }
    if (Timer.is(message) && envelope.from.equals(self.address)) {
      if (message.key === GET_READY_TIMER && !this.#everReady) this.#timedOut();
      // Members that did not stop in time are stopped with the group as its children.
      if (message.key === MEMBERS_STOPPED_TIMER && this.#ending !== undefined)
        self.complete(this.#ending.value);
      return;
    }
    this.#unhandled(message, envelope);
  }

  end(self: Self): void {
    networkOf(self.runtime).groups.delete(this);
  }

  /** A snapshot for `groups(runtime)`. */
  info(): GroupInfo {
    const ending = this.#ending !== undefined;
    const members: GroupMemberInfo[] = [];
    for (const name of this.#table.names) {
      let member: Member | undefined;
      for (const m of this.#members.values()) if (m.name === name) member = m;
      const address = member?.address;
      members.push({
        name,
        state: ending || member === undefined ? 'ending' : address === undefined ? 'down' : 'up',
        address,
      });
    }
    return { address: this.#self.address, members, ready: this.#ready };
  }

  onStop(): void {
    if (this.#session === undefined) {
      this.#complete(Aborted());
      return;
    }
    // Ends with the session's value once it has stopped.
    this.#stopping = true;
    if (!this.#sessionStopping) {
      this.#sessionStopping = true;
      this.#self.stop(this.#session);
    }
  }

  /**
   * Completes the group once its members have stopped: each member answers the messages it
   * still holds with NotDelivered{ member-ended } as it ends, and those must reach their
   * senders before the owner learns (Completed) that the group is over.
   */
  #complete(value: unknown): void {
    const self = this.#self;
    if (this.#ending !== undefined) return;
    this.#ending = { value };
    if (this.#members.size === 0) {
      self.complete(value);
      return;
    }
    for (const m of this.#members.values()) self.stop(m.actor);
    self.startTimer(MEMBERS_STOPPED_TIMER, DEFAULT_GROUP_MEMBER_STOP_MS);
  }

  #use(member: Member, message: UseAddress): void {
    const self = this.#self;
    member.address = message.address;
    member.remote = message.remote;
    member.endpoint = message.endpoint;
    self.send(this.#owner, this.#update(member));
    if (this.#ready || this.#stopping) return;
    for (const m of this.#members.values()) if (m.address === undefined) return;
    this.#ready = true;
    if (!this.#everReady) {
      this.#everReady = true;
      self.cancelTimer(GET_READY_TIMER);
    }
    self.log.info('group ready');
    self.send(this.#owner, Ready({ group: self.address }));
    this.#startSession();
  }

  #lose(member: Member, reason: string | undefined): void {
    const self = this.#self;
    if (member.address === undefined) return;
    member.address = undefined;
    member.remote = undefined;
    member.endpoint = undefined;
    if (this.#ready) {
      this.#ready = false;
      self.log.info({ member: member.name, reason }, 'group not ready');
      self.send(
        this.#owner,
        NotReady({
          group: self.address,
          member: member.name,
          ...(reason === undefined ? {} : { reason }),
        }),
      );
      this.#stopSession();
    }
    self.send(this.#owner, this.#update(member));
  }

  #update(member: Member): GroupUpdate {
    return GroupUpdate({
      group: this.#self.address,
      name: member.name,
      ...(member.address === undefined ? {} : { address: member.address }),
      ...(member.remote === undefined ? {} : { remote: member.remote }),
      ...(member.endpoint === undefined ? {} : { endpoint: member.endpoint }),
    });
  }

  /** A member gave up (or ended for any reason): the group ends with its value. */
  #memberEnded(member: Member, value: unknown): void {
    this.#self.log.warn({ member: member.name }, 'member ended: group ends');
    this.#members.delete(member.actor.key);
    this.#end(value, member.name);
  }

  #timedOut(): void {
    const ms = this.#options.getReadyMs ?? 0;
    const fault = TimedOut({
      after: ms,
      explanation: `group not ready within ${ms} ms`,
    });
    this.#self.send(this.#owner, fault);
    this.#end(fault);
  }

  /** Ends the group: NotReady first if it was ready; members and session are stopped as children. */
  #end(value: unknown, member?: string): void {
    const self = this.#self;
    if (this.#ready) {
      this.#ready = false;
      self.send(
        this.#owner,
        NotReady({
          group: self.address,
          ...(member === undefined ? {} : { member, reason: 'member-ended' }),
        }),
      );
    }
    this.#complete(value);
  }

  #startSession(): void {
    const frame = this.#options.session;
    if (frame === undefined || this.#session !== undefined) return;
    const self = this.#self;
    const members: Record<string, Address> = {};
    for (const m of this.#members.values())
      if (m.address !== undefined) members[m.name] = m.address;
    const context: GroupSessionContext = {
      owner: this.#owner,
      manager: self.address,
      members: Object.freeze(members),
      previous: this.#previous,
    };
    const spawn = self.spawn.bind(self) as (behavior: unknown, ...args: unknown[]) => Address;
    const { behavior, options } = unwrapBehavior(frame.behavior);
    const named = withOptions(behavior, { name: 'GroupSession', ...options });
    this.#session =
      typeof behavior === 'function'
        ? spawn(named, context, ...frame.args)
        : spawn(named, { ...context, args: frame.args });
  }

  #stopSession(): void {
    if (this.#session === undefined || this.#sessionStopping) return;
    this.#sessionStopping = true;
    this.#self.stop(this.#session);
  }

  #sessionEnded(value: unknown): void {
    const stopped = this.#sessionStopping;
    this.#session = undefined;
    this.#sessionStopping = false;
    this.#previous = value;
    if (this.#stopping) {
      this.#complete(value);
    } else if (!stopped) {
      // The session finished its work by itself: that is the group's result.
      this.#end(value);
    } else if (this.#ready) {
      // Ready came back while the previous session was still stopping.
      this.#startSession();
    }
  }

  #unhandled(message: AnyMessage, envelope: Envelope): void {
    this.#self.runtime.reportDeadLetter({
      to: envelope.to,
      from: envelope.from,
      message,
      reason: 'unhandled',
    });
  }
}
