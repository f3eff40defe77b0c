/**
 * `herald listen`: listens and prints each received message as one JSON line; answers
 * cli.Ping (so it can be benched) and, with --reply, cli.Request. With
 * --operators it also opens a management endpoint, so `herald status` / `herald top` (and,
 * with --inspector, a browser) can watch it.
 */
import { type Address, type AnyMessage, type AnyMessageType } from '@herald/codec';
import { openManagement } from '@herald/management';
import { Listening, NotListening, listen, loadIdentity, type ListenOptions } from '@herald/net';
import { Stop, Terminated, isFaulted, run, type Handler, type Self } from '@herald/runtime';
import type { Envelope } from '@herald/runtime/internal';
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

/**
 * The listener's controller: prints every message a peer sends, answers cli.Ping and (with
 * --reply) cli.Request, counts nothing else. A handler actor rather than a function actor's
 * receive loop: each message is one synchronous call instead of a promise settled per
 * message, which is what `herald bench`'s one-way rate measures (docs/tools.md, "bench").
 * Listening / NotListening go to `owner` (the main actor), which prints and may open the
 * management endpoint.
 */
class Printer implements Handler {
  readonly name = 'herald listen';
  readonly #printed: readonly AnyMessageType[];

  constructor(
    readonly settings: ListenSettings,
    readonly options: ListenOptions,
    types: readonly AnyMessageType[],
    readonly owner: Address,
  ) {
    this.#printed = [Request, ...types];
  }

  start(self: Self): void {
    listen(self, { host: this.settings.host, port: this.settings.port }, this.options);
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    // Bench data is only counted by its sender's closing Ping: printing it would be the
    // bottleneck being measured.
    if (Data.is(message)) return;
    if (Ping.is(message)) {
      self.reply(Pong({ seq: message.seq }));
      return;
    }
    if (Listening.is(message) || NotListening.is(message)) {
      self.send(this.owner, message);
      if (NotListening.is(message)) self.complete(message);
      return;
    }
    // Connections coming and going are not messages a peer sent: not printed; nor is
    // anything else that is not a printed type (flow notices, say).
    if (!this.#printed.some((type) => type.is(message))) return;
    const { type, ...fields } = message;
    const line = { type, fields, from: envelope.from.toString() };
    process.stdout.write(`${JSON.stringify(line)}\n`);
    if (this.settings.reply && Request.is(message)) self.reply(Response({ body: message.body }));
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
        const printer = self.spawn(new Printer(s, await serverOptions(s), types, self.address));
        self.watch(printer);
        const result = await self.receive(Listening, NotListening, Terminated);
        if (NotListening.is(result)) return result;
        if (Terminated.is(result)) return isFaulted(result.value) ? result.value : undefined;
        process.stdout.write(`listening on ${result.listening.host}:${result.listening.port}\n`);
        const management = await openEndpoint(self, s);
        try {
          // Until Ctrl-C (Stop); the printer ends with this actor, closing the listener.
          const end = await self.receive(Stop, Terminated);
          return Terminated.is(end) && isFaulted(end.value) ? end.value : undefined;
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
