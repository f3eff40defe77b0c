/**
 * @packageDocumentation
 * `@herald/net/internal`: what Herald's own tests, benchmarks and tools need from the
 * network layer but users should not build on. No stability promise: names here may change
 * in any release. The public API is `@herald/net` (src/index.ts); the wire layer is
 * `@herald/net/wire`. Model: nats.js `internal_mod.ts` behind `./internal`.
 */
export {
  DEFAULT_CLOSE_LINGER_MS,
  DEFAULT_EAGER_FLUSH_BYTES,
  DEFAULT_FLUSH_BUDGET_BYTES,
} from './constants.js';
export { hostPort, sessionMessages } from './messages.js';
export { networkOf } from './network.js';
export { Backoff, backoffFor, jitteredDelay, validateBackoffPolicy } from './group/backoff.js';
export { RESERVED_MEMBER_NAMES } from './group/constants.js';
export { groupMessages } from './group/messages.js';
export { scopeOf, type AddressScope } from './group/scope.js';
