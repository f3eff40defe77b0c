/**
 * @packageDocumentation
 * Herald networking: `send(address, message)` reaches actors in other processes exactly as
 * it reaches local ones. listen() and connect() give typed session messages; a SocketProxy
 * actor stands for each peer; addresses are translated hop by hop so reply() works across
 * chains of processes; frames can be encrypted; connections are kept alive and report
 * backpressure. See docs/networking.md and docs/wire-protocol.md.
 */
export * from './api.js';
export * from './constants.js';
export * from './messages.js';
export * from './options.js';
export { networkOf } from './network.js';
export * as wire from './wire/index.js';
export * from './group/index.js';
