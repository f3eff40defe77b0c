/**
 * The process runner: runs a main actor as a process.
 *
 * ```ts
 * await run(main, { settings: { host: '127.0.0.1', port: 32011 } });
 * ```
 *
 * - Settings are typed by their defaults and overridable from the command line
 *   (`--port=32011`, `--host 10.0.0.1`, `--verbose` for a boolean).
 * - `--debug-level=DEBUG` sends logs (JSON lines) to stderr at that level; `--help`
 *   prints the settings; `--dump-settings` prints the resolved settings and exits.
 * - SIGINT and SIGTERM deliver Stop to the main actor; a second signal exits at once (130).
 * - The main actor's value is printed to stdout; a fault goes to stderr with a non-zero
 *   exit code (its `exitCode`, else 1). A bad command line exits with 2.
 */
import { isAddress, type Address } from '@herald/codec';
import type { Writable } from 'node:stream';
import type { ArgsOf } from './behavior.js';
import { EXIT_FAULTED, EXIT_FORCED, EXIT_USAGE } from './constants.js';
import { RuntimeError } from './errors.js';
import { createLogger, parseLogLevel } from './logging.js';
import { isFaulted } from './messages.js';
import { createRuntime, type Runtime, type RuntimeOptions } from './runtime.js';
import type { Self } from './self.js';

export type SettingValue = string | number | boolean;
export type Settings = Record<string, SettingValue>;

/** Widens literal defaults: `{ port: 32011 }` gives settings typed `{ port: number }`. */
export type Widen<S extends Settings> = {
  [K in keyof S]: S[K] extends string ? string : S[K] extends number ? number : boolean;
};

export interface RunOptions<S extends Settings> {
  /** Program name for --help. */
  readonly name?: string;
  readonly description?: string;
  /** Settings with their defaults. */
  readonly settings?: S;
  /** Help text per setting. */
  readonly help?: { readonly [K in keyof S]?: string };
  /** Command line; defaults to process.argv.slice(2). */
  readonly argv?: readonly string[];
  /** Options for the runtime (the logger comes from --debug-level). */
  readonly runtime?: Omit<RuntimeOptions, 'logger' | 'logLevel'>;
  /** Message types the program receives from peers (added to the runtime's catalogue). */
  readonly messages?: RuntimeOptions['messages'];
  /** Default log level when --debug-level is not given. Default 'warn'. */
  readonly logLevel?: string;
  readonly stdout?: Writable;
  readonly stderr?: Writable;
  /** Called with the exit code; defaults to process.exit. */
  readonly exit?: (code: number) => void;
  /**
   * Called once the main actor is spawned, before it runs, with the runtime and the main
   * actor's address: the way to feed it input from outside any actor (stdin lines, another
   * library's callbacks) with `runtime.send(main, message)`. Whatever it starts must end
   * when the main actor does (`runtime.onClose`), or the process will not exit.
   *
   * ```ts
   * await run(main, {
   *   messages: [Line],
   *   onRuntime(runtime, main) {
   *     const lines = createInterface({ input: process.stdin });
   *     lines.on('line', (text) => runtime.send(main, Line({ text })));
   *     runtime.onClose(() => lines.close());
   *   },
   * });
   * ```
   */
  readonly onRuntime?: (runtime: Runtime, main: Address) => void;
}

export type MainBehavior<S extends Settings, R> = (
  self: Self,
  settings: Widen<S>,
) => Promise<R> | R;

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

function kebab(name: string): string {
  return name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`);
}

interface Parsed {
  settings: Settings;
  debugLevel: string | undefined;
  help: boolean;
  dump: boolean;
}

/** Parses the command line against the settings' defaults. Throws RuntimeError on a bad flag. */
export function parseCommandLine(argv: readonly string[], defaults: Settings): Parsed {
  const settings: Settings = { ...defaults };
  let debugLevel: string | undefined;
  let help = false;
  let dump = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    if (arg === '--help' || arg === '-h') {
      help = true;
      continue;
    }
    if (arg === '--dump-settings') {
      dump = true;
      continue;
    }
    const match = /^--?([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (match === null)
      throw new RuntimeError(
        'HERALD_ERR_BAD_SETTING',
        `unexpected argument ${JSON.stringify(arg)}`,
      );
    const flag = match[1] as string;
    let raw = match[2];
    if (flag === 'debug-level' || flag === 'dl') {
      if (raw === undefined) raw = argv[++i];
      if (raw === undefined)
        throw new RuntimeError('HERALD_ERR_BAD_SETTING', '--debug-level needs a level');
      parseLogLevel(raw);
      debugLevel = raw;
      continue;
    }
    const key = flag in defaults ? flag : camel(flag);
    if (!(key in defaults))
      throw new RuntimeError('HERALD_ERR_BAD_SETTING', `unknown setting --${flag}`);
    const current = defaults[key];
    if (typeof current === 'boolean') {
      if (raw === undefined) settings[key] = true;
      else if (raw === 'true' || raw === 'false') settings[key] = raw === 'true';
      else
        throw new RuntimeError(
          'HERALD_ERR_BAD_SETTING',
          `--${flag} takes true or false, not ${JSON.stringify(raw)}`,
        );
      continue;
    }
    if (raw === undefined) raw = argv[++i];
    if (raw === undefined)
      throw new RuntimeError('HERALD_ERR_BAD_SETTING', `--${flag} needs a value`);
    if (typeof current === 'number') {
      const n = Number(raw);
      if (raw.trim() === '' || !Number.isFinite(n))
        throw new RuntimeError(
          'HERALD_ERR_BAD_SETTING',
          `--${flag} takes a number, not ${JSON.stringify(raw)}`,
        );
      settings[key] = n;
    } else {
      settings[key] = raw;
    }
  }
  return { settings, debugLevel, help, dump };
}

/** Renders a completion value for stdout: strings as they are, anything else as JSON. */
export function renderValue(value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value === 'string') return value;
  return JSON.stringify(
    value,
    (_key, v: unknown) => {
      if (typeof v === 'bigint') return v.toString();
      if (isAddress(v)) return v.toString();
      if (v instanceof Map)
        return Object.fromEntries([...v.entries()].map(([k, x]) => [String(k), x]));
      if (v instanceof Set) return [...v];
      if (v instanceof Uint8Array) return Buffer.from(v).toString('base64');
      return v;
    },
    2,
  );
}

function usage(
  name: string,
  description: string | undefined,
  defaults: Settings,
  help: Record<string, string | undefined>,
): string {
  const lines = [
    `usage: ${name} [--setting=value ...] [--debug-level=LEVEL] [--help] [--dump-settings]`,
  ];
  if (description !== undefined) lines.push('', description);
  const keys = Object.keys(defaults);
  if (keys.length > 0) {
    lines.push('', 'settings:');
    for (const key of keys) {
      const text = help[key];
      lines.push(
        `  --${kebab(key)}=${JSON.stringify(defaults[key])}${text === undefined ? '' : `  ${text}`}`,
      );
    }
  }
  lines.push(
    '',
    'LEVEL: FAULT WARNING CONSOLE OBJECT DEBUG TRACE NONE (or pino names: fatal error warn info debug trace silent)',
  );
  return lines.join('\n');
}

/**
 * Runs `main` as the process's main actor and exits with its outcome. Resolves with the
 * exit code (after calling `exit`).
 */
export async function run<const S extends Settings, R>(
  main: MainBehavior<S, R>,
  options: RunOptions<S> = {},
): Promise<number> {
  const stdout = options.stdout ?? process.stdout;
  const stderr = options.stderr ?? process.stderr;
  const exit = options.exit ?? ((code: number) => process.exit(code));
  const defaults = (options.settings ?? {}) as Settings;
  const name = options.name ?? (main.name || 'main');
  const write = (stream: Writable, text: string) =>
    new Promise<void>((resolve) => {
      stream.write(text.endsWith('\n') ? text : `${text}\n`, () => resolve());
    });

  let parsed: Parsed;
  try {
    parsed = parseCommandLine(options.argv ?? process.argv.slice(2), defaults);
  } catch (error) {
    await write(
      stderr,
      `${name}: ${(error as Error).message}\n${usage(name, options.description, defaults, (options.help ?? {}) as Record<string, string>)}`,
    );
    exit(EXIT_USAGE);
    return EXIT_USAGE;
  }
  if (parsed.help) {
    await write(
      stdout,
      usage(name, options.description, defaults, (options.help ?? {}) as Record<string, string>),
    );
    exit(0);
    return 0;
  }
  if (parsed.dump) {
    await write(stdout, JSON.stringify(parsed.settings, null, 2));
    exit(0);
    return 0;
  }

  const logger = createLogger(parseLogLevel(parsed.debugLevel ?? options.logLevel ?? 'warn'));
  // The log destination writes asynchronously: this waits until what it holds (a fatal line,
  // the last warnings) is on stderr, before run() writes there itself or exits (bounded, see
  // logging.ts).
  const flushLog = () => new Promise<void>((resolve) => logger.flush(() => resolve()));
  const runtime = createRuntime({
    ...options.runtime,
    name,
    logger,
    messages: [...(options.runtime?.messages ?? []), ...(options.messages ?? [])],
  });
  const address = runtime.spawn(
    main as (self: Self, ...args: ArgsOf<typeof main>) => Promise<R>,
    parsed.settings as Widen<S>,
  );
  // The main actor starts on the next microtask: what onRuntime sends waits in its mailbox.
  options.onRuntime?.(runtime, address);

  let signals = 0;
  const onSignal = (signal: NodeJS.Signals) => {
    signals++;
    if (signals === 1) {
      logger.info({ signal }, 'stopping main actor');
      runtime.stop(address);
    } else {
      logger.warn({ signal }, 'second signal: exiting now');
      exit(EXIT_FORCED);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  // A main actor waiting for messages holds no Node handle of its own; keep the event
  // loop alive until it ends, or an idle server would exit at once.
  const keepAlive = setInterval(() => undefined, 1 << 30);

  let code = 0;
  try {
    const value = await runtime.completion(address);
    if (isFaulted(value)) {
      code = value.exitCode ?? EXIT_FAULTED;
      await flushLog(); // the actor's last log lines come before its fault on stderr
      await write(stderr, `${value.type}: ${value.code}: ${value.explanation}`);
    } else {
      const text = renderValue(value);
      if (text !== undefined) await write(stdout, text);
    }
    await runtime.close();
  } catch (error) {
    logger.fatal({ err: error }, 'runner failed');
    code = EXIT_USAGE;
  } finally {
    clearInterval(keepAlive);
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
  await flushLog();
  exit(code);
  return code;
}
