/**
 * The process runner `run()` end to end: fixture scripts (test/fixtures/runner-*.ts) run as
 * real child processes and are signalled, given command lines, and judged by stdout, stderr
 * and exit code. `parseCommandLine` and `renderValue` are also tested in process.
 *
 * Exit codes under test: 0 for a value, the fault's `exitCode` (else 1) for a fault, 2 for a
 * bad command line, 130 for a second signal.
 */
import { fileURLToPath } from 'node:url';
import { Address } from '@herald/codec';
import { EXIT_FAULTED, EXIT_FORCED, EXIT_USAGE, RuntimeError } from '@herald/runtime';
import { parseCommandLine, renderValue } from '@herald/runtime/internal';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript, type SpawnedChild } from '@herald/testing';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const WAIT_FOR_STOP = 'test/fixtures/runner-wait-for-stop.ts';
const OUTCOME = 'test/fixtures/runner-outcome.ts';

/** Bound for a child to start, print, or exit (tsx start-up included). */
const WAIT_MS = 20_000;

afterEach(killAll);

function start(script: string, args: readonly string[] = []): SpawnedChild {
  return spawnScript(script, args, { cwd: ROOT });
}

async function finish(child: SpawnedChild) {
  const status = await child.waitForExit(WAIT_MS);
  return { code: status.code, stdout: child.stdout.join('\n'), stderr: child.stderr };
}

function stdoutLines(text: string): string[] {
  return text === '' ? [] : text.split('\n');
}

describe.each(['SIGINT', 'SIGTERM'] as const)('run() - %s', (signal) => {
  it(`${signal} delivers Stop; a main actor that does not take it ends Aborted: stderr, exit 1`, async () => {
    const child = start(WAIT_FOR_STOP);
    await child.waitForLine(/^ready <00000001>$/, WAIT_MS);
    child.kill(signal);
    const result = await finish(child);
    expect(result.code).toBe(EXIT_FAULTED);
    expect(result.stdout).toBe('ready <00000001>');
    expect(result.stderr).toEqual(['herald.Aborted: HERALD_ABORTED: user or software interrupt']);
  });

  it(`${signal} delivers Stop; a main actor that takes it returns a value: stdout, exit 0`, async () => {
    const child = start(WAIT_FOR_STOP, ['--on-stop=return']);
    await child.waitForLine(/^ready /, WAIT_MS);
    child.kill(signal);
    const result = await finish(child);
    expect(result.code).toBe(0);
    expect(child.stdout).toEqual(['ready <00000001>', 'stopped cleanly']);
    expect(result.stderr).toEqual([]);
  });

  it(`a second ${signal} exits at once with 130 when the main actor carries on`, async () => {
    const child = start(WAIT_FOR_STOP, ['--on-stop=ignore']);
    await child.waitForLine(/^ready /, WAIT_MS);
    child.kill(signal);
    await child.waitForLine(/^got Stop, carrying on$/, WAIT_MS);
    child.kill(signal);
    const result = await finish(child);
    expect(result.code).toBe(EXIT_FORCED);
    const log = result.stderr.map((line) => JSON.parse(line) as { msg: string; signal: string });
    expect(log).toEqual([expect.objectContaining({ msg: 'second signal: exiting now', signal })]);
  });
});

describe('run() - signals with --debug-level', () => {
  it('logs the signal and the main actor being destroyed with its fault', async () => {
    const child = start(WAIT_FOR_STOP, ['--debug-level=DEBUG']);
    await child.waitForLine(/^ready /, WAIT_MS);
    child.kill('SIGINT');
    const result = await finish(child);
    expect(result.code).toBe(EXIT_FAULTED);
    const records = result.stderr
      .filter((line) => line.startsWith('{'))
      .map((line) => JSON.parse(line) as { msg: string; signal?: string; fault?: string });
    expect(records).toContainEqual(
      expect.objectContaining({ msg: 'stopping main actor', signal: 'SIGINT' }),
    );
    expect(records).toContainEqual(
      expect.objectContaining({ msg: 'destroyed', fault: 'HERALD_ABORTED' }),
    );
    expect(result.stderr.at(-1)).toBe('herald.Aborted: HERALD_ABORTED: user or software interrupt');
  });
});

describe('run() - outcomes', () => {
  it('prints an object as indented JSON on stdout and exits 0', async () => {
    const result = await finish(start(OUTCOME, ['--outcome=settings']));
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([]);
    expect(result.stdout).toBe(
      JSON.stringify(
        {
          settings: {
            outcome: 'settings',
            port: 32011,
            name: 'main',
            verbose: false,
            ratio: 0.5,
            maxItems: 3,
          },
          types: {
            port: 'number',
            name: 'string',
            verbose: 'boolean',
            ratio: 'number',
            maxItems: 'number',
          },
        },
        null,
        2,
      ),
    );
  });

  it('prints a string as it is', async () => {
    const result = await finish(start(OUTCOME, ['--outcome=string']));
    expect(result.code).toBe(0);
    expect(stdoutLines(result.stdout)).toEqual(['plain text']);
  });

  it('renders bigints as strings, addresses as <hex>, sets as arrays', async () => {
    const result = await finish(start(OUTCOME, ['--outcome=bigint']));
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      big: '12345678901234567890',
      me: '<00000001>',
      tags: ['a', 'b'],
    });
  });

  it('prints nothing for undefined and exits 0', async () => {
    const result = await finish(start(OUTCOME, ['--outcome=nothing']));
    expect(result).toEqual({ code: 0, stdout: '', stderr: [] });
  });

  it('exits with the exitCode of a returned Faulted and puts the fault on stderr', async () => {
    const result = await finish(start(OUTCOME, ['--outcome=faulted']));
    expect(result.code).toBe(7);
    expect(result.stdout).toBe('');
    expect(result.stderr).toEqual([
      'herald.Faulted: FIXTURE_FAILED: the fixture was asked to fail',
    ]);
  });

  it('exits 1 for a fault without an exitCode', async () => {
    const result = await finish(start(OUTCOME, ['--outcome=fault']));
    expect(result.code).toBe(EXIT_FAULTED);
    expect(result.stderr).toEqual(['herald.Faulted: FIXTURE_FAILED: no exit code given']);
  });

  it('turns a throw into a logged error and a HERALD_ACTOR_THREW fault, exit 1', async () => {
    const result = await finish(start(OUTCOME, ['--outcome=throw']));
    expect(result.code).toBe(EXIT_FAULTED);
    expect(result.stdout).toBe('');
    const [logLine, faultLine] = result.stderr;
    expect(JSON.parse(logLine ?? '')).toMatchObject({
      msg: 'actor threw',
      actor: '<00000001>',
      err: { message: 'boom' },
    });
    expect(faultLine).toBe('herald.Faulted: HERALD_ACTOR_THREW: boom');
  });
});

describe('run() - settings from the command line', () => {
  it('overrides reach the main actor typed by their defaults', async () => {
    const result = await finish(
      start(OUTCOME, ['--port=1234', '--name=x', '--verbose', '--ratio', '-0.25', '--max-items=5']),
    );
    expect(result.code).toBe(0);
    const value = JSON.parse(result.stdout) as { settings: object; types: object };
    expect(value.settings).toEqual({
      outcome: 'settings',
      port: 1234,
      name: 'x',
      verbose: true,
      ratio: -0.25,
      maxItems: 5,
    });
    expect(value.types).toEqual({
      port: 'number',
      name: 'string',
      verbose: 'boolean',
      ratio: 'number',
      maxItems: 'number',
    });
  });

  it('--dump-settings prints the resolved settings as JSON and does not run the actor', async () => {
    const result = await finish(
      start(OUTCOME, ['--port', '8080', '--verbose=true', '--dump-settings']),
    );
    expect(result.code).toBe(0);
    expect(result.stderr).toEqual([]);
    // Only the settings: the actor's own value (which has a `types` key) never printed.
    expect(JSON.parse(result.stdout)).toEqual({
      outcome: 'settings',
      port: 8080,
      name: 'main',
      verbose: true,
      ratio: 0.5,
      maxItems: 3,
    });
  });

  it('--help prints every setting in kebab case with its default and help, exit 0', async () => {
    const result = await finish(start(OUTCOME, ['--help']));
    expect(result.code).toBe(0);
    const lines = result.stdout.split('\n');
    expect(lines[0]).toBe(
      'usage: runner-outcome [--setting=value ...] [--debug-level=LEVEL] [--help] [--dump-settings]',
    );
    expect(lines).toContain(
      '  --outcome="settings"  settings | string | bigint | nothing | faulted | fault | throw',
    );
    for (const line of [
      '  --port=32011',
      '  --name="main"',
      '  --verbose=false',
      '  --max-items=3',
    ])
      expect(lines).toContain(line);
  });

  it.each([
    [['--port=abc'], 'runner-outcome: --port takes a number, not "abc"'],
    [['--verbose=maybe'], 'runner-outcome: --verbose takes true or false, not "maybe"'],
    [['--colour=red'], 'runner-outcome: unknown setting --colour'],
    [['stray'], 'runner-outcome: unexpected argument "stray"'],
    [['--name'], 'runner-outcome: --name needs a value'],
    [['--debug-level=LOUD'], /^runner-outcome: unknown log level "LOUD"/],
  ])('a bad command line %j exits 2 with the reason and usage on stderr', async (args, reason) => {
    const result = await finish(start(OUTCOME, args));
    expect(result.code).toBe(EXIT_USAGE);
    expect(result.stdout).toBe('');
    expect(result.stderr[0]).toMatch(reason);
    expect(result.stderr[1]).toMatch(/^usage: runner-outcome /);
  });
});

describe('parseCommandLine', () => {
  const defaults = { host: '127.0.0.1', port: 32011, verbose: false, maxRetries: 3 };

  it('returns the defaults for an empty command line, without mutating them', () => {
    const before = { ...defaults };
    const parsed = parseCommandLine([], defaults);
    expect(parsed).toEqual({ settings: defaults, debugLevel: undefined, help: false, dump: false });
    expect(parsed.settings).not.toBe(defaults);
    parsed.settings['port'] = 1;
    expect(defaults).toEqual(before);
  });

  it('converts values to the type of each default', () => {
    const { settings } = parseCommandLine(
      ['--host=10.0.0.1', '--port', '1234', '--verbose', '--max-retries=5'],
      defaults,
    );
    expect(settings).toEqual({ host: '10.0.0.1', port: 1234, verbose: true, maxRetries: 5 });
  });

  it('accepts camelCase names, single dashes and values containing "="', () => {
    const { settings } = parseCommandLine(['-maxRetries=7', '--host=a=b'], defaults);
    expect(settings.maxRetries).toBe(7);
    expect(settings.host).toBe('a=b');
  });

  it('takes explicit true and false for booleans', () => {
    expect(parseCommandLine(['--verbose=true'], defaults).settings.verbose).toBe(true);
    expect(parseCommandLine(['--verbose', '--verbose=false'], defaults).settings.verbose).toBe(
      false,
    );
  });

  it('parses numbers as JavaScript numbers, including negatives and exponents', () => {
    expect(parseCommandLine(['--port', '-1'], defaults).settings.port).toBe(-1);
    expect(parseCommandLine(['--port=1e3'], defaults).settings.port).toBe(1000);
    expect(parseCommandLine(['--port=0x10'], defaults).settings.port).toBe(16);
  });

  it('recognises --help, -h, --dump-settings, --debug-level and --dl', () => {
    expect(parseCommandLine(['--help'], defaults).help).toBe(true);
    expect(parseCommandLine(['-h'], defaults).help).toBe(true);
    expect(parseCommandLine(['--dump-settings'], defaults).dump).toBe(true);
    expect(parseCommandLine(['--debug-level=DEBUG'], defaults).debugLevel).toBe('DEBUG');
    expect(parseCommandLine(['--debug-level', 'trace'], defaults).debugLevel).toBe('trace');
    expect(parseCommandLine(['--dl=CONSOLE'], defaults).debugLevel).toBe('CONSOLE');
  });

  it.each([
    [['--nope=1'], 'HERALD_ERR_BAD_SETTING', 'unknown setting --nope'],
    [['--port=many'], 'HERALD_ERR_BAD_SETTING', '--port takes a number, not "many"'],
    [['--port='], 'HERALD_ERR_BAD_SETTING', '--port takes a number, not ""'],
    [['--port'], 'HERALD_ERR_BAD_SETTING', '--port needs a value'],
    [['--verbose=yes'], 'HERALD_ERR_BAD_SETTING', '--verbose takes true or false, not "yes"'],
    [['positional'], 'HERALD_ERR_BAD_SETTING', 'unexpected argument "positional"'],
    [['--debug-level'], 'HERALD_ERR_BAD_SETTING', '--debug-level needs a level'],
    [['--debug-level=LOUD'], 'HERALD_ERR_BAD_OPTION', 'unknown log level "LOUD"'],
  ])('rejects %j with a RuntimeError', (argv, code, message) => {
    let caught: unknown;
    try {
      parseCommandLine(argv, defaults);
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(RuntimeError);
    expect((caught as RuntimeError).code).toBe(code);
    expect((caught as RuntimeError).message).toContain(message);
  });
});

describe('renderValue', () => {
  it('prints nothing for undefined and strings as they are', () => {
    expect(renderValue(undefined)).toBeUndefined();
    expect(renderValue('')).toBe('');
    expect(renderValue('two\nlines')).toBe('two\nlines');
  });

  it('renders other values as JSON indented by two spaces', () => {
    expect(renderValue(42)).toBe('42');
    expect(renderValue(null)).toBe('null');
    expect(renderValue(false)).toBe('false');
    expect(renderValue({ a: [1, { b: 'c' }] })).toBe(
      '{\n  "a": [\n    1,\n    {\n      "b": "c"\n    }\n  ]\n}',
    );
  });

  it('renders bigints as decimal strings, at the top level and nested', () => {
    expect(renderValue(12345678901234567890n)).toBe('"12345678901234567890"');
    expect(JSON.parse(renderValue({ n: -5n }) ?? '')).toEqual({ n: '-5' });
  });

  it('renders local and remote addresses in their printed form', () => {
    expect(renderValue(new Address([10]))).toBe('"<0000000a>"');
    expect(JSON.parse(renderValue({ peer: new Address([0x13, 0x14]) }) ?? '')).toEqual({
      peer: '<00000013:00000014>',
    });
  });

  it('renders maps as objects, sets as arrays and bytes as base64', () => {
    const value = {
      map: new Map<unknown, unknown>([
        ['x', 1],
        [2, new Set([3n])],
      ]),
      set: new Set(['a']),
      bytes: new Uint8Array([1, 2, 3, 250]),
    };
    expect(JSON.parse(renderValue(value) ?? '')).toEqual({
      map: { x: 1, '2': ['3'] },
      set: ['a'],
      bytes: 'AQID+g==',
    });
  });
});
