/**
 * The patterns examples run as a user runs them, each end its own real process over
 * 127.0.0.1: send-file / receive-file (progress at both ends, the file arrives whole, a
 * second send of the same name is refused with a non-zero exit), and topic-broker (a
 * broker, two subscribers with wildcard patterns, a publisher).
 */
import { createHash, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript, type SpawnedChild } from '@herald/testing';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
/** Bound for one process to start and do its work (tsx start-up on a loaded machine included). */
const RUN_TIMEOUT_MS = 45_000;
/** Bound for a whole test: several processes, some one after another. */
const TEST_TIMEOUT_MS = 150_000;

const directories: string[] = [];
afterEach(async () => {
  await killAll();
  await Promise.all(directories.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

function start(name: string, args: readonly string[]): SpawnedChild {
  return spawnScript(`examples/${name}.ts`, args, { cwd: ROOT });
}

async function listening(child: SpawnedChild): Promise<number> {
  return Number((await child.waitForLine(/^listening on 127\.0\.0\.1:(\d+)$/, RUN_TIMEOUT_MS))[1]);
}

describe('send-file and receive-file', () => {
  it(
    'a file arrives whole with progress at both ends; sending the same name again fails',
    async () => {
      const work = await mkdtemp(path.join(tmpdir(), 'herald-send-file-'));
      directories.push(work);
      const file = path.join(work, 'photo.raw');
      const data = randomBytes(5 * 1024 * 1024 + 3);
      await writeFile(file, data);
      const sha256 = createHash('sha256').update(data).digest('hex');

      const receiver = start('receive-file', ['--port=0', `--dir=${path.join(work, 'inbox')}`]);
      const port = await listening(receiver);
      const sender = start('send-file', [`--port=${port}`, `--file=${file}`]);
      expect(await sender.waitForExit(RUN_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      expect(
        sender.stdout.filter((l) => l.startsWith('sending photo.raw: ')).length,
      ).toBeGreaterThan(1);
      expect(sender.stdout.at(-1)).toBe(`sent photo.raw: ${data.length} bytes, sha256 ${sha256}`);
      await receiver.waitForLine(/^receiving photo\.raw: 100\.0%/, RUN_TIMEOUT_MS);
      const done = await receiver.waitForLine(
        /^received photo\.raw: (\d+) bytes, sha256 (\w+), at (.+)$/,
        RUN_TIMEOUT_MS,
      );
      expect([Number(done[1]), done[2], done[3]]).toEqual([
        data.length,
        sha256,
        path.join(work, 'inbox', 'photo.raw'),
      ]);
      expect(Buffer.compare(await readFile(path.join(work, 'inbox', 'photo.raw')), data)).toBe(0);

      // the same file again is answered with the completion (no second copy); another file
      // of the same name is refused: the receiver never replaces a file
      const same = start('send-file', [`--port=${port}`, `--file=${file}`]);
      expect(await same.waitForExit(RUN_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      const other = path.join(work, 'other.raw');
      await writeFile(other, randomBytes(1000));
      const again = start('send-file', [`--port=${port}`, `--file=${other}`, '--name=photo.raw']);
      const status = await again.waitForExit(RUN_TIMEOUT_MS);
      expect(status.code).not.toBe(0);
      expect(again.stderr.join('\n')).toMatch(/exists/);
      receiver.kill('SIGINT');
      expect(await receiver.waitForExit(RUN_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
    },
    TEST_TIMEOUT_MS,
  );
});

describe('topic-broker', () => {
  it(
    'delivers each publication to the subscribers whose wildcard patterns match it',
    async () => {
      const broker = start('topic-broker', ['--role=broker', '--port=0']);
      const port = await listening(broker);
      const one = start('topic-broker', [
        '--role=subscribe',
        `--port=${port}`,
        '--topics=sensors.*',
        '--count=1',
      ]);
      const all = start('topic-broker', [
        '--role=subscribe',
        `--port=${port}`,
        '--topics=sensors.>,alerts.fire',
        '--count=3',
      ]);
      await one.waitForLine(/^subscribed sensors\.\*$/, RUN_TIMEOUT_MS);
      await all.waitForLine(/^subscribed alerts\.fire$/, RUN_TIMEOUT_MS);

      const publish = async (topic: string, data: string, reached: number) => {
        const p = start('topic-broker', [
          '--role=publish',
          `--port=${port}`,
          `--topic=${topic}`,
          `--data=${data}`,
        ]);
        expect(await p.waitForExit(RUN_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
        expect(p.stdout).toContain(`published ${topic} to ${reached} subscribers`);
      };
      // four publishers at once: the receipts do not depend on their order
      await Promise.all([
        publish('sensors.kitchen', '{"c":21}', 2),
        publish('sensors.kitchen.fridge', '{"c":4}', 1),
        publish('weather.today', '"sunny"', 0),
        publish('alerts.fire', 'true', 1),
      ]);

      expect(await one.waitForExit(RUN_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      expect(one.stdout).toContain('sensors.kitchen {"c":21}');
      expect(await all.waitForExit(RUN_TIMEOUT_MS)).toEqual({ code: 0, signal: null });
      expect(all.stdout.filter((l) => /^(sensors|alerts|weather)\./.test(l)).sort()).toEqual([
        'alerts.fire true',
        'sensors.kitchen {"c":21}',
        'sensors.kitchen.fridge {"c":4}',
      ]);
    },
    TEST_TIMEOUT_MS,
  );
});
