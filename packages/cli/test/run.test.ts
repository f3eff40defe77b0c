/**
 * `herald run <module>` as a real process against the modules in fixtures/.
 */
import { killAll } from '@herald/testing';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { RUN_MS, finished, herald } from './support.js';

afterEach(killAll);

const fixture = (name: string) => fileURLToPath(new URL(`./fixtures/${name}.ts`, import.meta.url));

describe('herald run', () => {
  it('runs the default export with typed settings from flags and prints its value', async () => {
    const result = await finished(
      herald('run', fixture('greeter'), '--greeting', 'hi', '--times=2'),
    );
    expect(result.code).toBe(0);
    expect(result.stdout[0]).toBe('ready');
    expect(JSON.parse(result.stdout.slice(1).join('\n'))).toEqual({
      said: ['hi', 'hi'],
      stopped: false,
    });
  }, 30_000);

  it('sends Stop on Ctrl-C and prints what the main actor returns then', async () => {
    const child = herald('run', fixture('greeter'), '--wait');
    await child.waitForLine(/^ready$/, RUN_MS);
    child.kill('SIGINT');
    const result = await finished(child);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.slice(1).join('\n'))).toMatchObject({ stopped: true });
  }, 30_000);

  it('runs a handler object as the main actor; Ctrl-C reaches its onStop', async () => {
    const child = herald('run', fixture('handler'));
    await child.waitForLine(/^ready$/, RUN_MS);
    child.kill('SIGINT');
    const result = await finished(child);
    expect(result.code).toBe(0);
    expect(result.stdout).toEqual(['ready', 'handler stopped']);
  }, 30_000);

  it('takes every flag as a setting for a module without a settings export (named main)', async () => {
    const result = await finished(
      herald('run', fixture('loose'), '--port', '8080', '--host=a.example', '--verbose'),
    );
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout.join('\n'))).toEqual({
      port: 8080,
      host: 'a.example',
      verbose: true,
    });
  }, 30_000);

  it('--debug-level shows the actor log on stderr; --help lists the module settings', async () => {
    const debug = await finished(herald('run', fixture('greeter'), '--debug-level', 'DEBUG'));
    expect(debug.code).toBe(0);
    expect(debug.stderr).toMatch(/greeter starting/);
    const help = await finished(herald('run', fixture('greeter'), '--help'));
    expect(help.code).toBe(0);
    expect(help.stdout.join('\n')).toMatch(/--greeting="hello" {2}what to say/);
  }, 30_000);

  it('exits 1 on a fault or a missing module, 2 on a bad flag or a module with no behaviour', async () => {
    const faulty = await finished(herald('run', fixture('faulty')));
    expect(faulty.code).toBe(1);
    expect(faulty.stderr).toMatch(/the fixture fails on purpose/);
    const missing = await finished(herald('run', fixture('no-such-module')));
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/module not found/);
    const badFlag = await finished(herald('run', fixture('greeter'), '--colour=red'));
    expect(badFlag.code).toBe(2);
    expect(badFlag.stderr).toMatch(/unknown setting --colour/);
    const none = await finished(herald('run', fixture('no-behavior')));
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/exports no behaviour/);
    expect((await finished(herald('run'))).code).toBe(2);
  }, 60_000);
});
