/**
 * Runs TypeScript scripts as real child processes for multi-process tests.
 *
 * ```ts
 * afterEach(killAll);
 * const child = spawnScript(fileURLToPath(new URL('./fixtures/echo-child.ts', import.meta.url)));
 * await child.waitForLine(/^ready$/);
 * child.kill('SIGTERM');
 * expect(await child.waitForExit()).toEqual({ code: 0, signal: null });
 * ```
 *
 * Every wait is bounded; a timeout error names the script and quotes its recent stderr and
 * stdout, which is usually the whole diagnosis. Children left running are SIGKILLed by
 * {@link killAll} and, as a last resort, when the test process exits.
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { createRequire } from 'node:module';
import { createInterface } from 'node:readline';
import { pathToFileURL } from 'node:url';
import { waitFor } from './wait.js';
import { TestingError } from './errors.js';

/** Default bound on every wait (tsx start-up alone can take a second on a loaded machine). */
export const DEFAULT_CHILD_WAIT_MS = 10_000;

/** How many recent lines of each stream a timeout error quotes. */
const TAIL_LINES = 20;

export interface ExitStatus {
  /** Exit code, or `null` if the child was ended by a signal. */
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export interface SpawnScriptOptions {
  /** Added to (or, with `undefined`, removed from) the parent's environment. */
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly cwd?: string;
  /** Options for node itself, before the script (e.g. `['--expose-gc']`). */
  readonly nodeOptions?: readonly string[];
}

export type OutputStream = 'stdout' | 'stderr';

export interface SpawnedChild {
  readonly pid: number | undefined;
  /** The script path as given to {@link spawnScript}. */
  readonly script: string;
  /** Every complete line printed so far, without the newline. */
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
  /** Set once the child has exited and its output has been read to the end. */
  readonly exitStatus: ExitStatus | undefined;
  /**
   * Resolves when the child has exited and its stdout and stderr are closed (so every line
   * is in `stdout` / `stderr`). Never rejects; a failure to spawn gives `{ null, null }`.
   */
  readonly exited: Promise<ExitStatus>;
  /**
   * Resolves with the match of the first line on `stream` (default stdout) that matches
   * `pattern` and comes after the line matched by the previous `waitForLine` on that stream,
   * so successive calls walk forward through the output and a line printed before the call
   * is still found. Rejects on timeout, or as soon as the child exits without such a line.
   */
  waitForLine(
    pattern: RegExp,
    timeoutMs?: number,
    options?: { readonly stream?: OutputStream },
  ): Promise<RegExpExecArray>;
  /** Resolves with the exit status; rejects if the child is still running after `timeoutMs`. */
  waitForExit(timeoutMs?: number): Promise<ExitStatus>;
  /** Writes `line` and a newline to the child's stdin. */
  writeLine(line: string): void;
  /** Closes the child's stdin. */
  endInput(): void;
  /** Sends `signal` (default SIGTERM); does nothing if the child has already exited. */
  kill(signal?: NodeJS.Signals): void;
}

interface Running {
  readonly process: ChildProcessWithoutNullStreams;
  readonly exited: Promise<ExitStatus>;
  readonly describe: () => string;
}

const running = new Set<Running>();

let exitHookInstalled = false;

/** Last resort if a test file forgets killAll: never leave children behind the test process. */
function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const child of running) child.process.kill('SIGKILL');
  });
}

/** tsx resolved from this file, so children start the same way whatever their cwd. */
const TSX_LOADER = pathToFileURL(createRequire(import.meta.url).resolve('tsx')).href;

/**
 * Starts `node [nodeOptions] --import tsx <path> ...args` with `process.execPath` and pipes
 * on all three standard streams.
 */
export function spawnScript(
  path: string,
  args: readonly string[] = [],
  options: SpawnScriptOptions = {},
): SpawnedChild {
  installExitHook();
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const [key, value] of Object.entries(options.env ?? {})) {
    if (value === undefined) delete env[key];
    else env[key] = value;
  }
  const nodeArgs = [...(options.nodeOptions ?? []), '--import', TSX_LOADER];
  const child = spawn(process.execPath, [...nodeArgs, path, ...args], {
    env,
    stdio: ['pipe', 'pipe', 'pipe'],
    ...(options.cwd === undefined ? {} : { cwd: options.cwd }),
  });

  const lines: Record<OutputStream, string[]> = { stdout: [], stderr: [] };
  const cursor: Record<OutputStream, number> = { stdout: 0, stderr: 0 };
  const changed = new Set<() => void>();
  const notify = (): void => {
    for (const check of changed) check();
  };
  let spawnError: Error | undefined;
  let exitStatus: ExitStatus | undefined;

  for (const stream of ['stdout', 'stderr'] as const) {
    createInterface({ input: child[stream], crlfDelay: Infinity }).on('line', (line) => {
      lines[stream].push(line);
      notify();
    });
  }
  // A child that exits before reading its input must not crash the parent with EPIPE.
  child.stdin.on('error', () => undefined);

  const describe = (): string => {
    const status =
      exitStatus === undefined
        ? 'still running'
        : `exited with code ${String(exitStatus.code)}, signal ${String(exitStatus.signal)}`;
    const tail = (stream: OutputStream): string =>
      lines[stream].length === 0
        ? '  (nothing)'
        : lines[stream]
            .slice(-TAIL_LINES)
            .map((line) => `  | ${line}`)
            .join('\n');
    return (
      `child ${path} (pid ${String(child.pid)}) ${status}` +
      (spawnError === undefined ? '' : `; spawn failed: ${spawnError.message}`) +
      `\nrecent stderr:\n${tail('stderr')}\nrecent stdout:\n${tail('stdout')}`
    );
  };

  const exited = new Promise<ExitStatus>((resolve) => {
    child.once('close', (code, signal) => {
      exitStatus = { code, signal };
      resolve(exitStatus);
    });
    child.once('error', (error) => {
      spawnError = error;
      if (child.pid === undefined) {
        exitStatus = { code: null, signal: null };
        resolve(exitStatus);
      }
    });
  });
  const entry: Running = { process: child, exited, describe };
  running.add(entry);
  void exited.then(() => {
    running.delete(entry);
    notify();
  });

  /**
   * Resolves with `check()`'s first defined result, re-evaluated whenever a line arrives or
   * the child exits; rejects on timeout or, if `check` yields nothing once the child has
   * exited, straight away. Either error quotes the child's recent output.
   */
  const until = <T>(check: () => T | undefined, what: string, timeoutMs: number): Promise<T> =>
    waitFor<T>(
      () => {
        const result = check();
        if (result === undefined && exitStatus !== undefined) {
          throw new TestingError(
            'HERALD_ERR_TEST_FAILED',
            `${what}: the child exited first.\n${describe()}`,
          );
        }
        return result;
      },
      {
        on: (notify) => {
          changed.add(notify);
          return () => changed.delete(notify);
        },
        timeoutMs,
        what,
        describe: () => `\n${describe()}`,
      },
    ) as Promise<T>;

  return {
    get pid() {
      return child.pid;
    },
    script: path,
    stdout: lines.stdout,
    stderr: lines.stderr,
    get exitStatus() {
      return exitStatus;
    },
    exited,
    waitForLine(pattern, timeoutMs = DEFAULT_CHILD_WAIT_MS, options = {}) {
      const stream = options.stream ?? 'stdout';
      // A fresh copy without g/y so `lastIndex` state cannot make a matching line fail.
      const matcher = new RegExp(pattern.source, pattern.flags.replace(/[gy]/g, ''));
      return until(
        () => {
          const seen = lines[stream];
          for (let index = cursor[stream]; index < seen.length; index++) {
            const match = matcher.exec(seen[index] ?? '');
            if (match !== null) {
              cursor[stream] = index + 1;
              return match;
            }
          }
          return undefined;
        },
        `a ${stream} line matching ${String(pattern)}`,
        timeoutMs,
      );
    },
    waitForExit(timeoutMs = DEFAULT_CHILD_WAIT_MS) {
      return until(() => exitStatus, 'the child to exit', timeoutMs);
    },
    writeLine(line) {
      child.stdin.write(`${line}\n`);
    },
    endInput() {
      child.stdin.end();
    },
    kill(signal = 'SIGTERM') {
      if (exitStatus === undefined && child.exitCode === null && child.signalCode === null) {
        child.kill(signal);
      }
    },
  };
}

/**
 * SIGKILLs every child spawned by this module that is still running and waits for each to
 * be gone. Takes no arguments so it can be passed straight to `afterEach(killAll)`; rejects
 * (naming the stragglers) only if a child survives SIGKILL for {@link DEFAULT_CHILD_WAIT_MS},
 * which would mean something is badly wrong.
 */
export async function killAll(): Promise<void> {
  const children = [...running];
  for (const child of children) child.process.kill('SIGKILL');
  await waitFor(() => children.every((child) => !running.has(child)), {
    on: (notify) => {
      for (const child of children) void child.exited.then(notify);
      return () => undefined;
    },
    timeoutMs: DEFAULT_CHILD_WAIT_MS,
    what: 'every child to end after SIGKILL (killAll)',
    describe: () =>
      `still running:\n${children
        .filter((child) => running.has(child))
        .map((child) => child.describe())
        .join('\n')}`,
  });
}
