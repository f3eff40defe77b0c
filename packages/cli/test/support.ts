/**
 * Running the herald command as real processes: `node --import tsx src/main.ts <args>`,
 * reading what it prints as a user at a shell would. Shared by every test file here.
 */
import { spawnScript, type SpawnedChild } from '@herald/testing';
import { spawn } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import { fileURLToPath, pathToFileURL } from 'node:url';

export const MAIN = fileURLToPath(new URL('../src/main.ts', import.meta.url));
/** Bound on a whole child run (tsx start-up is slow on a loaded machine). */
export const RUN_MS = 20_000;

export function herald(...args: string[]): SpawnedChild {
  return spawnScript(MAIN, args);
}

/** Waits for the child to exit; its code, stdout lines and stderr text. */
export async function finished(child: SpawnedChild) {
  const status = await child.waitForExit(RUN_MS);
  return { code: status.code, stdout: child.stdout, stderr: child.stderr.join('\n') };
}

/** Starts `herald listen` on 127.0.0.1, port 0; resolves with it and its `host:port`. */
export async function listening(...args: string[]) {
  const server = herald('listen', '--host=127.0.0.1', '--port=0', ...args);
  const match = await server.waitForLine(/^listening on (127\.0\.0\.1:\d+)$/, RUN_MS);
  return { server, target: match[1] as string };
}

/** The public key line of a key file written by `herald keygen`. */
export async function publicKeyOf(path: string): Promise<string> {
  const line = (await readFile(path, 'utf8')).split('\n').find((l) => l.startsWith('public '));
  return (line as string).slice('public '.length);
}

const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Runs herald with a terminal for its stdin, stdout and stderr (util-linux `script`
 * allocates a pseudo-terminal), as a user at a shell would; resolves with everything the
 * terminal showed, escapes included, and the exit code. Killed after RUN_MS.
 */
export function inTerminal(...args: string[]): Promise<{ code: number | null; screen: string }> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = [process.execPath, '--import', TSX_LOADER, MAIN, ...args].map(quote).join(' ');
  const child = spawn('script', ['--quiet', '--return', '--command', command, '/dev/null'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const chunks: Buffer[] = [];
  child.stdout.on('data', (chunk: Buffer) => chunks.push(chunk));
  const timer = setTimeout(() => child.kill('SIGKILL'), RUN_MS);
  return new Promise((resolve) => {
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, screen: Buffer.concat(chunks).toString('utf8') });
    });
  });
}
