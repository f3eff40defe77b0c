/**
 * The examples, run as a user runs them: `node --import tsx examples/<name>.ts [flags]` in
 * a real child process from the repository root. Checks what they print, their exit codes,
 * their debug logs, --help and a bad flag. Every wait is bounded by child.ts.
 */
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { killAll, spawnScript, type SpawnedChild } from '@herald/testing';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bound for one example run, tsx start-up included. */
const RUN_TIMEOUT_MS = 20_000;

afterEach(killAll);

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: readonly string[];
}

async function runExample(name: string, args: readonly string[] = []): Promise<Outcome> {
  const child: SpawnedChild = spawnScript(`examples/${name}.ts`, args, { cwd: ROOT });
  const status = await child.waitForExit(RUN_TIMEOUT_MS);
  return { code: status.code, stdout: child.stdout.join('\n'), stderr: child.stderr };
}

/** The `msg` of every JSON log line on stderr; fails on a stderr line that is not JSON. */
function logMessages(stderr: readonly string[]): { msg: string; actor?: string }[] {
  return stderr.map((line) => {
    const record = JSON.parse(line) as { msg: string; actor?: string };
    expect(typeof record.msg).toBe('string');
    return record;
  });
}

const EXAMPLES = [
  { name: 'ping-pong', settings: ['--count=10'] },
  { name: 'ping-pong-machine', settings: ['--count=10', '--label="ponger"'] },
  {
    name: 'timers',
    settings: [
      '--interval=20',
      '--ticks=5',
      '--quiet=100',
      '--ask-timeout=100',
      '--slow-delay=300',
    ],
  },
  { name: 'demo', settings: ['--rounds=3', '--phase=40', '--tick=25'] },
] as const;

describe('examples/ping-pong.ts', () => {
  it('plays ten rounds by default and prints the summary as JSON', async () => {
    const result = await runExample('ping-pong');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ rounds: 10, ponger: { served: 10 } });
    expect(result.stderr).toEqual([]);
  });

  it('plays the number of rounds given by --count', async () => {
    const result = await runExample('ping-pong', ['--count=3']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({ rounds: 3, ponger: { served: 3 } });
  });
});

describe('examples/ping-pong-machine.ts', () => {
  it("prints the machine's final output as the ponger's completion value", async () => {
    const result = await runExample('ping-pong-machine');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      rounds: 10,
      machine: { label: 'ponger', served: 10, lastPing: 10 },
    });
    expect(result.stderr).toEqual([]);
  });

  it('passes settings through to the machine input', async () => {
    const result = await runExample('ping-pong-machine', ['--count=4', '--label=east']);
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      rounds: 4,
      machine: { label: 'east', served: 4, lastPing: 4 },
    });
  });

  it('logs the machine state with each message it receives at DEBUG', async () => {
    const result = await runExample('ping-pong-machine', ['--count=1', '--debug-level=DEBUG']);
    expect(result.code).toBe(0);
    const received = result.stderr
      .map((line) => JSON.parse(line) as { msg: string; name?: string; state?: string })
      .filter((r) => r.msg === 'received' && r.name === 'ponger');
    expect(received.map((r) => r.state)).toEqual(['serving', 'serving']);
  });
});

describe('examples/timers.ts', () => {
  it('counts ticks, cancels, times out a receive and an ask', async () => {
    const result = await runExample('timers');
    expect(result.code).toBe(0);
    expect(JSON.parse(result.stdout)).toEqual({
      ticks: 5,
      afterCancel: 'TimedOut after 100 ms',
      deadline: 'lunch',
      quickAsk: 'you asked "quick?"',
      slowAsk: 'TimedOut (no answer within 100 ms)',
    });
    expect(result.stderr).toEqual([]);
  });

  it('answers the slow ask when its timeout is longer than the delay', async () => {
    const result = await runExample('timers', [
      '--ticks=2',
      '--interval=5',
      '--slow-delay=20',
      '--ask-timeout=2000',
    ]);
    expect(result.code).toBe(0);
    const summary = JSON.parse(result.stdout) as { ticks: number; slowAsk: string };
    expect(summary.ticks).toBe(2);
    expect(summary.slowAsk).toBe('you asked "slow?"');
  });
});

describe('examples/demo.ts', () => {
  it('runs every section and finishes by itself', async () => {
    const result = await runExample('demo');
    expect(result.code).toBe(0);
    const out = result.stdout;
    expect(out).toMatch(/^Herald demo: main actor <00000001>$/m);
    for (const title of [
      '1. spawn: function, handler and machine actors',
      '2. ping-pong: send, receive, reply',
      '3. machine: xstate with delays on the runtime clock',
      '4. timer: repeating ticks and cancelTimer',
      '5. dead letter: nothing vanishes',
      '6. network: the same send() across a TCP connection',
    ]) {
      expect(out).toContain(`\n${title}\n`);
    }
    expect(out).toMatch(/function actor <[0-9a-f]{8}> replied "hello, Herald"/);
    expect(out).toContain('and completed with 3 when stopped');
    expect(out).toContain('and reached its final state with output "echoed xstate"');
    expect(out).toContain('ponger served 3 pings and ended on Stop');
    expect(out).toMatch(/it went green -> amber -> red in about \d+ ms and finished/);
    expect(out).toContain('cancelled; listening 75 ms more gave herald.TimedOut');
    expect(out).toMatch(
      /send\(\) returned false; onDeadLetter saw: Greet to <[0-9a-f]{8}> \(no-such-actor\)/,
    );
    expect(out).toMatch(/server runtime listening on 127\.0\.0\.1:\d+ \(encrypted/);
    expect(out).toContain('"hello, Herald, from an encrypted session" from <');
    expect(out).toContain('closed with value "thanks" (closed-by-request)');
    expect(out.trimEnd().split('\n').at(-1)).toBe('demo finished: 6 sections, 1 dead letter(s)');
    // The expected dead letter is narrated on stdout, not logged: the demo's level is 'error'.
    expect(result.stderr).toEqual([]);
  });

  it('shows the dead letter as a warning when the log level allows it', async () => {
    const result = await runExample('demo', ['--debug-level=WARNING']);
    expect(result.code).toBe(0);
    const warnings = logMessages(result.stderr).filter((r) => r.msg === 'dead letter');
    expect(warnings).toHaveLength(1);
  });
});

describe.each(EXAMPLES)('examples/$name flags', ({ name, settings }) => {
  it('--debug-level=DEBUG logs created, received, sent and destroyed as JSON on stderr', async () => {
    const result = await runExample(name, ['--debug-level=DEBUG']);
    expect(result.code).toBe(0);
    expect(result.stdout.length).toBeGreaterThan(0);
    const records = logMessages(result.stderr);
    const messages = new Set(records.map((r) => r.msg));
    for (const msg of ['created', 'received', 'sent', 'destroyed']) expect(messages).toContain(msg);
    // Every lifecycle line names its actor by address.
    for (const r of records.filter((x) => x.msg === 'created' || x.msg === 'destroyed')) {
      expect(r.actor).toMatch(/^<[0-9a-f]{8}>$/);
    }
    // The main actor is the first one created, and every actor created is destroyed.
    expect(records.find((r) => r.msg === 'created')?.actor).toBe('<00000001>');
    const created = records.filter((r) => r.msg === 'created').map((r) => r.actor);
    const destroyed = records.filter((r) => r.msg === 'destroyed').map((r) => r.actor);
    expect(new Set(destroyed)).toEqual(new Set(created));
  });

  it('--help exits 0 and lists every setting with its default', async () => {
    const result = await runExample(name, ['--help']);
    expect(result.code).toBe(0);
    expect(result.stdout).toMatch(new RegExp(`^usage: ${name} `));
    for (const setting of settings) expect(result.stdout).toContain(`  ${setting}`);
    expect(result.stdout).toContain('--debug-level=LEVEL');
  });

  it('a bad flag exits 2 with the reason and the usage on stderr', async () => {
    const result = await runExample(name, ['--no-such-setting=1']);
    expect(result.code).toBe(2);
    expect(result.stdout).toBe('');
    expect(result.stderr[0]).toBe(`${name}: unknown setting --no-such-setting`);
    expect(result.stderr.join('\n')).toMatch(/^usage: /m);
  });
});
