/**
 * The `herald` command: small tools for poking at Herald servers from a shell.
 *
 * ```sh
 * herald listen --port=0 --reply          # prints `listening on 127.0.0.1:PORT`
 * herald ping 127.0.0.1:PORT --count=100  # handshake time and min/p50/p99 round trip
 * ```
 *
 * One file per sub-command under commands/. Each (but keygen) is a main actor under `run()`
 * from @herald/runtime, so flags, `--help`, `--debug-level`, Ctrl-C and exit codes behave as
 * in every Herald program: 0 ok, 1 failure (a fault, printed on stderr), 2 usage error.
 * Flags take the `--name=value` or `--name value` form (args.ts).
 */
import { EXIT_USAGE, type Command } from './args.js';
import { benchCommand } from './commands/bench.js';
import { chatCommand } from './commands/chat.js';
import { keygenCommand } from './commands/keygen.js';
import { listenCommand } from './commands/listen.js';
import { pingCommand } from './commands/ping.js';
import { receiveFileCommand } from './commands/receive-file.js';
import { runCommand } from './commands/run.js';
import { sendFileCommand } from './commands/send-file.js';
import { requestCommand, sendCommand } from './commands/send.js';
import { statusCommand } from './commands/status.js';
import { topCommand } from './commands/top.js';

export { EXIT_USAGE };

/** Every sub-command, in the order `herald --help` lists them. */
export const commands: readonly Command[] = [
  keygenCommand,
  runCommand,
  listenCommand,
  pingCommand,
  sendCommand,
  requestCommand,
  chatCommand,
  benchCommand,
  statusCommand,
  topCommand,
  sendFileCommand,
  receiveFileCommand,
];

/** Width of the synopsis column in the usage. */
const SYNOPSIS_WIDTH = 30;

function usage(): string {
  // A synopsis too long for its column puts the summary on the next line, aligned.
  const lines = commands.map((command) =>
    command.synopsis.length < SYNOPSIS_WIDTH
      ? `  ${command.synopsis.padEnd(SYNOPSIS_WIDTH)}${command.summary}`
      : `  ${command.synopsis}\n  ${' '.repeat(SYNOPSIS_WIDTH)}${command.summary}`,
  );
  return (
    'usage: herald <command> [--flag=value ...]\n\ncommands:\n' +
    `${lines.join('\n')}\n\n` +
    'Each command takes --help and --debug-level=LEVEL. Exit codes: 0 ok, 1 failure, 2 usage error.'
  );
}

/** Runs the command line; resolves with the exit code (run() exits the process itself). */
export async function main(argv: readonly string[]): Promise<number> {
  const [word, ...args] = argv;
  if (word === undefined || word === '--help' || word === '-h' || word === 'help') {
    process.stdout.write(`${usage()}\n`);
    return word === undefined ? EXIT_USAGE : 0;
  }
  const command = commands.find((c) => c.name === word);
  if (command === undefined) {
    process.stderr.write(`herald: unknown command ${JSON.stringify(word)}\n${usage()}\n`);
    return EXIT_USAGE;
  }
  return command.run(args);
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // What is thrown before a command runs is a bad command line (a bad type name, say),
  // or a module `herald run` cannot load (exit 1).
  process.stderr.write(`herald: ${(error as Error).message}\n`);
  process.exitCode = (error as { code?: unknown }).code === 'HERALD_ERR_CLI_LOAD' ? 1 : EXIT_USAGE;
}
