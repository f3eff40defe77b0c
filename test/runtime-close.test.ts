/**
 * runtime.close({ timeoutMs }) as a real process: an actor that ignores Stop, nothing else
 * pending. close() resolves after its bound, the close hooks run, the process exits 0.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript } from '@herald/testing';

afterEach(killAll);

const fixture = fileURLToPath(new URL('./fixtures/close-ignoring-stop.ts', import.meta.url));

describe('runtime close', () => {
  it('close({ timeoutMs }) resolves and runs its hooks when an actor ignores Stop and nothing else is pending', async () => {
    const child = spawnScript(fixture);
    const status = await child.waitForExit(15_000);
    expect(child.stdout).toEqual(['hook ran', 'closed']);
    expect(status.code).toBe(0);
  });
});
