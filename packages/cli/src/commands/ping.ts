/**
 * `herald ping host:port`: the handshake time, then round trips of cli.Ping / cli.Pong.
 */
import { Abandoned, NotConnected } from '@herald/net';
import { run, type Self } from '@herald/runtime';
import { performance } from 'node:perf_hooks';
import { expectTarget, peekSettings, splitArguments, type Command } from '../args.js';
import {
  clientHelp,
  clientSettings,
  open,
  roundTripLines,
  type ClientSettings,
} from '../client.js';
import { DEFAULT_PING_COUNT } from '../constants.js';
import { CliError } from '../errors.js';
import { Ping, Pong, cliMessages } from '../messages.js';

const settings = { ...clientSettings, count: DEFAULT_PING_COUNT };

export const pingCommand: Command = {
  name: 'ping',
  synopsis: 'ping <host:port>',
  summary: 'handshake time and round-trip min/p50/p99 (the server must answer cli.Ping)',
  run(args) {
    const split = splitArguments(args, settings);
    const target = expectTarget('ping', split);
    // Checked before run(): a bad value is a usage error (exit 2), not a fault (exit 1).
    const count = split.help ? 1 : peekSettings(split.flags, settings).count;
    if (!Number.isInteger(count) || count < 1)
      throw new CliError('HERALD_ERR_CLI_USAGE', '--count must be a positive integer');
    return run(
      async function ping(self: Self, s: ClientSettings & { count: number }) {
        const opened = await open(self, target, s);
        if (NotConnected.is(opened)) return opened;
        const server = self.returnAddress;
        process.stdout.write(`handshake ${opened.handshakeUs} µs\n`);
        const times: number[] = [];
        for (let seq = 0; seq < s.count; seq++) {
          const sent = performance.now();
          self.send(server, Ping({ seq }));
          const answer = await self.receive(Pong, Abandoned, { timeout: s.timeout });
          if (!Pong.is(answer)) return answer;
          times.push((performance.now() - sent) * 1000);
        }
        process.stdout.write(roundTripLines(times));
        return undefined;
      },
      {
        name: 'herald ping <host:port>',
        description:
          'Connects, prints the handshake time, then makes --count round trips of cli.Ping / ' +
          'cli.Pong and prints min, p50 and p99 in µs. The server must answer cli.Ping ' +
          '(herald listen does). Exit codes: 0 ok, 1 cannot connect or no answer in ' +
          '--timeout, 2 usage error.',
        settings,
        help: { ...clientHelp, count: 'round trips to make' },
        messages: cliMessages,
        argv: split.flags,
      },
    );
  },
};
