/**
 * Option checks and the peer-given name rule of transfers. Options are checked at the call
 * (BadPatternOptionError), never later in the middle of a transfer.
 */
import path from 'node:path';
import type { AnyMessage } from '@herald/codec';
import type { Address, SendOptions, Self } from '@herald/runtime';
import { BadPatternOptionError } from '../errors.js';
import {
  MAX_TRANSFER_NAME_BYTES,
  TRANSFER_PARTIAL_DIRECTORY,
  TRANSFER_ID_PATTERN,
} from './constants.js';

/** A whole number in `[min, max]`, or the default when absent. */
export function intOption(
  field: string,
  value: number | undefined,
  fallback: number,
  min: number,
  max: number = Number.MAX_SAFE_INTEGER,
): number {
  if (value === undefined) return fallback;
  if (!Number.isSafeInteger(value) || value < min || value > max)
    throw new BadPatternOptionError(
      field,
      `${field} must be a whole number from ${String(min)} to ${String(max)}, got ${String(value)}`,
    );
  return value;
}

/** Whether `id` can be a transfer id (it names the partial files, so it is checked hard). */
export function isTransferId(id: string): boolean {
  return TRANSFER_ID_PATTERN.test(id);
}

/**
 * Why a peer-given file name is refused, or undefined when it is a plain file name: not
 * empty, at most MAX_TRANSFER_NAME_BYTES UTF-8 bytes, no `/` or `\`, no control characters, not `.`
 * or `..`, not the partial-file folder. Such a name can only denote a file directly in the
 * destination directory: no traversal, no absolute path, no drive letter (`C:` holds no
 * separator but `:` is refused too, as Windows reads it as a drive or a stream).
 */
export function badName(name: string): string | undefined {
  if (name.length === 0) return 'the name is empty';
  if (Buffer.byteLength(name, 'utf8') > MAX_TRANSFER_NAME_BYTES)
    return `the name is longer than ${String(MAX_TRANSFER_NAME_BYTES)} bytes`;
  if (name === '.' || name === '..') return 'the name is a directory reference';
  if (name === TRANSFER_PARTIAL_DIRECTORY) return 'the name is reserved';
  // eslint-disable-next-line no-control-regex
  if (/[/\\:\u0000-\u001f\u007f]/.test(name))
    return 'the name holds a path separator, a colon or a control character';
  return undefined;
}

/**
 * The destination of `name` inside `directory`, or undefined when it would not be directly
 * inside it (a second line of defence behind badName).
 */
export function destinationOf(directory: string, name: string): string | undefined {
  const root = path.resolve(directory);
  const target = path.resolve(root, name);
  return path.dirname(target) === root && path.basename(target) === name ? target : undefined;
}

const LOW: SendOptions = { priority: 'low' };

/**
 * Sends at low priority (contracts §2), so bulk chunks queue behind every normal and high
 * message in mailboxes and on the connection.
 */
export function sendLow(self: Self, to: Address, message: AnyMessage): boolean {
  return self.send(to, message, LOW);
}
