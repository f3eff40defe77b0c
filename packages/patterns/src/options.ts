/** Option checks shared by the patterns: a bad option throws at the call, never later. */
import { BadPatternOptionError } from './errors.js';

/** `value` must be an integer >= `min` (and finite). */
export function checkCount(field: string, value: number, min = 0): number {
  if (!Number.isSafeInteger(value) || value < min) {
    throw new BadPatternOptionError(
      field,
      `${field} must be an integer >= ${String(min)}, not ${String(value)}`,
    );
  }
  return value;
}

/** `value` must be a finite number >= `min`. */
export function checkNumber(field: string, value: number, min = 0): number {
  if (!Number.isFinite(value) || value < min) {
    throw new BadPatternOptionError(
      field,
      `${field} must be a number >= ${String(min)}, not ${String(value)}`,
    );
  }
  return value;
}
