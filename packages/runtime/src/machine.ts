/**
 * Herald helpers for xstate machines.
 *
 * A machine spawned by Herald reaches the actor it runs in through its xstate `system`:
 *
 * ```ts
 * const server = setup({ ... }).createMachine({
 *   on: {
 *     Hello: { actions: herald.reply(({ event }) => Welcome({ yourName: event.myName })) },
 *   },
 * });
 * ```
 *
 * `herald.send(to, message)`, `herald.reply(message)` and `herald.forward(to, message, from)`
 * take values or functions of the action arguments; `herald.self(args)` gives the full
 * `Self` (timers, spawn, watch) for use inside any action or guard.
 */
import type { Address, AnyMessage } from '@herald/codec';
import type { EventObject, MachineContext } from 'xstate';
import { RuntimeError } from './errors.js';
import { machineSelves } from './machine-cell.js';
import type { Self } from './self.js';

interface ActionArgsLike<
  C extends MachineContext = MachineContext,
  E extends EventObject = EventObject,
> {
  context: C;
  event: E;
  system: object;
}

type Value<T, C extends MachineContext, E extends EventObject> =
  T | ((args: { context: C; event: E }) => T);

function value<T, C extends MachineContext, E extends EventObject>(
  v: Value<T, C, E>,
  args: ActionArgsLike<C, E>,
): T {
  return typeof v === 'function' ? (v as (a: { context: C; event: E }) => T)(args) : v;
}

function selfOf(args: { system: object }): Self {
  const self = machineSelves.get(args.system);
  if (self === undefined) {
    throw new RuntimeError(
      'HERALD_ERR_RECEIVE_OUTSIDE_ACTOR',
      'herald helpers work only in machines spawned by a Herald runtime',
    );
  }
  return self;
}

export const herald = {
  /** The Herald actor this machine runs as. */
  self: selfOf,
  /** Action: send a message to an address. */
  send<C extends MachineContext, E extends EventObject>(
    to: Value<Address, C, E>,
    message: Value<AnyMessage, C, E>,
  ) {
    return (args: ActionArgsLike<C, E>): void => {
      selfOf(args).send(value(to, args), value(message, args));
    };
  },
  /** Action: reply to the sender of the current event. */
  reply<C extends MachineContext, E extends EventObject>(message: Value<AnyMessage, C, E>) {
    return (args: ActionArgsLike<C, E>): void => {
      selfOf(args).reply(value(message, args));
    };
  },
  /** Action: send with another return address. */
  forward<C extends MachineContext, E extends EventObject>(
    to: Value<Address, C, E>,
    message: Value<AnyMessage, C, E>,
    returnAddress: Value<Address, C, E>,
  ) {
    return (args: ActionArgsLike<C, E>): void => {
      selfOf(args).forward(value(to, args), value(message, args), value(returnAddress, args));
    };
  },
  /** The return address of the event being handled (for storing in context). */
  returnAddress(args: { system: object }): Address {
    return selfOf(args).returnAddress;
  },
};
