/**
 * `herald listen`: listens and prints each received message as one JSON line; answers
 * cli.Ping (so it can be benched) and, with --reply, cli.Request. With
 * --operators it also opens a management endpoint, so `herald status` / `herald top` (and,
 * with --inspector, a browser) can watch it.
 */
import { type AnyMessage, type AnyMessageType } from '@herald/codec';
import { openManagement } from '@herald/management';
import {
  Abandoned,
  Accepted,
  Closed,
  Listening,
  NotListening,
  listen,
  loadIdentity,
} from '@herald/net';
import { Stop, run, type Self } from '@herald/runtime';
import { expectPositionals, peekSettings, splitArguments, type Command } from '../args.js';
import { serverHelp, serverOptions, serverSettings } from '../client.js';
import { DEFAULT_LISTEN_HOST } from '../constants.js';
import { CliError } from '../errors.js';
import { Data, Ping, Pong, Request, Response, cliMessages, userMessage } from '../messages.js';

const settings = {
  host: DEFAULT_LISTEN_HOST,
  port: 0,
  ...serverSettings,
  reply: false,
  types: '',
  operators: '',
  managementPort: 0,
  inspector: false,
};
type ListenSettings = typeof settings;

/** Prints every message a peer sends until Stop (Ctrl-C). */
async function serve(self: Self, s: ListenSettings, types: readonly AnyMessageType[]) {
  const printed = [Request, ...types];
  for (;;) {
    const message = await self.receive(Ping, Data, Stop, Accepted, Closed, Abandoned, ...printed);
    if (Stop.is(message)) return undefined;
    // Connections coming and going are not messages a peer sent: not printed. Bench data
    // is only counted by its sender's closing Ping: printing it would be the bottleneck
    // being measured.
    if (Accepted.is(message) || Closed.is(message) || Abandoned.is(message)) continue;
    if (Data.is(message)) continue;
    if (Ping.is(message)) {
      self.reply(Pong({ seq: message.seq }));
      continue;
    }
    const { type, ...fields } = message as AnyMessage;
    const line = { type, fields, from: self.returnAddress.toString() };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    if (s.reply && Request.is(message)) self.reply(Response({ body: message.body }));
  }
}

/**
 * With --operators, opens a management endpoint on this process (docs/management.md) and
 * prints where it is and the key operators pin.
 */
async function openEndpoint(self: Self, s: ListenSettings) {
  const operators = s.operators.split(',').filter((k) => k !== '');
  if (operators.length === 0) return undefined;
  const endpoint = await openManagement(self.runtime, {
    host: s.host,
    port: s.managementPort,
    identity: await loadIdentity(s.identity),
    operators,
    http: s.inspector,
  });
  const { herald } = endpoint;
  if (herald !== undefined)
    process.stdout.write(`management on ${herald.host}:${herald.port} key ${herald.publicKey}\n`);
  if (endpoint.url !== undefined) process.stdout.write(`inspector at ${endpoint.url}\n`);
  return endpoint;
}

export const listenCommand: Command = {
  name: 'listen',
  synopsis: 'listen',
  summary: 'listen; print each received message as a JSON line (answers bench)',
  run(args) {
    const split = splitArguments(args, settings);
    expectPositionals('listen', split, []);
    const peeked = peekSettings(split.flags, settings);
    if (peeked.operators !== '' && peeked.identity === '')
      throw new CliError(
        'HERALD_ERR_CLI_USAGE',
        '--operators needs --identity: operators pin the management endpoint by its key',
      );
    if (peeked.inspector && peeked.operators === '')
      throw new CliError('HERALD_ERR_CLI_USAGE', '--inspector comes with --operators');
    // Declared before run(): the runtime's catalogue must hold a type to decode it.
    const types = peeked.types
      .split(',')
      .filter((name) => name !== '')
      .map(userMessage)
      .filter((type) => !cliMessages.includes(type));
    return run(
      async function listenAndPrint(self: Self, s: ListenSettings) {
        listen(self, { host: s.host, port: s.port }, await serverOptions(s));
        const result = await self.receive(Listening, NotListening);
        if (NotListening.is(result)) return result;
        process.stdout.write(`listening on ${result.listening.host}:${result.listening.port}\n`);
        const management = await openEndpoint(self, s);
        try {
          return await serve(self, s, types);
        } finally {
          await management?.close();
        }
      },
      {
        name: 'herald listen',
        description:
          'Listens and prints `listening on host:port`, then one JSON line per received ' +
          'message ({type, fields, from}). Answers cli.Ping with cli.Pong and takes cli.Data ' +
          'silently (so herald bench works against it); with --reply answers ' +
          'cli.Request with a cli.Response echoing its body. With --operators it opens a ' +
          'management endpoint and prints `management on host:port key K` (herald status, ' +
          'herald top). Runs until Ctrl-C. Exit codes: 0 stopped, 1 cannot listen, 2 usage ' +
          'error.',
        settings,
        help: {
          host: 'address to listen on (and the management endpoint, with --operators)',
          port: 'port (0: any free port, printed)',
          ...serverHelp,
          reply: 'answer cli.Request with cli.Response',
          types: 'comma-separated user message types to accept and print (as sent by herald send)',
          operators:
            'comma-separated operator public keys: opens a management endpoint for them (needs --identity)',
          managementPort: 'port of the management endpoint (0: any free port, printed)',
          inspector: 'also serve the browser inspector over HTTP (its URL, with token, printed)',
        },
        messages: [...cliMessages, ...types],
        argv: split.flags,
      },
    );
  },
};
