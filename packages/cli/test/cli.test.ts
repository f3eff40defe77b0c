/**
 * The herald command run as real processes: every test starts `node --import tsx main.ts`
 * with a sub-command and reads what it prints, as a user at a shell would.
 */
import { killAll, spawnScript } from '@herald/testing';
import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { RUN_MS, finished, herald, listening, publicKeyOf } from './support.js';

afterEach(killAll);

/** Every sub-command: each must answer --help. */
const COMMANDS = [
  'keygen',
  'run',
  'listen',
  'ping',
  'send',
  'request',
  'chat',
  'bench',
  'status',
  'top',
  'send-file',
  'receive-file',
];

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'herald-cli-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('herald keygen', () => {
  it('creates a 0600 key file, prints its public key, and refuses to overwrite it', async () => {
    const path = join(dir, 'keygen.key');
    const first = await finished(herald('keygen', path));
    expect(first.code).toBe(0);
    expect(first.stdout).toEqual([await publicKeyOf(path)]);
    expect(first.stdout[0]).toMatch(/^herald-x25519:/);
    expect((await stat(path)).mode & 0o777).toBe(0o600);
    const before = await readFile(path, 'utf8');

    const second = await finished(herald('keygen', path));
    expect(second.code).toBe(1);
    expect(second.stderr).toMatch(/file exists/);
    expect(await readFile(path, 'utf8')).toBe(before);
  }, 30_000);
});

describe('herald ping', () => {
  it('prints the handshake time and min/p50/p99 against herald listen', async () => {
    const { server, target } = await listening();
    const ping = await finished(herald('ping', target, '--count=20'));
    expect(ping.code).toBe(0);
    expect(ping.stdout[0]).toMatch(/^handshake \d+ µs$/);
    expect(ping.stdout.slice(1)).toEqual([
      expect.stringMatching(/^min \d+ µs$/),
      expect.stringMatching(/^p50 \d+ µs$/),
      expect.stringMatching(/^p99 \d+ µs$/),
    ]);
    const [min, p50, p99] = ping.stdout.slice(1).map((l) => Number(/(\d+) µs/.exec(l)?.[1]));
    expect(min).toBeLessThanOrEqual(p50 as number);
    expect(p50).toBeLessThanOrEqual(p99 as number);
    server.kill('SIGTERM');
    expect((await server.waitForExit(RUN_MS)).code).toBe(0);
  }, 40_000);

  it('pings an example server that knows no cli.* message (protocol PING/PONG)', async () => {
    const root = fileURLToPath(new URL('../../..', import.meta.url));
    const example = spawnScript('examples/listen-at-address.ts', ['--port=0'], { cwd: root });
    const match = await example.waitForLine(/^listening on (127\.0\.0\.1:\d+)$/, RUN_MS);
    const ping = await finished(herald('ping', match[1] as string, '--count=10'));
    expect(ping.stderr).toBe('');
    expect(ping.code).toBe(0);
    expect(ping.stdout[0]).toMatch(/^handshake \d+ µs$/);
    expect(ping.stdout[2]).toMatch(/^p50 \d+ µs$/);
    expect(ping.stdout[3]).toMatch(/^p99 \d+ µs$/);
    // The example accepted one client and was sent no application message at all.
    example.kill('SIGINT');
    expect((await example.waitForExit(RUN_MS)).code).toBe(0);
    expect(JSON.parse(example.stdout.slice(1).join('\n'))).toEqual({ accepted: 1, welcomed: 0 });
  }, 60_000);

  it('takes flags as --name value too', async () => {
    const { target } = await listening();
    const ping = await finished(herald('ping', '--count', '3', target, '--timeout', '4000'));
    expect(ping.code).toBe(0);
    expect(ping.stdout.at(-1)).toMatch(/^p99 \d+ µs$/);
  }, 40_000);

  it('exits 1 with a clear message when nothing listens', async () => {
    // Listen, learn a free port, stop: nothing listens there now.
    const { server, target } = await listening();
    server.kill('SIGTERM');
    await server.waitForExit(RUN_MS);
    const ping = await finished(herald('ping', target));
    expect(ping.code).toBe(1);
    expect(ping.stderr).toMatch(/cannot connect to 127\.0\.0\.1:\d+: ECONNREFUSED/);
  }, 40_000);

  it('pins the server key: the right key connects, a wrong key exits 1', async () => {
    const serverKey = join(dir, 'server.key');
    const otherKey = join(dir, 'other.key');
    expect((await finished(herald('keygen', serverKey))).code).toBe(0);
    expect((await finished(herald('keygen', otherKey))).code).toBe(0);
    const { target } = await listening(`--identity=${serverKey}`);

    const good = await finished(
      herald('ping', target, '--count=3', `--peer-key=${await publicKeyOf(serverKey)}`),
    );
    expect(good.code).toBe(0);
    expect(good.stdout.at(-1)).toMatch(/^p99 \d+ µs$/);

    const bad = await finished(herald('ping', target, `--peer-key=${await publicKeyOf(otherKey)}`));
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(/peer-key-mismatch/);
  }, 60_000);
});

describe('herald listen --allow', () => {
  it('admits a client whose --identity is allowed and refuses another with exit 1', async () => {
    const serverKey = join(dir, 'allow-server.key');
    const clientKey = join(dir, 'allow-client.key');
    const strangerKey = join(dir, 'allow-stranger.key');
    for (const path of [serverKey, clientKey, strangerKey])
      expect((await finished(herald('keygen', path))).code).toBe(0);
    const { target } = await listening(
      `--identity=${serverKey}`,
      `--allow=${await publicKeyOf(clientKey)}`,
    );

    const allowed = await finished(herald('ping', target, '--count=2', `--identity=${clientKey}`));
    expect(allowed.code).toBe(0);
    const refused = await finished(herald('ping', target, `--identity=${strangerKey}`));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/not-authorized/);
  }, 60_000);
});

describe('herald send and request', () => {
  it('request prints the response of listen --reply, which prints the request', async () => {
    const { server, target } = await listening('--reply');
    const request = await finished(
      herald('request', target, '--type=cli.Request', '--json={"n":1,"s":"x"}'),
    );
    expect(request.code).toBe(0);
    expect(request.stdout).toEqual(['{"n":1,"s":"x"}']);
    const line = await server.waitForLine(/^\{.*\}$/, RUN_MS);
    expect(JSON.parse(line[0])).toMatchObject({
      type: 'cli.Request',
      fields: { body: { n: 1, s: 'x' } },
    });
  }, 40_000);

  it('send delivers a user type that listen --types prints', async () => {
    const { server, target } = await listening('--types=app.Greet');
    const send = await finished(herald('send', target, '--type=app.Greet', '--json=["hi",2]'));
    expect(send.code).toBe(0);
    const line = await server.waitForLine(/^\{.*\}$/, RUN_MS);
    const printed = JSON.parse(line[0]) as { type: string; fields: unknown; from: string };
    expect(printed.type).toBe('app.Greet');
    expect(printed.fields).toEqual({ body: ['hi', 2] });
    expect(typeof printed.from).toBe('string');
  }, 40_000);
});

describe('the command line', () => {
  it('herald --help lists every command and exits 0', async () => {
    const result = await finished(herald('--help'));
    expect(result.code).toBe(0);
    expect(result.stdout[0]).toMatch(/^usage: herald/);
    for (const command of COMMANDS)
      expect(result.stdout.some((line) => line.startsWith(`  ${command} `))).toBe(true);
  }, 30_000);

  it.each(COMMANDS.map((command) => [command]))(
    'herald %s --help exits 0 with its usage and exit codes',
    async (command) => {
      const result = await finished(herald(command, '--help'));
      expect(result.code).toBe(0);
      expect(result.stdout[0]).toMatch(new RegExp(`^usage: herald ${command}`));
      expect(result.stdout.join(' ')).toMatch(/Exit codes: 0 /);
    },
    30_000,
  );

  it('an unknown sub-command, a bad flag or a bad host:port exits 2', async () => {
    const unknown = await finished(herald('frobnicate'));
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/unknown command "frobnicate"/);
    expect((await finished(herald('ping', '127.0.0.1:1', '--no-such-flag=1'))).code).toBe(2);
    expect((await finished(herald('ping', 'nowhere'))).code).toBe(2);
    const reserved = await finished(herald('send', '127.0.0.1:1', '--type=herald.Stop'));
    expect(reserved.code).toBe(2);
    expect(reserved.stderr).toMatch(/herald\.\* types are Herald's own/);
    const zero = await finished(herald('ping', '127.0.0.1:1', '--count=0'));
    expect(zero.code).toBe(2);
    expect(zero.stderr).toMatch(/--count must be a positive integer/);
    const badJson = await finished(herald('send', '127.0.0.1:1', '--type=a.B', '--json={'));
    expect(badJson.code).toBe(2);
    expect(badJson.stderr).toMatch(/--json:/);
  }, 40_000);
});
