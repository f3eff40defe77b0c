export * from './backoff.js';
export * from './errors.js';
export * from './scope.js';
