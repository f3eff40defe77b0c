/**
 * Where a sender's bytes come from: a file (read at any offset, so a resumed or restarted
 * transfer seeks) or a stream (read once, in order). Both hand out chunks of exactly the
 * asked size but the last, and hold no more than one chunk beyond what is asked.
 */
import { open, type FileHandle } from 'node:fs/promises';
import type { Readable } from 'node:stream';
import { PatternsError } from '../errors.js';

export interface ChunkSource {
  /** Total bytes, when known. */
  readonly size: number | undefined;
  /** Whether `read` can start again at an earlier offset (files can; streams cannot). */
  readonly seekable: boolean;
  /** Reads up to `bytes` at `offset` (streams: `offset` must be where the last read ended). Empty at the end. */
  read(offset: number, bytes: number): Promise<Uint8Array>;
  close(): Promise<void>;
}

export async function openFileSource(path: string): Promise<ChunkSource & { mtimeMs: number }> {
  const handle: FileHandle = await open(path, 'r');
  try {
    const stat = await handle.stat();
    return {
      size: stat.size,
      mtimeMs: stat.mtimeMs,
      seekable: true,
      async read(offset, bytes) {
        const buffer = Buffer.allocUnsafe(bytes);
        let filled = 0;
        while (filled < bytes) {
          const { bytesRead } = await handle.read(buffer, filled, bytes - filled, offset + filled);
          if (bytesRead === 0) break;
          filled += bytesRead;
        }
        return buffer.subarray(0, filled);
      },
      close: () => handle.close(),
    };
  } catch (error) {
    await handle.close();
    throw error;
  }
}

/** A stream cut into chunks as they are asked for: the stream is pulled, never pushed ahead. */
export function streamSource(
  stream: Readable | AsyncIterable<Uint8Array>,
  size: number | undefined,
): ChunkSource {
  const iterator = stream[Symbol.asyncIterator]() as AsyncIterator<Uint8Array | string>;
  let leftover: Uint8Array = new Uint8Array(0);
  let position = 0;
  let ended = false;
  return {
    size,
    seekable: false,
    async read(offset, bytes) {
      if (offset !== position)
        throw new PatternsError(
          'HERALD_ERR_TRANSFER_SOURCE',
          `a stream reads in order: asked ${offset}, at ${position}`,
        );
      const parts: Uint8Array[] = [];
      let have = 0;
      while (have < bytes) {
        if (leftover.length === 0) {
          if (ended) break;
          const next = await iterator.next();
          if (next.done === true) {
            ended = true;
            break;
          }
          leftover = typeof next.value === 'string' ? Buffer.from(next.value) : next.value;
          continue;
        }
        const take = Math.min(bytes - have, leftover.length);
        parts.push(leftover.subarray(0, take));
        leftover = leftover.subarray(take);
        have += take;
      }
      position += have;
      return parts.length === 1 ? (parts[0] as Uint8Array) : Buffer.concat(parts, have);
    },
    async close() {
      if (!ended) {
        ended = true;
        await iterator.return?.();
      }
    },
  };
}
