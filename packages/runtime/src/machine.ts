/**
 * Herald helpers for xstate machines.
 *
 * A machine spawned by Herald reaches the actor it runs in through its xstate `system`:
 *
 * ```ts
 * const server = setup({ types: { events: {} as Hello | Stop } }).createMachine({
 *   on: {
 *     Hello: { actions: herald.reply(({ event }) => Welcome({ yourName: event.myName })) },
 *   },
 * });
 * ```
 *
 * `herald.send(to, message)`, `herald.reply(message)` and `herald.forward(to, message, from)`
 * take values or functions of the action arguments (and the action's `params`);
 * `herald.self(args)` gives the full `Self` (timers, spawn, watch) for use inside any action
 * or guard.
 *
 * The action helpers are typed the way xstate's own `assign` and `sendTo` are: generic in
 * the context, the event being handled, the params and the machine's events, and returning
 * xstate's `ActionFunction` of those. TypeScript then takes the type arguments from the place
 * the action is written (a transition, `entry`, `setup({ actions })`, `enqueue(...)`), so
 * `({ context, event })` in the callback has the machine's context and the event narrowed to
 * the transition's type with no annotation or cast.
 */
import type { Address, AnyMessage } from '@herald/codec';
import type {
  ActionArgs,
  ActionFunction,
  EventObject,
  MachineContext,
  ParameterizedObject,
} from 'xstate';
import { RuntimeError } from './errors.js';
import { machineSelves } from './machine-cell.js';
import type { Self } from './self.js';

/** What an action's `params` may be, as xstate declares it. */
type Params = ParameterizedObject['params'] | undefined;

/**
 * An argument of a herald action helper: the value itself, or a function of the action's
 * arguments (`{ context, event, self, system }`) and its `params` that computes it when the
 * action runs.
 */
type ActionValue<
  T,
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends Params,
  TEvent extends EventObject,
> = T | ((args: ActionArgs<TContext, TExpressionEvent, TEvent>, params: TParams) => T);

/**
 * What the helpers return: an xstate action function that references no actors, actions,
 * guards, delays or emitted events of the machine (hence the `never`s, as in `assign`).
 */
type HeraldAction<
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends Params,
  TEvent extends EventObject,
> = ActionFunction<TContext, TExpressionEvent, TEvent, TParams, never, never, never, never, never>;

function valueOf<
  T,
  TContext extends MachineContext,
  TExpressionEvent extends EventObject,
  TParams extends Params,
  TEvent extends EventObject,
>(
  v: ActionValue<T, TContext, TExpressionEvent, TParams, TEvent>,
  args: ActionArgs<TContext, TExpressionEvent, TEvent>,
  params: TParams,
): T {
  // Addresses and messages are never functions, so a function is always an expression.
  return typeof v === 'function'
    ? (v as (a: ActionArgs<TContext, TExpressionEvent, TEvent>, p: TParams) => T)(args, params)
    : v;
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
  send<
    TContext extends MachineContext,
    TExpressionEvent extends EventObject,
    TParams extends Params,
    TEvent extends EventObject,
  >(
    to: ActionValue<Address, TContext, TExpressionEvent, TParams, TEvent>,
    message: ActionValue<AnyMessage, TContext, TExpressionEvent, TParams, TEvent>,
  ): HeraldAction<TContext, TExpressionEvent, TParams, TEvent> {
    return (args, params) => {
      selfOf(args).send(valueOf(to, args, params), valueOf(message, args, params));
    };
  },
  /** Action: reply to the sender of the current event. */
  reply<
    TContext extends MachineContext,
    TExpressionEvent extends EventObject,
    TParams extends Params,
    TEvent extends EventObject,
  >(
    message: ActionValue<AnyMessage, TContext, TExpressionEvent, TParams, TEvent>,
  ): HeraldAction<TContext, TExpressionEvent, TParams, TEvent> {
    return (args, params) => {
      selfOf(args).reply(valueOf(message, args, params));
    };
  },
  /** Action: send with another return address. */
  forward<
    TContext extends MachineContext,
    TExpressionEvent extends EventObject,
    TParams extends Params,
    TEvent extends EventObject,
  >(
    to: ActionValue<Address, TContext, TExpressionEvent, TParams, TEvent>,
    message: ActionValue<AnyMessage, TContext, TExpressionEvent, TParams, TEvent>,
    returnAddress: ActionValue<Address, TContext, TExpressionEvent, TParams, TEvent>,
  ): HeraldAction<TContext, TExpressionEvent, TParams, TEvent> {
    return (args, params) => {
      selfOf(args).forward(
        valueOf(to, args, params),
        valueOf(message, args, params),
        valueOf(returnAddress, args, params),
      );
    };
  },
  /** The return address of the event being handled (for storing in context). */
  returnAddress(args: { system: object }): Address {
    return selfOf(args).returnAddress;
  },
};
