export * from './address.js';
export * from './errors.js';
export * from './message.js';
export * from './schema.js';
