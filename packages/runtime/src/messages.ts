/**
 * Lifecycle messages. Plain objects with a string `type`, declared with the codec so they
 * cross connections like any other message.
 *
 * Faults are values, not exceptions: every fault message has `faulted: true`, a stable
 * `code` and a human `explanation`, and may carry an `exitCode` for the process runner.
 * `isFaulted(v)` recognises any of them, including the network faults declared by
 * @herald/net.
 *
 * Wire names are namespaced (`herald.Stop`, `herald.Timer`, ...) so an application may
 * declare its own `Stop`, `Start` or `Timer` beside them in one catalogue. Compare with
 * `Stop.type` or `Stop.is(m)`, never with a string literal.
 */
import {
  defineMessage,
  t,
  type AnyMessage,
  type Fields,
  type InferFields,
  type MessageOf,
  type MessageType,
} from '@herald/codec';
import type { CompletionOf } from './behavior.js';
import { RuntimeError } from './errors.js';

/** The fields every fault carries. */
export const faultFields = {
  faulted: t.literal(true),
  code: t.string(),
  explanation: t.string(),
  exitCode: t.optional(t.int()),
} as const;

export interface Fault extends AnyMessage {
  readonly faulted: true;
  readonly code: string;
  readonly explanation: string;
  readonly exitCode?: number;
}

type FaultInput<F extends Fields> = InferFields<F> & {
  code?: string;
  explanation?: string;
  exitCode?: number;
};

export type FaultType<N extends string, F extends Fields> = MessageType<
  N,
  { readonly type: N } & InferFields<F & typeof faultFields>
> &
  ((
    ...args: keyof InferFields<F> extends never ? [fields?: FaultInput<F>] : [fields: FaultInput<F>]
  ) => { readonly type: N } & InferFields<F & typeof faultFields>);

/**
 * Declares a fault message: `defineFault('NotConnected', { host: t.string() }, { code, explanation })`.
 * The constructor fills `faulted`, and `code`/`explanation` from the defaults unless given.
 */
export function defineFault<const N extends string, const F extends Fields>(
  type: N,
  fields: F,
  defaults: { code: string; explanation: string },
): FaultType<N, F> {
  const base = defineMessage(type, { ...fields, ...faultFields });
  const construct = (values: object = {}) => ({
    type,
    faulted: true,
    code: defaults.code,
    explanation: defaults.explanation,
    ...values,
  });
  return Object.assign(construct, {
    fields: base.fields,
    graph: false,
    is: base.is,
    type: base.type,
  }) as unknown as FaultType<N, F>;
}

/** True for any fault message (Faulted, Aborted, TimedOut, NotConnected, Closed, ...). */
export function isFaulted(value: unknown): value is Fault {
  return (
    typeof value === 'object' &&
    value !== null &&
    (value as { faulted?: unknown }).faulted === true &&
    typeof (value as { code?: unknown }).code === 'string'
  );
}

/** First message a state-machine actor receives. */
export const Start = defineMessage('herald.Start', {});
export type Start = MessageOf<typeof Start>;

/** A request to end. An actor that does not handle it ends with Aborted. */
export const Stop = defineMessage('herald.Stop', {});
export type Stop = MessageOf<typeof Stop>;

/**
 * Sent to the parent when a child ends: its return value (or fault). The value is optional
 * on the wire: an actor that returns nothing (`undefined`) still crosses a connection.
 */
export const Completed = defineMessage('herald.Completed', { value: t.optional(t.unknown()) });
export type Completed = MessageOf<typeof Completed>;

/** Sent to every watcher when the watched actor ends (or its connection is lost). */
export const Terminated = defineMessage('herald.Terminated', {
  address: t.address(),
  value: t.optional(t.unknown()),
});
export type Terminated = MessageOf<typeof Terminated>;

/**
 * Typed matchers for the lifecycle notices of a known behaviour: `receive(completedOf(worker))`
 * gives a Completed whose `value` is typed as `worker`'s return value (or a fault), and
 * `terminatedOf(worker)` the same for Terminated. They match exactly what Completed and
 * Terminated match (the behaviour only types the value; it is not checked at run time).
 */
export function completedOf<B>(
  _behavior: B,
): MessageType<typeof Completed.type, Completed & { readonly value: CompletionOf<B> }> {
  return Completed as never;
}

/** Terminated with `value` typed as `B`'s completion value (see {@link completedOf}). */
export function terminatedOf<B>(
  _behavior: B,
): MessageType<typeof Terminated.type, Terminated & { readonly value: CompletionOf<B> }> {
  return Terminated as never;
}

/** Asks the receiving actor to send Terminated to the sender when it ends. Handled by the runtime. */
export const Watch = defineMessage('herald.Watch', {});
export type Watch = MessageOf<typeof Watch>;

/** Cancels a Watch. Handled by the runtime. */
export const Unwatch = defineMessage('herald.Unwatch', {});
export type Unwatch = MessageOf<typeof Unwatch>;

/** Default message of a timer started without one. */
export const Timer = defineMessage('herald.Timer', { key: t.string() });
export type Timer = MessageOf<typeof Timer>;

/** A generic fault: an error carried as a value. */
export const Faulted = defineFault(
  'herald.Faulted',
  {},
  { code: 'HERALD_FAULTED', explanation: 'faulted' },
);
export type Faulted = MessageOf<typeof Faulted>;

/** The actor was stopped (Stop, Ctrl-C, parent ended, runtime closed). */
export const Aborted = defineFault(
  'herald.Aborted',
  {},
  { code: 'HERALD_ABORTED', explanation: 'user or software interrupt' },
);
export type Aborted = MessageOf<typeof Aborted>;

/** A receive or ask did not get its answer in time. */
export const TimedOut = defineFault(
  'herald.TimedOut',
  { after: t.number() },
  { code: 'HERALD_TIMED_OUT', explanation: 'no answer in time' },
);
export type TimedOut = MessageOf<typeof TimedOut>;

/** Retries ran out. */
export const Exhausted = defineFault(
  'herald.Exhausted',
  { attempts: t.int() },
  { code: 'HERALD_EXHAUSTED', explanation: 'retries exhausted' },
);
export type Exhausted = MessageOf<typeof Exhausted>;

/**
 * An ask ended without its answer: the target ended first (`value` is its completion
 * value), there was no such actor, or the connection the target sits behind was lost
 * (`value` is the connection's Abandoned or Closed). Every ask can end with it, so its
 * result type always includes it.
 */
export const Unanswered = defineFault(
  'herald.Unanswered',
  { address: t.address(), value: t.optional(t.unknown()) },
  { code: 'HERALD_UNANSWERED', explanation: 'the asked actor ended before it answered' },
);
export type Unanswered = MessageOf<typeof Unanswered>;

/**
 * Matches any message in `receive()` except Stop: a generic loop still ends on Ctrl-C.
 * List Stop beside it (`receive(Any, Stop)`) to take Stop as a message too.
 */
export const Any: MessageType<'*', AnyMessage> = Object.assign(
  () => {
    throw new RuntimeError('HERALD_ERR_NOT_A_MESSAGE', 'Any is a matcher, not a message');
  },
  {
    type: '*' as const,
    fields: {},
    graph: false,
    is: (v: unknown): v is AnyMessage => typeof v === 'object' && v !== null,
  },
) as unknown as MessageType<'*', AnyMessage>;

/** The runtime's own message types, added to every runtime's catalogue. */
export const lifecycleMessages = [
  Start,
  Stop,
  Completed,
  Terminated,
  Watch,
  Unwatch,
  Timer,
  Faulted,
  Aborted,
  TimedOut,
  Exhausted,
  Unanswered,
] as const;
