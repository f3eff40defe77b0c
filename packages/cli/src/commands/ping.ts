/**
 * `herald ping host:port`: the handshake time, then protocol round trips. Each is a
 * MeasureRoundTrip asked of the connection's proxy, which times a wire PING / PONG
 * (docs/networking.md, "Measuring a round trip"): every Herald server answers PINGs, so
 * this works against any of them, whatever messages its application knows.
 */
import { MeasureRoundTrip, NoRoundTrip, NotConnected, RoundTrip } from '@herald/net';
import { run, type Self } from '@herald/runtime';
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
import { cliMessages } from '../messages.js';

const settings = { ...clientSettings, count: DEFAULT_PING_COUNT };

export const pingCommand: Command = {
  name: 'ping',
  synopsis: 'ping <host:port>',
  summary: 'handshake time and round-trip min/p50/p99 against any Herald server',
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
        const proxy = self.returnAddress;
        process.stdout.write(`handshake ${opened.handshakeUs} µs\n`);
        const times: number[] = [];
        for (let i = 0; i < s.count; i++) {
          const answer = await self.ask(proxy, MeasureRoundTrip(), RoundTrip, NoRoundTrip, {
            timeout: s.timeout,
          });
          // NoRoundTrip (the connection ended), Unanswered or TimedOut: a fault, exit 1.
          if (!RoundTrip.is(answer)) return answer;
          times.push(answer.micros);
        }
        process.stdout.write(roundTripLines(times));
        return undefined;
      },
      {
        name: 'herald ping <host:port>',
        description:
          'Connects, prints the handshake time, then makes --count protocol round trips ' +
          '(a wire PING answered by PONG, one at a time) and prints min, p50 and p99 in µs. ' +
          'Works against any Herald server. Exit codes: 0 ok, 1 cannot connect, connection ' +
          'lost or no answer in --timeout, 2 usage error.',
        settings,
        help: { ...clientHelp, count: 'round trips to make' },
        messages: cliMessages,
        argv: split.flags,
      },
    );
  },
};
