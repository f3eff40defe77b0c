/**
 * @packageDocumentation
 * Herald's actor runtime: function, handler and xstate actors with addresses, typed
 * messages, save-and-replay receive, timers on an injectable clock, bounded mailboxes with
 * observable dead letters, pino logging and a process runner.
 *
 * This entry is the public API, an explicit list pinned by test/public-api.test.ts: adding a
 * name here is a deliberate act. What @herald/net needs but users should not (unwrapping
 * spawn options, building envelopes, the command-line parser) is in
 * `@herald/runtime/internal`.
 */
export { Address, HeraldError, NO_ADDRESS, isAddress, type AnyMessage } from '@herald/codec';
export {
  withOptions,
  type ArgsOf,
  type Behavior,
  type CompletionOf,
  type FunctionBehavior,
  type Handler,
  type SpawnOptions,
  type WithOptions,
} from './behavior.js';
export { TestClock, settle, systemClock, type Clock, type TimerHandle } from './clock.js';
export {
  DEFAULT_CLOSE_TIMEOUT_MS,
  DEFAULT_MAX_RESTARTS,
  DEFAULT_RESTART_BACKOFF_FACTOR,
  DEFAULT_RESTART_INITIAL_MS,
  DEFAULT_RESTART_MAX_MS,
  DEFAULT_RESTART_WINDOW_MS,
  DEFAULT_LOG_BUFFER_BYTES,
  DEFAULT_LOG_EXIT_FLUSH_MS,
  DEFAULT_LOG_LEVEL,
  DEFAULT_MAILBOX_CAPACITY,
  DEFAULT_TURN_BUDGET,
  EXIT_FAULTED,
  EXIT_FORCED,
  EXIT_USAGE,
} from './constants.js';
export type { ActorKind } from './cell.js';
export {
  CHANNEL_ACTOR_CREATED,
  CHANNEL_ACTOR_DESTROYED,
  CHANNEL_DEAD_LETTER,
  CHANNEL_MESSAGE_DELIVERED,
} from './diagnostics.js';
export type { DeadLetter, DeadLetterReason, Envelope, Priority } from './envelope.js';
export { ActorAborted, RuntimeError, type RuntimeErrorCode } from './errors.js';
export type {
  InspectionEvent,
  InspectionListener,
  XstateInspection,
  XstateInspectionEvent,
} from './inspect.js';
export {
  LOG_FORMAT_ENV,
  createLogDestination,
  createLogger,
  parseLogLevel,
  stderrLogDestination,
  type LogDestination,
  type LogDestinationOptions,
  type LogFormat,
  type Logger,
  type LoggerOptions,
  type LogLevel,
} from './logging.js';
export { herald } from './machine.js';
export {
  Aborted,
  Any,
  Completed,
  Exhausted,
  Faulted,
  Start,
  Stop,
  Terminated,
  TimedOut,
  Timer,
  Unanswered,
  Unwatch,
  Watch,
  completedOf,
  defineFault,
  isFaulted,
  terminatedOf,
  type Fault,
  type FaultType,
} from './messages.js';
export {
  createRuntime,
  type ActorInfo,
  type MailboxLoad,
  type Runtime,
  type RuntimeOptions,
  type Unsubscribe,
} from './runtime.js';
export type {
  AskOptions,
  Matcher,
  MatchedBy,
  ReceiveOptions,
  Self,
  SendOptions,
  TimerOptions,
} from './self.js';
export { isTraceparent, type TraceEvent, type TraceSpan, type Tracing } from './tracing.js';
export type { RestartInfo, SupervisionPolicy } from './supervision.js';
export {
  run,
  type MainBehavior,
  type RunOptions,
  type SettingValue,
  type Settings,
  type Widen,
} from './run.js';
