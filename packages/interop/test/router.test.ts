/**
 * Handler routing lives in @herald/patterns (its behaviour is tested in
 * packages/patterns/test/routing.test.ts); this package re-exports it for the AsyncAProto
 * server and for users who import it from here. The re-export must be the same code, not a
 * second copy that could drift.
 */
import * as patterns from '@herald/patterns';
import { describe, expect, it } from 'vitest';
import * as interop from '../src/index.js';

describe('routing re-exported from @herald/patterns', () => {
  it('Router, routerBehavior, filters and HandlerFailed are the patterns package’s own', () => {
    expect(interop.Router).toBe(patterns.Router);
    expect(interop.routerBehavior).toBe(patterns.routerBehavior);
    expect(interop.filters).toBe(patterns.filters);
    expect(interop.HandlerFailed).toBe(patterns.HandlerFailed);
  });
});
