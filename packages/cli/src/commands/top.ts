/**
 * `herald top host:port`: a live view of a running process through its management
 * endpoint, one snapshot every --interval ms with message and byte rates. On a terminal it
 * redraws the screen (fitted to its height); otherwise (a pipe, a file, a test) it prints
 * each view after the last, each opening with a `herald top` header line.
 */
import { GetSnapshot, Snapshot, askManagement, managementMessages } from '@herald/management';
import { Abandoned, Closed } from '@herald/net';
import { Stop, TimedOut, run, type Self } from '@herald/runtime';
import { expectTarget, peekSettings, splitArguments, type Command } from '../args.js';
import { DEFAULT_TOP_INTERVAL_MS, TOP_RESERVED_ROWS } from '../constants.js';
import { CliError } from '../errors.js';
import {
  NotConnected,
  checkOperatorFlags,
  connectOperator,
  operatorHelp,
  operatorSettings,
} from '../operator.js';
import { renderSnapshot, type Previous } from '../render.js';

/** ANSI: cursor home, clear the screen. */
const CLEAR_SCREEN = '\x1b[H\x1b[2J';

const settings = { ...operatorSettings, interval: DEFAULT_TOP_INTERVAL_MS, count: 0 };

export const topCommand: Command = {
  name: 'top',
  synopsis: 'top <host:port>',
  summary: 'a live view of a running process, redrawn every --interval ms',
  run(args) {
    const split = splitArguments(args, settings);
    const target = expectTarget('top', split);
    checkOperatorFlags(split, settings);
    if (!split.help) {
      const s = peekSettings(split.flags, settings);
      if (!(s.interval >= 1))
        throw new CliError('HERALD_ERR_CLI_USAGE', '--interval must be at least 1 ms');
      if (!Number.isInteger(s.count) || s.count < 0)
        throw new CliError('HERALD_ERR_CLI_USAGE', '--count must be a whole number');
    }
    return run(
      async function top(self: Self, s: typeof settings) {
        const endpoint = await connectOperator(self, target, s);
        if (NotConnected.is(endpoint)) return endpoint;
        const tty = process.stdout.isTTY === true;
        let previous: Previous | undefined;
        for (let shown = 0; s.count === 0 || shown < s.count; shown++) {
          const snapshot = await askManagement(self, endpoint, GetSnapshot({ limit: s.limit }), {
            timeout: s.timeout,
          });
          if (!Snapshot.is(snapshot)) return snapshot;
          const at = Date.now();
          // A terminal of unknown size (0 rows, as some pseudo-terminals report) is not fitted.
          const rows = tty && process.stdout.rows > 0 ? process.stdout.rows : undefined;
          const header = `herald top ${target}  ${new Date(at).toISOString()}  every ${s.interval} ms`;
          const lines = [
            header,
            ...renderSnapshot(snapshot, {
              at,
              ...(previous === undefined ? {} : { previous }),
              ...(rows === undefined
                ? {}
                : {
                    maxActors: Math.max(
                      1,
                      rows -
                        TOP_RESERVED_ROWS -
                        snapshot.connections.length -
                        snapshot.groups.length,
                    ),
                  }),
            }),
          ];
          if (tty) {
            const width = process.stdout.columns > 0 ? process.stdout.columns : undefined;
            const fitted = lines.slice(0, rows).map((line) => line.slice(0, width));
            process.stdout.write(`${CLEAR_SCREEN}${fitted.join('\n')}\n`);
          } else {
            process.stdout.write(`${lines.join('\n')}\n\n`);
          }
          previous = { at, snapshot };
          if (s.count !== 0 && shown + 1 >= s.count) break;
          // The wait between views is the one thing that ends it early: Ctrl-C, or the
          // process going away (its endpoint closes the connection).
          const event = await self.receive(Stop, Closed, Abandoned, { timeout: s.interval });
          if (Stop.is(event)) return undefined;
          if (!TimedOut.is(event)) return event;
        }
        return undefined;
      },
      {
        name: 'herald top <host:port>',
        description:
          'A live view of a running process through its management endpoint ' +
          '(docs/management.md): status with messages/s, connections with bytes/s, groups, ' +
          'and the actors with the fullest mailboxes. Redraws every --interval ms on a ' +
          'terminal; otherwise prints one view per interval. Runs until Ctrl-C or --count ' +
          'views. Exit codes: 0 stopped, 1 cannot connect, no answer in --timeout or the ' +
          'process went away, 2 usage error.',
        settings,
        help: {
          ...operatorHelp,
          interval: 'ms between views',
          count: 'views to show, then exit (0: until Ctrl-C)',
        },
        messages: managementMessages,
        argv: split.flags,
      },
    );
  },
};
