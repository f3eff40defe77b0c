/**
 * The child-process helpers with a real tsx child (fixtures/echo-child.ts).
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript } from '../src/index.js';

const ECHO_CHILD = fileURLToPath(new URL('./fixtures/echo-child.ts', import.meta.url));

describe('child', () => {
  afterEach(killAll);

  it('child - waits for lines, echoes stdin and exits 0 on SIGTERM', async () => {
    const child = spawnScript(ECHO_CHILD);
    await child.waitForLine(/^ready$/);
    child.writeLine('one');
    child.writeLine('two');
    await child.waitForLine(/^one$/);
    const match = await child.waitForLine(/^t(\w+)$/);
    expect(match[1]).toBe('wo');
    child.kill('SIGTERM');
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
    expect(child.stdout).toEqual(['ready', 'args []', 'one', 'two', 'bye']);
    await expect(child.exited).resolves.toEqual({ code: 0, signal: null });
  });

  it('child - passes arguments and environment', async () => {
    const child = spawnScript(ECHO_CHILD, ['--name', 'a b'], { env: { ECHO_PREFIX: '> ' } });
    const args = await child.waitForLine(/^args (.*)$/);
    expect(JSON.parse(args[1]!)).toEqual(['--name', 'a b']);
    child.writeLine('hi');
    await child.waitForLine(/^> hi$/);
    child.endInput();
    expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
  });

  it('child - successive waits walk forward instead of matching the same line twice', async () => {
    const child = spawnScript(ECHO_CHILD);
    child.writeLine('same');
    child.writeLine('same');
    await child.waitForLine(/^same$/);
    await child.waitForLine(/^same$/);
    child.writeLine('exit 0');
    await expect(child.waitForLine(/^same$/)).rejects.toThrow(/exited first/);
  });

  it('child - a timed-out wait quotes the recent stderr', async () => {
    const child = spawnScript(ECHO_CHILD);
    await child.waitForLine(/^ready$/);
    child.writeLine('stderr boom-4711');
    await child.waitForLine(/boom-4711/, undefined, { stream: 'stderr' });
    await expect(child.waitForLine(/^never$/, 100)).rejects.toThrow(
      /timed out after 100 ms[\s\S]*recent stderr:\n {2}\| boom-4711/,
    );
  });

  it('child - a wait fails as soon as the child exits without the line', async () => {
    const child = spawnScript(ECHO_CHILD);
    await child.waitForLine(/^ready$/);
    child.writeLine('stderr about to fail');
    child.writeLine('exit 3');
    const failure = child.waitForLine(/^never$/, 60_000);
    await expect(failure).rejects.toThrow(/exited first[\s\S]*code 3[\s\S]*about to fail/);
    expect(child.exitStatus).toEqual({ code: 3, signal: null });
  });

  it('child - killAll SIGKILLs every child still running', async () => {
    const children = [spawnScript(ECHO_CHILD), spawnScript(ECHO_CHILD)];
    await Promise.all(children.map((child) => child.waitForLine(/^ready$/)));
    await killAll();
    for (const child of children) {
      expect(child.exitStatus).toEqual({ code: null, signal: 'SIGKILL' });
    }
  });
});
