/**
 * `herald run <module> [--name value ...]`: runs a controller module as a process, through
 * the runtime's own `run()`: settings from flags, `--help`, `--debug-level`, Ctrl-C as Stop,
 * the main actor's value printed, its fault on stderr with a non-zero exit.
 *
 * The module's default export (or its export `main`) is the main behaviour: an async
 * function `(self, settings) => value`, a handler object or an xstate machine. Optional
 * exports shape the command line:
 * - `settings`: the defaults; flags are then typed by them and an unknown flag exits 2;
 * - `help` (text per setting), `description`, `name`;
 * - `messages`: message types the program receives from peers (the runtime's catalogue).
 * Without `settings`, every flag given becomes a setting (a number when it reads as one,
 * `true`/`false` as booleans, a bare `--flag` as true, anything else a string).
 */
import type { AnyMessageType } from '@herald/codec';
import { run, type MainBehavior, type Settings } from '@herald/runtime';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { EXIT_USAGE, splitArguments, type Command } from '../args.js';
import { CliError } from '../errors.js';

const USAGE = `usage: herald run <module> [--setting value ...] [--debug-level=LEVEL] [--help]

Runs the module's default export (or its export \`main\`) as the main actor of a process:
an async function (self, settings) => value, a handler object or an xstate machine. The
value it returns is printed (strings as they are, anything else as JSON); Ctrl-C sends it
Stop. The module may export \`settings\` (defaults: flags are typed by them), \`help\`,
\`description\`, \`name\` and \`messages\` (types it receives from peers); without
\`settings\`, every flag given is a setting. \`herald run <module> --help\` lists them.
TypeScript modules run when herald runs through tsx (as in the Herald workspace).

Exit codes: 0 ok, 1 the module cannot be loaded or its main actor faulted (the fault's
exitCode when it has one), 2 usage error (no module, no behaviour in it, a bad flag),
130 a second Ctrl-C.`;

/** What `herald run` reads from a module (every export optional but the behaviour). */
interface ControllerModule {
  readonly default?: unknown;
  readonly main?: unknown;
  readonly settings?: unknown;
  readonly help?: unknown;
  readonly description?: unknown;
  readonly name?: unknown;
  readonly messages?: unknown;
}

function isBehavior(value: unknown): boolean {
  return typeof value === 'function' || (typeof value === 'object' && value !== null);
}

function isSettings(value: unknown): value is Settings {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((v) => ['string', 'number', 'boolean'].includes(typeof v))
  );
}

/** A flag's value read as a setting: a number when it reads as one, true/false, or text. */
function inferValue(raw: string | undefined): string | number | boolean {
  if (raw === undefined || raw === 'true') return true;
  if (raw === 'false') return false;
  const n = Number(raw);
  return raw.trim() !== '' && Number.isFinite(n) ? n : raw;
}

function camel(flag: string): string {
  return flag.replace(/-([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

/**
 * Settings from the flags themselves, for a module that declares none. Returns them and
 * the command line rewritten as `--name=value`, so run() reads back the same values.
 */
export function looseSettings(args: readonly string[]): { settings: Settings; argv: string[] } {
  const settings: Settings = {};
  const argv: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i] as string;
    const match = /^--?([A-Za-z][A-Za-z0-9-]*)(?:=(.*))?$/s.exec(arg);
    if (match === null)
      throw new CliError('HERALD_ERR_CLI_USAGE', `unexpected argument ${JSON.stringify(arg)}`);
    const flag = match[1] as string;
    let raw = match[2];
    if (['help', 'h', 'dump-settings'].includes(flag)) {
      argv.push(arg);
      continue;
    }
    const next = args[i + 1];
    if (raw === undefined && next !== undefined && !next.startsWith('-')) raw = args[++i];
    if (flag === 'debug-level' || flag === 'dl') {
      argv.push(raw === undefined ? arg : `--${flag}=${raw}`);
      continue;
    }
    const value = inferValue(raw);
    settings[camel(flag)] = value;
    argv.push(`--${flag}=${String(value)}`);
  }
  return { settings, argv };
}

async function load(path: string): Promise<ControllerModule> {
  try {
    return (await import(pathToFileURL(resolve(path)).href)) as ControllerModule;
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // Not found names the missing file (the module or one it imports); anything else is
    // the module's own failure at load time, shown as it is.
    const reason =
      code === 'ERR_MODULE_NOT_FOUND'
        ? `module not found (${(error as Error).message})`
        : String(error);
    throw new CliError('HERALD_ERR_CLI_LOAD', `herald run: ${path}: ${reason}`, { cause: error });
  }
}

export const runCommand: Command = {
  name: 'run',
  synopsis: 'run <module>',
  summary: "run a module's main behaviour as a process (settings from flags)",
  async run(args) {
    const [path, ...rest] = args;
    if (path === undefined || path === '--help' || path === '-h') {
      process[path === undefined ? 'stderr' : 'stdout'].write(`${USAGE}\n`);
      return path === undefined ? EXIT_USAGE : 0;
    }
    if (path.startsWith('-'))
      throw new CliError('HERALD_ERR_CLI_USAGE', 'herald run: the module comes first');
    const module = await load(path);
    const behavior = isBehavior(module.default) ? module.default : module.main;
    if (!isBehavior(behavior))
      throw new CliError(
        'HERALD_ERR_CLI_USAGE',
        `herald run: ${path} exports no behaviour (a default export or \`main\`)`,
      );
    let settings: Settings;
    let argv: readonly string[];
    if (module.settings === undefined) {
      ({ settings, argv } = looseSettings(rest));
    } else {
      if (!isSettings(module.settings))
        throw new CliError(
          'HERALD_ERR_CLI_USAGE',
          `herald run: ${path}: its \`settings\` export must map names to strings, numbers or booleans`,
        );
      settings = module.settings;
      const split = splitArguments(rest, settings);
      if (split.positionals.length > 0)
        throw new CliError(
          'HERALD_ERR_CLI_USAGE',
          `herald run: unexpected argument ${JSON.stringify(split.positionals[0])}`,
        );
      argv = split.flags;
    }
    const messages = Array.isArray(module.messages)
      ? (module.messages as readonly AnyMessageType[])
      : [];
    return run(behavior as MainBehavior<Settings, unknown>, {
      name: typeof module.name === 'string' ? module.name : `herald run ${path}`,
      ...(typeof module.description === 'string' ? { description: module.description } : {}),
      settings,
      ...(isHelp(module.help) ? { help: module.help } : {}),
      messages,
      argv,
    });
  },
};

function isHelp(value: unknown): value is Record<string, string> {
  return (
    typeof value === 'object' &&
    value !== null &&
    Object.values(value).every((v) => typeof v === 'string')
  );
}
