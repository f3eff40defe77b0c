export * from './backoff.js';
export * from './constants.js';
export * from './errors.js';
export * from './members.js';
export * from './messages.js';
export * from './scope.js';
export * from './table.js';
