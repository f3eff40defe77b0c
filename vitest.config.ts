import { defineConfig } from 'vitest/config';

// Every test is bounded: a test that cannot finish in 60 s fails rather than hanging CI.
export default defineConfig({
  test: {
    include: ['packages/*/test/**/*.test.ts', 'test/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 30_000,
    teardownTimeout: 10_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
