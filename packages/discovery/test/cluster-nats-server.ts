/**
 * A real nats-server as a child process, for the cluster tests: on a loopback port chosen by
 * the server itself (`-p -1`, whose real port it prints on its "Listening for client
 * connections" line), JetStream on with its store in a temporary directory, and waited for
 * by its "Server is ready" line (never by a sleep). `restart()` kills it and starts it again
 * on the same port (with the same store, or a fresh one), which is what a NATS server
 * restart looks like to its clients.
 *
 * CI installs nats-server (the Debian package, /usr/sbin/nats-server); elsewhere a
 * `nats-server` on PATH is used, and the tests that need one are skipped without it (except
 * under CI, where they fail: see natsTestsRun).
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Bound on starting or stopping the server. */
export const NATS_START_TIMEOUT_MS = 15_000;

const CANDIDATES = ['/usr/sbin/nats-server', '/usr/bin/nats-server', '/usr/local/bin/nats-server'];

/** The nats-server binary, or undefined when none is installed. */
export function natsServerBinary(): string | undefined {
  for (const path of CANDIDATES) if (existsSync(path)) return path;
  const found = spawnSync('nats-server', ['--version'], { encoding: 'utf8' });
  return found.status === 0 ? 'nats-server' : undefined;
}

/**
 * Whether the tests that need a nats-server run: when one is installed, and always under CI
 * (where a missing server must fail the tests, not skip them silently).
 */
export function natsTestsRun(env: NodeJS.ProcessEnv = process.env): boolean {
  const ci = env['CI'] !== undefined && env['CI'] !== '' && env['CI'] !== 'false';
  return ci || natsServerBinary() !== undefined;
}

export interface NatsServer {
  /** `nats://127.0.0.1:<port>`. */
  readonly url: string;
  readonly port: number;
  /** Kills the server (SIGKILL: no goodbye to its clients) and waits for it to exit. */
  kill(): Promise<void>;
  /** Starts it again on the same port; `freshStore` starts with an empty JetStream store. */
  start(options?: { readonly freshStore?: boolean }): Promise<void>;
  /** kill() then start(). */
  restart(options?: { readonly freshStore?: boolean }): Promise<void>;
  /** Kills it and removes its store. */
  stop(): Promise<void>;
}

/** Starts nats-server with JetStream on 127.0.0.1, on a port of its own choosing. */
export async function startNatsServer(): Promise<NatsServer> {
  const binary = natsServerBinary();
  if (binary === undefined) throw new Error('nats-server is not installed');
  const root = mkdtempSync(join(tmpdir(), 'herald-nats-'));
  let storeGeneration = 0;
  let child: ChildProcess | undefined;
  let port = -1;

  const launch = (): Promise<number> => {
    const store = join(root, `store-${storeGeneration}`);
    const proc = spawn(binary, ['-a', '127.0.0.1', '-p', String(port), '-js', '-sd', store], {
      stdio: ['ignore', 'ignore', 'pipe'],
    });
    child = proc;
    return new Promise<number>((resolve, reject) => {
      let log = '';
      let listening = -1;
      const timer = setTimeout(() => {
        proc.kill('SIGKILL');
        reject(
          new Error(`nats-server did not become ready in ${NATS_START_TIMEOUT_MS} ms:\n${log}`),
        );
      }, NATS_START_TIMEOUT_MS);
      const onData = (data: Buffer): void => {
        log += data.toString('utf8');
        const match = /Listening for client connections on [^\s]+:(\d+)/.exec(log);
        if (match !== null) listening = Number(match[1]);
        if (log.includes('Server is ready') && listening > 0) {
          clearTimeout(timer);
          proc.stderr?.removeListener('data', onData);
          proc.stderr?.resume();
          resolve(listening);
        }
      };
      proc.stderr?.on('data', onData);
      proc.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`nats-server exited (${code ?? signal}) before it was ready:\n${log}`));
      });
    });
  };

  const kill = async (): Promise<void> => {
    const proc = child;
    child = undefined;
    if (proc === undefined || proc.exitCode !== null || proc.signalCode !== null) return;
    const exited = new Promise<void>((resolve) => proc.once('exit', () => resolve()));
    proc.kill('SIGKILL');
    await exited;
  };

  const start = async (options: { readonly freshStore?: boolean } = {}): Promise<void> => {
    if (options.freshStore === true) storeGeneration++;
    await launch();
  };

  port = await launch();
  return {
    url: `nats://127.0.0.1:${port}`,
    port,
    kill,
    start,
    restart: async (options) => {
      await kill();
      await start(options);
    },
    stop: async () => {
      await kill();
      rmSync(root, { recursive: true, force: true });
    },
  };
}
