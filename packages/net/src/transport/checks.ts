/**
 * Option checks of the transports: a transport is made with its options checked, and a bad
 * one throws `HERALD_ERR_BAD_OPTION` (a NetError) there, never later inside a dial.
 */
import { NetError } from '../errors.js';

/** Throws the one documented code for bad options, naming the transport. */
export function badOption(transport: string, message: string): never {
  throw new NetError('HERALD_ERR_BAD_OPTION', `${transport}: ${message}`);
}

/** `value` is absent or a whole number in [min, max]. */
export function checkWhole(
  transport: string,
  name: string,
  value: unknown,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): void {
  if (value === undefined) return;
  if (typeof value !== 'number' || !Number.isInteger(value) || value < min || value > max)
    badOption(
      transport,
      `${name} must be a whole number from ${min} to ${max}, got ${String(value)}`,
    );
}

/** Longest timer node accepts (larger delays fire at once). */
export const MAX_TIMER_MS = 2 ** 31 - 1;
