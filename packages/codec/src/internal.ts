/**
 * @packageDocumentation
 * `@herald/codec/internal`: what Herald's own packages and tests need from the codec but
 * users should not build on. No stability promise: names here may change in any release.
 * The public API is `@herald/codec` (src/index.ts). Model: nats.js `internal_mod.ts`.
 */
export { MAX_STREAM_STRUCTURES } from './constants.js';
export { declaredPriority, declaredPriorityCount } from './message.js';
export { validateMessage, type TypeLookup } from './validate.js';
