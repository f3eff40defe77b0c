/**
 * The command line shared by every sub-command. Flags are parsed by the runtime's own
 * parser (`parseCommandLine`, the one run() uses), so `--name=value`, `--name value`, a bare
 * boolean `--verbose`, `--debug-level` and `--help` behave the same in every Herald program.
 * What this file adds is the split of positionals (`host:port`, a module path, a file) from
 * flags: a word after a flag is that flag's value only when the flag takes one.
 */
import { EXIT_USAGE, type Settings } from '@herald/runtime';
import { parseCommandLine } from '@herald/runtime/internal';
import { CliError } from './errors.js';

export { EXIT_USAGE };

/** Flags every command takes on top of its settings (handled by run()). */
const RUNNER_FLAGS = new Set(['help', 'h', 'dump-settings']);
const RUNNER_VALUE_FLAGS = new Set(['debug-level', 'dl']);

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/** Whether `--flag` (without `=value`) takes the next word as its value. */
function takesValue(flag: string, defaults: Settings): boolean {
  if (RUNNER_VALUE_FLAGS.has(flag)) return true;
  if (RUNNER_FLAGS.has(flag)) return false;
  const key = flag in defaults ? flag : camel(flag);
  const current = defaults[key];
  // An unknown flag takes no value: run() reports it as unknown, which is the real error.
  return current !== undefined && typeof current !== 'boolean';
}

export interface SplitArguments {
  /** Words that are not flags nor flag values, in order. */
  readonly positionals: readonly string[];
  /** The flags with their values, for run()'s `argv`. */
  readonly flags: readonly string[];
  /** `--help` or `-h` was given: positionals are not checked, run() prints the usage. */
  readonly help: boolean;
}

/** Splits `argv` into positionals and flags against the command's settings. */
export function splitArguments(argv: readonly string[], defaults: Settings): SplitArguments {
  const positionals: string[] = [];
  const flags: string[] = [];
  let help = false;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i] as string;
    const match = /^--?([A-Za-z][A-Za-z0-9-]*)(=.*)?$/s.exec(arg);
    if (match === null) {
      positionals.push(arg);
      continue;
    }
    flags.push(arg);
    const flag = match[1] as string;
    if (flag === 'help' || flag === 'h') help = true;
    if (match[2] === undefined && takesValue(flag, defaults) && i + 1 < argv.length)
      flags.push(argv[++i] as string);
  }
  return { positionals, flags, help };
}

/**
 * Parses the flags as run() will, for a command that needs a setting before run() (the
 * types to declare, say). Throws CliError on a bad flag, which main reports as usage (2).
 */
export function peekSettings<S extends Settings>(flags: readonly string[], defaults: S): S {
  try {
    return parseCommandLine(flags, defaults).settings as S;
  } catch (error) {
    throw new CliError('HERALD_ERR_CLI_USAGE', (error as Error).message, { cause: error });
  }
}

/** Splits `host:port` (IPv6 as `[::1]:port`). Throws CliError on anything else. */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65_535)
    throw new CliError('HERALD_ERR_CLI_USAGE', `expected host:port, got ${JSON.stringify(text)}`);
  return { host: (match[1] ?? match[2]) as string, port };
}

/**
 * Checks the positionals of a command that takes exactly `names` (e.g. `['host:port']`);
 * throws CliError (usage, exit 2) naming what is missing or extra.
 */
export function expectPositionals(
  command: string,
  split: SplitArguments,
  names: readonly string[],
): readonly string[] {
  if (split.help) return names.map(() => '');
  if (split.positionals.length !== names.length) {
    const expected = names.length === 0 ? 'no arguments' : names.join(' ');
    throw new CliError(
      'HERALD_ERR_CLI_USAGE',
      `herald ${command}: expected ${expected}, got ${JSON.stringify(split.positionals)}`,
    );
  }
  return split.positionals;
}

/**
 * The one `host:port` positional of a client command, checked now (a bad one is a usage
 * error, exit 2, before any runtime starts).
 */
export function expectTarget(command: string, split: SplitArguments): string {
  const [target = ''] = expectPositionals(command, split, ['host:port']);
  if (!split.help) parseHostPort(target);
  return target;
}

/** A sub-command: its name, a one-line summary for `herald --help`, and how to run it. */
export interface Command {
  readonly name: string;
  /** `ping <host:port>`: the word and its positionals, as the top-level usage shows it. */
  readonly synopsis: string;
  readonly summary: string;
  /** Runs with the arguments after the command word; resolves with the exit code. */
  run(args: readonly string[]): Promise<number>;
}
