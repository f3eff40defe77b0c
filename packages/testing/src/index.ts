/**
 * @packageDocumentation
 * Test support for Herald programs: property-test seeds, and (in later modules) the memory
 * logger, test runtime, probes, the TCP fault relay, the simulated network and wait helpers.
 */
export { CI_SEEDS, propertySeeds, propertyParameters } from './property.js';
