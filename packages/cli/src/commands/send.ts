/**
 * `herald send host:port --type=T --json=VALUE` and `herald request ...`: one typed message,
 * and for request the body of the cli.Response that answers it.
 */
import { type AnyMessageType } from '@herald/codec';
import { Abandoned, Close, Closed, NotConnected } from '@herald/net';
import { run, type Self } from '@herald/runtime';
import { expectTarget, peekSettings, splitArguments, type Command } from '../args.js';
import { clientHelp, clientSettings, open } from '../client.js';
import { CliError } from '../errors.js';
import { Response, cliMessages, userMessage } from '../messages.js';

const settings = { ...clientSettings, type: '', json: '{}' };

function sendOrRequest(kind: 'send' | 'request', args: readonly string[]): Promise<number> {
  const split = splitArguments(args, settings);
  const target = expectTarget(kind, split);
  // Declared before run(): the runtime's catalogue must hold a type to encode it.
  const peeked = peekSettings(split.flags, settings);
  // Checked before run(): a bad value is a usage error (exit 2), not a fault (exit 1).
  let body: unknown;
  if (!split.help) {
    if (peeked.type === '') throw new CliError('HERALD_ERR_CLI_USAGE', '--type is required');
    try {
      body = JSON.parse(peeked.json);
    } catch (error) {
      throw new CliError('HERALD_ERR_CLI_USAGE', `--json: ${(error as Error).message}`);
    }
  }
  const declared = peeked.type === '' ? [] : [userMessage(peeked.type)];
  const messages = [...cliMessages, ...declared.filter((d) => !cliMessages.includes(d))];
  return run(
    async function send(self: Self, s: typeof settings) {
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
        (kind === 'send'
          ? 'Sends one message of type --type with the JSON value --json as its body field.'
          : 'Sends one message of type --type with --json as its body and prints the body of ' +
            'the cli.Response that comes back (herald listen --reply answers cli.Request).') +
        ' Exit codes: 0 ok, 1 cannot connect or no answer in --timeout, 2 usage error.',
      settings,
      help: {
        ...clientHelp,
        type: 'message type name, e.g. app.Greet (herald.* is reserved)',
        json: 'the message body, a JSON value',
      },
      messages,
      argv: split.flags,
    },
  );
}

export const sendCommand: Command = {
  name: 'send',
  synopsis: 'send <host:port>',
  summary: "send one message --type=T --json='{...}'",
  run: (args) => sendOrRequest('send', args),
};

export const requestCommand: Command = {
  name: 'request',
  synopsis: 'request <host:port>',
  summary: 'send one message and print the answer',
  run: (args) => sendOrRequest('request', args),
};
