/**
 * A LAN of three "hosts" on one machine: a LAN directory, three host directories (one per
 * "host", each on its own loopback port, each connected up to the LAN directory), a
 * publisher under host 1 and a subscriber under each of hosts 2 and 3. Every piece is its
 * own process, as on real machines; they share nothing but the LAN directory's address.
 *
 *   node --import tsx examples/lan-three-hosts.ts
 *
 * Prints each process's first line as it starts, then each subscriber's Welcome from the
 * publisher under the other host, and exits 0 (1 if something did not come up within
 * --timeout ms). On real machines the same commands run with `--scope=lan`, the LAN
 * directory on `--host=0.0.0.0`, and each host directory's `--upstream` pointing at it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { fileURLToPath, pathToFileURL } from 'node:url';

const TIMEOUT_MS = Number(/--timeout=(\d+)/u.exec(process.argv.join(' '))?.[1] ?? 30_000);
const ROOT = fileURLToPath(new URL('..', import.meta.url));
const TSX = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;
const DIRECTORY = 'packages/discovery/src/main.ts';

const children: ChildProcess[] = [];

/** Starts `node --import tsx <script> ...args` and resolves with its first line matching `ready`. */
function start(
  label: string,
  script: string,
  args: string[],
  ready: RegExp,
): Promise<RegExpExecArray> {
  const child = spawn(process.execPath, ['--import', TSX, script, ...args], {
    cwd: ROOT,
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  children.push(child);
  return new Promise((resolve, reject) => {
    const timer = setTimeout(
      () => reject(new Error(`${label}: nothing matching ${ready} in ${TIMEOUT_MS} ms`)),
      TIMEOUT_MS,
    );
    const lines: string[] = [];
    createInterface({ input: child.stdout! }).on('line', (line) => {
      lines.push(line);
      const match = ready.exec(line);
      if (match !== null) {
        clearTimeout(timer);
        process.stdout.write(`${label.padEnd(14)}${line}\n`);
        resolve(match);
      }
    });
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) reject(new Error(`${label} exited with ${code}: ${lines.join(' | ')}`));
      else if (lines.length > 1)
        process.stdout.write(`${label.padEnd(14)}${lines.slice(1).join(' ')}\n`);
    });
  });
}

/** Resolves with the child's exit code. */
function exited(child: ChildProcess): Promise<number | null> {
  if (child.exitCode !== null) return Promise.resolve(child.exitCode);
  return new Promise((resolve) => child.on('exit', (code) => resolve(code)));
}

try {
  const lan = await start(
    'lan directory',
    DIRECTORY,
    ['--scope=lan', '--host=127.0.0.1', '--port=0'],
    /listening on (\S+)$/u,
  );
  const hosts: string[] = [];
  for (const n of [1, 2, 3]) {
    const host = await start(
      `host ${n}`,
      DIRECTORY,
      ['--port=0', `--upstream=${lan[1]}`],
      /listening on (\S+)$/u,
    );
    hosts.push(host[1]!);
  }
  await start(
    'publisher',
    'examples/publish-a-service.ts',
    ['--scope=lan', `--directory=${hosts[0]}`],
    /^published/u,
  );
  const subscribers = [2, 3].map((n) =>
    start(
      `subscriber ${n}`,
      'examples/subscribe-to-service.ts',
      [
        '--scope=lan',
        `--directory=${hosts[n - 1]}`,
        `--my-name=host-${n}`,
        `--timeout=${TIMEOUT_MS}`,
      ],
      /^available: echo at lan$/u,
    ),
  );
  await Promise.all(subscribers);
  const codes = await Promise.all(children.slice(-2).map(exited));
  process.exitCode = codes.every((code) => code === 0) ? 0 : 1;
} catch (error) {
  process.stderr.write(`${(error as Error).message}\n`);
  process.exitCode = 1;
} finally {
  for (const child of children) if (child.exitCode === null) child.kill('SIGINT');
}
