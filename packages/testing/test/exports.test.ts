/**
 * @herald/testing's public surface, pinned: adding, removing or renaming an export fails
 * here until this list is edited too, so widening the package is a deliberate act. The
 * entry is an explicit list of named exports (no `export *`).
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import * as testing from '../src/index.js';

const PINNED = [
  'CI_SEEDS',
  'DEFAULT_CHILD_WAIT_MS',
  'DEFAULT_GREETING',
  'DEFAULT_MEMORY_LOG_LEVEL',
  'DEFAULT_WAIT_MS',
  'Hello',
  'Probe',
  'Recorder',
  'Signal',
  'SimNetwork',
  'TEST_RUNTIME_CLOSE_TIMEOUT_MS',
  'TestingError',
  'WELCOMING_SERVER_NAME',
  'Welcome',
  'closeTestRuntimes',
  'createSimNetwork',
  'freePort',
  'killAll',
  'memoryLogger',
  'propertyParameters',
  'propertySeeds',
  'seededRandom',
  'spawnProbe',
  'spawnScript',
  'startFaultRelay',
  'testMessages',
  'testRuntime',
  'waitFor',
  'welcomingServer',
  'withTimeout',
];

describe('@herald/testing exports', () => {
  it('exports - exactly the pinned values', () => {
    expect(Object.keys(testing).sort()).toEqual(PINNED);
  });

  it('exports - the entry names every export (no export *)', () => {
    const index = readFileSync(new URL('../src/index.ts', import.meta.url), 'utf8');
    expect(index).not.toMatch(/export \*/);
  });
});
