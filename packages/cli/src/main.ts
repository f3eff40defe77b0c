/**
 * The `herald` command: small tools for poking at Herald servers from a shell.
 *
 * ```sh
 * herald listen --port=0 --reply          # prints `listening on 127.0.0.1:PORT`
 * herald ping 127.0.0.1:PORT --count=100  # handshake time and min/p50/p99 round trip
 * ```
 *
 * Each sub-command is a main actor under `run()` from @herald/runtime, so flags, `--help`,
 * `--debug-level`, Ctrl-C and exit codes behave as in every Herald program: 0 ok, 1 failure
 * (a fault, printed on stderr), 2 usage error. Flags take the `--name=value` form; the one
 * positional argument of ping, send and request is `host:port`.
 */
import { type AnyMessage, type AnyMessageType } from '@herald/codec';
import {
  Abandoned,
  Accepted,
  Close,
  Closed,
  Connected,
  Listening,
  NotConnected,
  NotListening,
  connect,
  createIdentity,
  formatPublicKey,
  listen,
  loadIdentity,
  saveIdentity,
  type ConnectOptions,
  type ListenOptions,
} from '@herald/net';
import { Stop, run, type Self } from '@herald/runtime';
import { performance } from 'node:perf_hooks';
import { CliError } from './errors.js';
import { Ping, Pong, Request, Response, cliMessages, userMessage } from './messages.js';

/** Exit code for a bad command line (the same as run()'s). */
export const EXIT_USAGE = 2;

/** Round trips `herald ping` makes by default. */
export const DEFAULT_PING_COUNT = 10;

/** How long ping waits for each Pong, and request for its answer, by default (ms). */
export const DEFAULT_REPLY_TIMEOUT_MS = 5_000;

const USAGE = `usage: herald <command> [--flag=value ...]

commands:
  keygen <path>                 create an identity key file (mode 0600), print its public key
  listen                        listen; print each received message as a JSON line
  ping <host:port>              handshake time and round-trip min/p50/p99 (needs a server
                                that answers cli.Ping, such as herald listen)
  send <host:port>              send one message --type=T --json='{...}'
  request <host:port>           send one message and print the answer

Each command takes --help. Exit codes: 0 ok, 1 failure, 2 usage error.`;

/** Splits `host:port` (IPv6 as `[::1]:port`). Throws CliError on anything else. */
export function parseHostPort(text: string): { host: string; port: number } {
  const match = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(text);
  const port = match === null ? NaN : Number(match[3]);
  if (match === null || port < 1 || port > 65_535)
    throw new CliError('HERALD_ERR_CLI_USAGE', `expected host:port, got ${JSON.stringify(text)}`);
  return { host: (match[1] ?? match[2]) as string, port };
}

/** Connection options shared by the client commands. */
const clientSettings = {
  peerKey: '',
  identity: '',
  encrypted: false,
  timeout: DEFAULT_REPLY_TIMEOUT_MS,
};
const clientHelp = {
  peerKey: "the server's public key (herald-x25519:…); any other server is refused",
  identity: "this client's key file (herald keygen), for servers that allow only known keys",
  encrypted: 'encrypt the connection (implied by --peer-key or --identity)',
  timeout: 'ms to wait for each answer',
};
type ClientSettings = typeof clientSettings;

async function clientOptions(settings: ClientSettings): Promise<ConnectOptions> {
  return {
    // An identity or a pinned key only means something on an encrypted connection.
    encrypted: settings.encrypted || settings.peerKey !== '' || settings.identity !== '',
    ...(settings.peerKey === '' ? {} : { peerKey: settings.peerKey }),
    ...(settings.identity === '' ? {} : { identity: await loadIdentity(settings.identity) }),
  };
}

/** Connects; resolves with the handshake time in µs, or returns the NotConnected fault. */
async function open(self: Self, target: string, settings: ClientSettings) {
  const options = await clientOptions(settings);
  const started = performance.now();
  connect(self, parseHostPort(target), options);
  const result = await self.receive(Connected, NotConnected);
  if (NotConnected.is(result)) return result;
  return { handshakeUs: Math.round((performance.now() - started) * 1000) };
}

/** The value at quantile `q` of sorted `values` (nearest rank). */
export function quantile(sorted: readonly number[], q: number): number {
  const index = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[index] as number;
}

function pingCommand(target: string, argv: readonly string[]) {
  return run(
    async function ping(self: Self, settings: ClientSettings & { count: number }) {
      if (!Number.isInteger(settings.count) || settings.count < 1)
        throw new CliError('HERALD_ERR_CLI_USAGE', '--count must be a positive integer');
      const opened = await open(self, target, settings);
      if (NotConnected.is(opened)) return opened;
      const server = self.returnAddress;
      process.stdout.write(`handshake ${opened.handshakeUs} µs\n`);
      const times: number[] = [];
      for (let seq = 0; seq < settings.count; seq++) {
        const sent = performance.now();
        self.send(server, Ping({ seq }));
        const answer = await self.receive(Pong, Abandoned, { timeout: settings.timeout });
        if (!Pong.is(answer)) return answer;
        times.push((performance.now() - sent) * 1000);
      }
      times.sort((a, b) => a - b);
      const us = (value: number) => `${Math.round(value)} µs`;
      process.stdout.write(
        `min ${us(times[0] as number)}\np50 ${us(quantile(times, 0.5))}\np99 ${us(quantile(times, 0.99))}\n`,
      );
      return undefined;
    },
    {
      name: 'herald ping <host:port>',
      description:
        'Connects, prints the handshake time, then makes --count round trips of cli.Ping / ' +
        'cli.Pong and prints min, p50 and p99 in µs. The server must answer cli.Ping ' +
        '(herald listen does).',
      settings: { ...clientSettings, count: DEFAULT_PING_COUNT },
      help: { ...clientHelp, count: 'round trips to make' },
      messages: cliMessages,
      argv,
    },
  );
}

function sendCommand(kind: 'send' | 'request', target: string, argv: readonly string[]) {
  const settings = { ...clientSettings, type: '', json: '{}' };
  // Declared before run(): the runtime's catalogue must hold a type to encode it.
  const declared = typesFrom(argv, '--type=');
  const messages = [...cliMessages, ...declared.filter((d) => !cliMessages.includes(d))];
  return run(
    async function send(self: Self, s: typeof settings) {
      if (s.type === '') throw new CliError('HERALD_ERR_CLI_USAGE', '--type is required');
      let body: unknown;
      try {
        body = JSON.parse(s.json);
      } catch (error) {
        throw new CliError('HERALD_ERR_CLI_USAGE', `--json: ${(error as Error).message}`);
      }
      const type = declared[0] as AnyMessageType;
      const opened = await open(self, target, s);
      if (NotConnected.is(opened)) return opened;
      const server = self.returnAddress;
      self.send(server, type({ body }));
      if (kind === 'send') {
        // Close after the message (the proxy handles both in order) and wait until it is
        // done: ending at once could tear the connection down before the message is out.
        self.send(server, Close({ value: null }));
        const closed = await self.receive(Closed, Abandoned, { timeout: s.timeout });
        return Closed.is(closed) ? undefined : closed;
      }
      const answer = await self.receive(Response, Abandoned, Closed, { timeout: s.timeout });
      if (!Response.is(answer)) return answer;
      return JSON.stringify(answer.body);
    },
    {
      name: `herald ${kind} <host:port>`,
      description:
        kind === 'send'
          ? 'Sends one message of type --type with the JSON value --json as its body field.'
          : 'Sends one message of type --type with --json as its body and prints the body of ' +
            'the cli.Response that comes back (herald listen --reply answers cli.Request).',
      settings,
      help: {
        ...clientHelp,
        type: 'message type name, e.g. app.Greet (herald.* is reserved)',
        json: 'the message body, a JSON value',
      },
      messages,
      argv,
    },
  );
}

function listenCommand(argv: readonly string[]) {
  const settings = {
    host: '127.0.0.1',
    port: 0,
    identity: '',
    allow: '',
    encrypted: false,
    reply: false,
    types: '',
  };
  const types = typesFrom(argv, '--types=').filter((type) => type !== Request);
  return run(
    async function listenAndPrint(self: Self, s: typeof settings) {
      const allow = s.allow.split(',').filter((k) => k !== '');
      const options: ListenOptions = {
        encrypted: s.encrypted || s.identity !== '' || allow.length > 0,
        ...(s.identity === '' ? {} : { identity: await loadIdentity(s.identity) }),
        ...(allow.length === 0 ? {} : { allowedPeerKeys: allow }),
      };
      listen(self, { host: s.host, port: s.port }, options);
      const result = await self.receive(Listening, NotListening);
      if (NotListening.is(result)) return result;
      process.stdout.write(`listening on ${result.listening.host}:${result.listening.port}\n`);
      const printed = [Request, ...types];
      for (;;) {
        const message = await self.receive(Ping, Stop, Accepted, Closed, Abandoned, ...printed);
        if (Stop.is(message)) return undefined;
        // Connections coming and going are not messages a peer sent: not printed.
        if (Accepted.is(message) || Closed.is(message) || Abandoned.is(message)) continue;
        if (Ping.is(message)) {
          self.reply(Pong({ seq: message.seq }));
          continue;
        }
        const { type, ...fields } = message as AnyMessage;
        const line = { type, fields, from: self.returnAddress.toString() };
        process.stdout.write(`${JSON.stringify(line)}\n`);
        if (s.reply && Request.is(message)) self.reply(Response({ body: message.body }));
      }
    },
    {
      name: 'herald listen',
      description:
        'Listens and prints `listening on host:port`, then one JSON line per received message ' +
        '({type, fields, from}). Answers cli.Ping with cli.Pong; with --reply answers ' +
        'cli.Request with a cli.Response echoing its body.',
      settings,
      help: {
        host: 'address to listen on',
        port: 'port (0: any free port, printed)',
        identity: "this server's key file (herald keygen); clients may pin its public key",
        allow: 'comma-separated client public keys that may connect (default: any)',
        encrypted: 'encrypt connections (implied by --identity)',
        reply: 'answer cli.Request with cli.Response',
        types: 'comma-separated user message types to accept and print (as sent by herald send)',
      },
      messages: [...cliMessages, ...types],
      argv,
    },
  );
}

/**
 * The message types named by `flag` (`--types=a.B,c.D` or `--type=a.B`), declared before
 * run() so they are in the runtime's catalogue (which encodes and decodes them).
 */
function typesFrom(argv: readonly string[], flag: string): AnyMessageType[] {
  const given = argv.find((arg) => arg.startsWith(flag));
  if (given === undefined) return [];
  const names = given
    .slice(flag.length)
    .split(',')
    .filter((n) => n !== '');
  return names.map(userMessage);
}

async function keygenCommand(args: readonly string[]): Promise<number> {
  if (args.includes('--help') || args.includes('-h')) {
    process.stdout.write(
      'usage: herald keygen <path>\n\nCreates an identity key file at <path> (mode 0600) and ' +
        'prints its public key. Refuses to replace an existing file.\n',
    );
    return 0;
  }
  if (args.length !== 1 || (args[0] as string).startsWith('-')) {
    process.stderr.write('herald keygen: expected exactly one argument, the key file path\n');
    return EXIT_USAGE;
  }
  const path = args[0] as string;
  const identity = createIdentity();
  try {
    await saveIdentity(path, identity);
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    const reason = code === 'EEXIST' ? 'file exists (not replaced)' : (error as Error).message;
    process.stderr.write(`herald keygen: ${path}: ${reason}\n`);
    return 1;
  }
  process.stdout.write(`${formatPublicKey(identity.publicKey)}\n`);
  return 0;
}

/** Splits `argv` into the positional `host:port` and the flags, for ping, send and request. */
function targetAndFlags(command: string, args: readonly string[]) {
  const positional = args.filter((arg) => !arg.startsWith('-'));
  const flags = args.filter((arg) => arg.startsWith('-'));
  if (flags.includes('--help') || flags.includes('-h')) return { target: '', flags };
  if (positional.length !== 1) {
    process.stderr.write(`herald ${command}: expected one host:port argument\n`);
    return undefined;
  }
  const target = positional[0] as string;
  try {
    parseHostPort(target);
  } catch (error) {
    process.stderr.write(`herald ${command}: ${(error as Error).message}\n`);
    return undefined;
  }
  return { target, flags };
}

/** Runs the command line; resolves with the exit code (run() exits the process itself). */
export async function main(argv: readonly string[]): Promise<number> {
  const [command, ...args] = argv;
  switch (command) {
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(`${USAGE}\n`);
      return command === undefined ? EXIT_USAGE : 0;
    case 'keygen':
      return keygenCommand(args);
    case 'listen':
      return listenCommand(args);
    case 'ping':
    case 'send':
    case 'request': {
      const parsed = targetAndFlags(command, args);
      if (parsed === undefined) return EXIT_USAGE;
      if (command === 'ping') return pingCommand(parsed.target, parsed.flags);
      return sendCommand(command, parsed.target, parsed.flags);
    }
    default:
      process.stderr.write(`herald: unknown command ${JSON.stringify(command)}\n${USAGE}\n`);
      return EXIT_USAGE;
  }
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (error) {
  // What is thrown before a command runs is a bad command line (a bad type name, say).
  process.stderr.write(`herald: ${(error as Error).message}\n`);
  process.exitCode = EXIT_USAGE;
}
