/**
 * `herald listen`: listens and prints each received message as one JSON line; answers
 * cli.Ping (so it can be pinged and benched) and, with --reply, cli.Request.
 */
import { type AnyMessage } from '@herald/codec';
import { Abandoned, Accepted, Closed, Listening, NotListening, listen } from '@herald/net';
import { Stop, run, type Self } from '@herald/runtime';
import { expectPositionals, peekSettings, splitArguments, type Command } from '../args.js';
import { serverHelp, serverOptions, serverSettings } from '../client.js';
import { DEFAULT_LISTEN_HOST } from '../constants.js';
import { Data, Ping, Pong, Request, Response, cliMessages, userMessage } from '../messages.js';

const settings = {
  host: DEFAULT_LISTEN_HOST,
  port: 0,
  ...serverSettings,
  reply: false,
  types: '',
};

export const listenCommand: Command = {
  name: 'listen',
  synopsis: 'listen',
  summary: 'listen; print each received message as a JSON line (answers ping and bench)',
  run(args) {
    const split = splitArguments(args, settings);
    expectPositionals('listen', split, []);
    // Declared before run(): the runtime's catalogue must hold a type to decode it.
    const types = peekSettings(split.flags, settings)
      .types.split(',')
      .filter((name) => name !== '')
      .map(userMessage)
      .filter((type) => !cliMessages.includes(type));
    return run(
      async function listenAndPrint(self: Self, s: typeof settings) {
        listen(self, { host: s.host, port: s.port }, await serverOptions(s));
        const result = await self.receive(Listening, NotListening);
        if (NotListening.is(result)) return result;
        process.stdout.write(`listening on ${result.listening.host}:${result.listening.port}\n`);
        const printed = [Request, ...types];
        for (;;) {
          const message = await self.receive(
            Ping,
            Data,
            Stop,
            Accepted,
            Closed,
            Abandoned,
            ...printed,
          );
          if (Stop.is(message)) return undefined;
          // Connections coming and going are not messages a peer sent: not printed. Bench
          // data is only counted by its sender's closing Ping: printing it would be the
          // bottleneck being measured.
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
      },
      {
        name: 'herald listen',
        description:
          'Listens and prints `listening on host:port`, then one JSON line per received ' +
          'message ({type, fields, from}). Answers cli.Ping with cli.Pong and takes cli.Data ' +
          'silently (so herald ping and herald bench work against it); with --reply answers ' +
          'cli.Request with a cli.Response echoing its body. Runs until Ctrl-C. Exit codes: ' +
          '0 stopped, 1 cannot listen, 2 usage error.',
        settings,
        help: {
          host: 'address to listen on',
          port: 'port (0: any free port, printed)',
          ...serverHelp,
          reply: 'answer cli.Request with cli.Response',
          types: 'comma-separated user message types to accept and print (as sent by herald send)',
        },
        messages: [...cliMessages, ...types],
        argv: split.flags,
      },
    );
  },
};
