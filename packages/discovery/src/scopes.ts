/** Scopes from near to far, as numbers to compare. */
import type { Scope } from './messages.js';

export const SCOPE_RANK: Readonly<Record<Scope, number>> = {
  process: 0,
  host: 1,
  lan: 2,
  cluster: 3,
};

/** Nearest first. */
export function byNearest(a: Scope, b: Scope): number {
  return SCOPE_RANK[a] - SCOPE_RANK[b];
}
