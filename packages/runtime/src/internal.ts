/**
 * @packageDocumentation
 * `@herald/runtime/internal`: what Herald's own packages (@herald/net, @herald/testing) and
 * tests need from the runtime but users should not build on. No stability promise: names
 * here may change in any release. The public API is `@herald/runtime` (src/index.ts).
 * Model: nats.js `internal_mod.ts` behind `./internal`.
 */
export { unwrapBehavior } from './behavior.js';
export {
  Envelope,
  NO_CORRELATION,
  PRIORITY_HIGH,
  PRIORITY_LOW,
  PRIORITY_NORMAL,
  priorityLevel,
  priorityName,
  typePriority,
  type PriorityLevel,
  answerCorrelation,
  isAnswer,
  requestCorrelation,
} from './envelope.js';
export { faultFields, lifecycleMessages } from './messages.js';
export { parseCommandLine, renderValue } from './run.js';
export { DEFAULT_LOG_INTERVAL_MS, LogThrottle } from './log-throttle.js';
