/**
 * @packageDocumentation
 * Herald's actor runtime: function, handler and xstate actors with addresses, typed
 * messages, save-and-replay receive, timers on an injectable clock, bounded mailboxes with
 * observable dead letters, pino logging and a process runner.
 */
export { Address, NO_ADDRESS, isAddress, type AnyMessage } from '@herald/codec';
export * from './behavior.js';
export * from './clock.js';
export * from './constants.js';
export { Envelope, type DeadLetter, type DeadLetterReason } from './envelope.js';
export * from './errors.js';
export * from './inspect.js';
export { createLogger, parseLogLevel, type Logger, type LogLevel } from './logging.js';
export * from './machine.js';
export * from './messages.js';
export { createRuntime, type Runtime, type RuntimeOptions, type Unsubscribe } from './runtime.js';
export type { Matcher, MatchedBy, ReceiveOptions, Self, TimerOptions } from './self.js';
export * from './run.js';
