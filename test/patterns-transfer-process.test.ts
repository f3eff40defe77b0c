/**
 * File transfer across real processes that are killed (SIGKILL) mid-transfer and started
 * again (issue 13 items 6 and 8): the transfer resumes from what the receiver has on disk
 * and the file arrives whole, with the sha256 of the whole checked.
 *
 * - the receiver is killed: its partial file survives; the restarted receiver re-hashes it
 *   and answers the sender's re-offer with its length; the sender (this process) resends
 *   what was not acknowledged from memory;
 * - the sender is killed: the restarted sender derives the same transfer id from the file,
 *   the receiver (this process) answers with what it has, and the sender reads the file on
 *   from there after hashing the part already sent.
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { PassThrough } from 'node:stream';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import {
  GroupUpdate,
  Listening,
  connectTo,
  createGroup,
  groupTable,
  listen,
  sessionOf,
} from '@herald/net';
import type { Address } from '@herald/runtime';
import {
  closeTestRuntimes,
  killAll,
  spawnProbe,
  spawnScript,
  startFaultRelay,
  testRuntime,
  type FaultRelay,
} from '@herald/testing';
import {
  TransferCompleted,
  TransferFailed,
  TransferProgress,
  sendStream,
  spawnFileReceiver,
  transferMessages,
  transferSession,
} from '../packages/patterns/src/index.js';

const NODE = fileURLToPath(new URL('./fixtures/transfer-node.ts', import.meta.url));
/** Bound for one child to start (tsx on a loaded machine) or for one step of a transfer. */
const CHILD_WAIT_MS = 45_000;
/** Bound for a whole test: two children one after the other, and the transfer. */
const TEST_TIMEOUT_MS = 150_000;

const directories: string[] = [];
const relays: FaultRelay[] = [];
afterEach(async () => {
  await killAll();
  await closeTestRuntimes();
  await Promise.all(relays.splice(0).map((r) => r.close()));
  await Promise.all(directories.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

async function tempDirectory(): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), 'herald-transfer-process-'));
  directories.push(dir);
  return dir;
}

const sha256 = (data: Uint8Array) => createHash('sha256').update(data).digest('hex');

describe('transfer between processes', () => {
  it(
    'a receiver killed mid-transfer and restarted resumes from its partial file',
    async () => {
      const dir = await tempDirectory();
      const first = spawnScript(NODE, ['--role=receiver', `--dir=${dir}`]);
      const port = Number((await first.waitForLine(/^listening (\d+)$/, CHILD_WAIT_MS))[1]);

      const client = await spawnProbe(testRuntime({ messages: transferMessages }), 'client');
      createGroup(
        client.self,
        groupTable({
          receiver: connectTo(
            { host: '127.0.0.1', port },
            {
              messages: transferMessages,
              backoff: { steps: [0], regular: 50, jitter: 0, jitterQuantumMs: 1 },
            },
          ),
        }),
      );
      const to = (await client.next(GroupUpdate, (u) => u.address !== undefined)).message
        .address as Address;
      const data = randomBytes(3 * 1024 * 1024 + 777);
      const half = 1536 * 1024; // a whole number of 16 KiB chunks
      const stream = new PassThrough();
      sendStream(client.self, to, stream, {
        name: 'survivor.bin',
        chunkBytes: 16 * 1024,
        progressEveryBytes: 1,
        maxResumes: 50, // a loaded machine may drop the link more than once (keep-alive)
      });
      stream.write(data.subarray(0, half));
      // every byte of the first half is written by the receiver (acknowledged): kill it
      // (a failure instead ends the wait at once, and the assertion shows its reason)
      const reached = await client.recorder.next(
        (r) =>
          (TransferProgress.is(r.message) && r.message.bytes === half) ||
          TransferFailed.is(r.message),
        { timeoutMs: CHILD_WAIT_MS },
      );
      expect(reached.message).toMatchObject({ type: TransferProgress.type, bytes: half });
      first.kill('SIGKILL');
      await first.waitForExit(CHILD_WAIT_MS);

      const second = spawnScript(NODE, ['--role=receiver', `--dir=${dir}`, `--port=${port}`]);
      await second.waitForLine(/^listening \d+$/, CHILD_WAIT_MS);
      // the restarted receiver answers the re-offer with the half it has on disk
      const resumed = await client.next(TransferProgress, (p) => p.resumes === 1, CHILD_WAIT_MS);
      expect(resumed.message.bytes).toBe(half);
      stream.end(data.subarray(half));

      const sent = (await client.next(TransferCompleted, () => true, CHILD_WAIT_MS)).message;
      expect([sent.size, sent.sha256, sent.resumes]).toEqual([data.length, sha256(data), 1]);
      // the restarted receiver never saw the first half arrive: it began at the half
      const firstProgress = await second.waitForLine(/^progress (\d+) (\d+)$/, CHILD_WAIT_MS);
      expect(Number(firstProgress[1])).toBe(half);
      const done = await second.waitForLine(
        /^completed (\d+) ([0-9a-f]{64}) (\d+)$/,
        CHILD_WAIT_MS,
      );
      expect([Number(done[1]), done[2], Number(done[3])]).toEqual([data.length, sha256(data), 1]);
      expect(Buffer.compare(await readFile(path.join(dir, 'survivor.bin')), data)).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );

  it(
    'a sender killed mid-transfer and restarted goes on from what the receiver has',
    async () => {
      const inbox = await tempDirectory();
      const server = await spawnProbe(testRuntime({ messages: transferMessages }), 'server');
      const receiver = spawnFileReceiver(server.self, { directory: inbox, progressEveryBytes: 1 });
      listen(
        server.self,
        { port: 0 },
        { messages: transferMessages, session: sessionOf(transferSession, receiver) },
      );
      const port = (await server.next(Listening)).message.listening.port;
      // A relay adding latency paces the sender (window 1): it is still sending when killed.
      const relay = await startFaultRelay({ target: { host: '127.0.0.1', port }, delayMs: 5 });
      relays.push(relay);

      const source = path.join(await tempDirectory(), 'big.bin');
      const data = randomBytes(4 * 1024 * 1024 + 5); // at least 2.5 s at 5 ms each way per chunk
      await writeFile(source, data);
      const args = [
        '--role=sender',
        `--port=${relay.port}`,
        `--file=${source}`,
        '--chunk=16384',
        '--window=1',
      ];
      const first = spawnScript(NODE, args);
      await server.next(TransferProgress, (p) => p.bytes >= 512 * 1024, CHILD_WAIT_MS);
      first.kill('SIGKILL');
      await first.waitForExit(CHILD_WAIT_MS);
      const before = server.all(TransferProgress).at(-1)?.bytes ?? 0;
      expect(before).toBeLessThan(data.length);

      relay.delay(0);
      const second = spawnScript(NODE, args);
      // the restarted sender is told what the receiver has and starts there, not at 0
      const start = await second.waitForLine(/^progress (\d+) (\d+)$/, CHILD_WAIT_MS);
      expect(Number(start[1])).toBeGreaterThanOrEqual(512 * 1024);
      const done = await second.waitForLine(/^completed (\d+) ([0-9a-f]{64})/, CHILD_WAIT_MS);
      expect([Number(done[1]), done[2]]).toEqual([data.length, sha256(data)]);
      const received = (await server.next(TransferCompleted, () => true, CHILD_WAIT_MS)).message;
      expect([received.sha256, received.resumes]).toEqual([sha256(data), 1]);
      expect(Buffer.compare(await readFile(path.join(inbox, 'big.bin')), data)).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
