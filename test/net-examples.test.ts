/**
 * The listening-and-connecting examples, run as a user runs them: every server and every
 * client in its own real process (`node --import tsx examples/<name>.ts`), talking over
 * real sockets on 127.0.0.1. Servers start with `--port=0` and announce the real port.
 * Checks that every client works with every server (plain, and encrypted on the diagonal),
 * that Ctrl-C ends a server with its summary, that mismatched encryption and a missing
 * server fail clearly without harming the server, that a silent server makes a client time
 * out, and that DEBUG logs show the SocketProxy's life. Every wait is bounded by child.ts.
 */
import { listen, Listening, NotListening } from '@herald/net';
import { createRuntime, Stop, type Runtime, type Self } from '@herald/runtime';
import { mkdtempSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Hello, helloWelcome } from '../examples/hello-welcome.js';
import { killAll, spawnScript, type SpawnedChild } from '@herald/testing';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Bound for one process to start, do its work and exit (tsx start-up included). */
const RUN_TIMEOUT_MS = 20_000;

const SERVERS = ['listen-at-address', 'listen-sessions-at-address', 'listen-fsm-at-address'];
const CLIENTS = ['connect-to-address', 'connect-session-to-address', 'connect-fsm-to-address'];

/** What each server prints on Ctrl-C after one client said Hello. */
const ONE_CLIENT_SUMMARY: Record<string, object> = {
  'listen-at-address': { accepted: 1, welcomed: 1 },
  'listen-sessions-at-address': { accepted: 1 },
  'listen-fsm-at-address': { accepted: 1, welcomed: 1 },
};

let runtime: Runtime | undefined;

afterEach(async () => {
  await killAll();
  await runtime?.close();
  runtime = undefined;
});

function start(name: string, args: readonly string[]): SpawnedChild {
  return spawnScript(`examples/${name}.ts`, args, { cwd: ROOT });
}

interface Server {
  readonly child: SpawnedChild;
  readonly port: number;
}

/** Starts a server on a free port and waits for its `listening on <host>:<port>` line. */
async function startServer(name: string, args: readonly string[] = []): Promise<Server> {
  const child = start(name, ['--port=0', ...args]);
  const match = await child.waitForLine(/^listening on 127\.0\.0\.1:(\d+)$/, RUN_TIMEOUT_MS);
  const port = Number(match[1]);
  expect(port).toBeGreaterThan(0);
  return { child, port };
}

interface Outcome {
  readonly code: number | null;
  readonly stdout: string;
  readonly stderr: readonly string[];
}

async function runClient(name: string, port: number, args: readonly string[] = []) {
  const child = start(name, [`--port=${port}`, ...args]);
  const status = await child.waitForExit(RUN_TIMEOUT_MS);
  return { code: status.code, stdout: child.stdout.join('\n'), stderr: child.stderr } as Outcome;
}

/** Ctrl-C: the server must end by itself, exit 0 and print its summary after the listening line. */
async function interrupt(server: Server): Promise<unknown> {
  server.child.kill('SIGINT');
  const status = await server.child.waitForExit(RUN_TIMEOUT_MS);
  expect(status).toEqual({ code: 0, signal: null });
  const [first, ...rest] = server.child.stdout;
  expect(first).toBe(`listening on 127.0.0.1:${server.port}`);
  return JSON.parse(rest.join('\n'));
}

/** The `msg`, `name` and `type` of every JSON log line; fails on a line that is not JSON. */
function logRecords(stderr: readonly string[]) {
  return stderr.map((line) => JSON.parse(line) as { msg: string; name?: string; type?: string });
}

const PAIRS = SERVERS.flatMap((server) => CLIENTS.map((client) => ({ server, client })));
const DIAGONAL = SERVERS.map((server, i) => ({ server, client: CLIENTS[i] as string }));

describe('listening and connecting examples', () => {
  describe.each([
    ...PAIRS.map((pair) => ({ ...pair, encrypted: false })),
    ...DIAGONAL.map((pair) => ({ ...pair, encrypted: true })),
  ])('$client to $server (encrypted: $encrypted)', ({ server, client, encrypted }) => {
    it('gets Welcome, exits 0, and the server stops on Ctrl-C with its summary', async () => {
      const flags = encrypted ? ['--encrypted'] : [];
      const listening = await startServer(server, [...flags, '--name=Server']);
      const result = await runClient(client, listening.port, [...flags, '--name=Client']);
      expect(result.stderr).toEqual([]);
      expect(result.code).toBe(0);
      expect(JSON.parse(result.stdout)).toEqual({
        type: 'Welcome',
        yourName: 'Client',
        myName: 'Server',
      });
      expect(await interrupt(listening)).toEqual(ONE_CLIENT_SUMMARY[server]);
      expect(listening.child.stderr).toEqual([]);
    });
  });

  it('an encrypted client fails against a plain server with NotConnected (encryption-required); the server keeps serving', async () => {
    const server = await startServer('listen-at-address');
    for (const client of CLIENTS) {
      const failed = await runClient(client, server.port, ['--encrypted']);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toBe('');
      expect(failed.stderr.at(-1)).toBe(
        `herald.NotConnected: HERALD_NOT_CONNECTED: cannot connect to 127.0.0.1:${server.port}: encryption-required`,
      );
    }
    const plain = await runClient('connect-to-address', server.port);
    expect(plain.code).toBe(0);
    expect(JSON.parse(plain.stdout)).toMatchObject({ type: 'Welcome', myName: 'Buster' });
    // The three refused connections were never accepted.
    expect(await interrupt(server)).toEqual({ accepted: 1, welcomed: 1 });
    // The server logs each refusal as a warning naming the reason.
    const refusals = logRecords(server.child.stderr).filter((r) =>
      r.msg.startsWith('rejected connection'),
    );
    expect(refusals).toHaveLength(3);
  });

  it('a plain client fails against an encrypted server with NotConnected (encryption-refused)', async () => {
    const server = await startServer('listen-sessions-at-address', ['--encrypted']);
    const failed = await runClient('connect-session-to-address', server.port);
    expect(failed.code).toBe(1);
    expect(failed.stderr.at(-1)).toBe(
      `herald.NotConnected: HERALD_NOT_CONNECTED: cannot connect to 127.0.0.1:${server.port}: encryption-refused`,
    );
    const encrypted = await runClient('connect-session-to-address', server.port, ['--encrypted']);
    expect(encrypted.code).toBe(0);
    expect(await interrupt(server)).toEqual({ accepted: 1 });
  });

  it('every client exits non-zero with NotConnected (ECONNREFUSED) when nothing listens', async () => {
    // A port that was just free: a server takes it, then gives it back on Ctrl-C.
    const server = await startServer('listen-at-address');
    expect(await interrupt(server)).toEqual({ accepted: 0, welcomed: 0 });
    for (const client of CLIENTS) {
      const failed = await runClient(client, server.port);
      expect(failed.code).toBe(1);
      expect(failed.stdout).toBe('');
      expect(failed.stderr.at(-1)).toBe(
        `herald.NotConnected: HERALD_NOT_CONNECTED: cannot connect to 127.0.0.1:${server.port}: ECONNREFUSED`,
      );
    }
  });

  it('every server exits non-zero with NotListening when its port is taken', async () => {
    const server = await startServer('listen-at-address');
    for (const name of SERVERS) {
      const child = start(name, [`--port=${server.port}`]);
      const status = await child.waitForExit(RUN_TIMEOUT_MS);
      expect(status.code).toBe(1);
      expect(child.stdout).toEqual([]);
      expect(child.stderr.at(-1)).toMatch(
        /^herald\.NotListening: HERALD_NOT_LISTENING: cannot listen at 127\.0\.0\.1:\d+: .*EADDRINUSE/,
      );
    }
    expect(await interrupt(server)).toEqual({ accepted: 0, welcomed: 0 });
  });

  it('every client times out with TimedOut when the server never answers Hello', async () => {
    // A server in this process that takes Hello and says nothing.
    const silent = createRuntime({
      name: 'silent-server',
      logLevel: 'silent',
      messages: helloWelcome,
    });
    runtime = silent;
    const heard: string[] = [];
    let announce!: (port: number) => void;
    const port = new Promise<number>((resolve) => (announce = resolve));
    silent.spawn(async (self: Self) => {
      listen(self, { port: 0 });
      const result = await self.receive(Listening, NotListening);
      if (NotListening.is(result)) throw new Error(result.explanation);
      announce(result.listening.port);
      for (;;) {
        const message = await self.receive(Hello, Stop);
        if (Stop.is(message)) return;
        heard.push(message.myName);
      }
    });
    for (const client of CLIENTS) {
      const result = await runClient(client, await port, [`--name=${client}`, '--timeout=200']);
      expect(result.code).toBe(1);
      expect(result.stdout).toBe('');
      expect(result.stderr.at(-1)).toMatch(/^herald\.TimedOut: HERALD_TIMED_OUT: /);
    }
    expect(heard).toEqual(CLIENTS);
  });

  it.each(CLIENTS)(
    '%s --debug-level=DEBUG shows the SocketProxy created, receiving, sending and destroyed',
    async (client) => {
      const server = await startServer('listen-at-address');
      const result = await runClient(client, server.port, ['--debug-level=DEBUG']);
      expect(result.code).toBe(0);
      const proxy = logRecords(result.stderr).filter((r) => r.name === 'SocketProxy');
      const messages = proxy.map((r) => r.msg);
      for (const msg of ['created', 'received', 'sent', 'destroyed'])
        expect(messages).toContain(msg);
      // It receives the Hello to send on, and hands Connected to the controller.
      expect(proxy).toContainEqual(expect.objectContaining({ msg: 'received', type: 'Hello' }));
      expect(proxy).toContainEqual(
        expect.objectContaining({ msg: 'sent', type: 'herald.Connected' }),
      );
      expect(messages.indexOf('created')).toBeLessThan(messages.indexOf('connected'));
      expect(messages.at(-1)).toBe('destroyed');
      await interrupt(server);
    },
  );
});

describe('examples - authenticated with one flag', () => {
  for (const [server, client] of [
    ['listen-at-address', 'connect-to-address'],
    ['listen-sessions-at-address', 'connect-session-to-address'],
  ] as const) {
    it(`${server} --identity and ${client} --peer-key: the Welcome arrives; a wrong key is refused`, async () => {
      const dir = mkdtempSync(join(tmpdir(), 'herald-identity-'));
      const child = start(server, ['--port=0', `--identity=${join(dir, 'server.key')}`]);
      const key = (await child.waitForLine(/^identity (herald-x25519:\S+)$/, RUN_TIMEOUT_MS))[1];
      const match = await child.waitForLine(/^listening on 127\.0\.0\.1:(\d+)$/, RUN_TIMEOUT_MS);
      const port = Number(match[1]);
      const ok = await runClient(client, port, [`--peer-key=${key}`]);
      expect(ok.code).toBe(0);
      expect(JSON.parse(ok.stdout)).toMatchObject({ type: 'Welcome', myName: 'Buster' });
      const wrong = `herald-x25519:${'A'.repeat(43)}`;
      const refused = await runClient(client, port, [`--peer-key=${wrong}`]);
      expect(refused.code).not.toBe(0);
      expect(refused.stderr.join('\n')).toMatch(/peer-key-mismatch/);
      // The key file is private to its owner.
      expect(statSync(join(dir, 'server.key')).mode & 0o077).toBe(0);
      // The server still serves.
      expect((await runClient(client, port, [`--peer-key=${key}`])).code).toBe(0);
    });
  }
});
