/**
 * `herald bench host:port`: one-way throughput (msgs/s) and round-trip latency (min, p50,
 * p99) against a peer that takes cli.Data and answers cli.Ping (`herald listen` does).
 *
 * One way: cli.Data in batches, each followed by AwaitDrain so the outbound queue stays
 * bounded, then one cli.Ping. One connection keeps order, so its Pong means the peer has
 * handled every message before it: the time to it is the time to deliver them all, not
 * only to write them. Round trips: cli.Ping / cli.Pong one at a time. Each phase stops at
 * its count or at --duration, whichever comes first, and reports what it did.
 */
import { Abandoned, AwaitDrain, Closed, Drained, NotConnected } from '@herald/net';
import { run, type Self } from '@herald/runtime';
import { performance } from 'node:perf_hooks';
import { expectTarget, peekSettings, splitArguments, type Command } from '../args.js';
import { clientHelp, clientSettings, open, quantile } from '../client.js';
import {
  DEFAULT_BENCH_BATCH,
  DEFAULT_BENCH_COUNT,
  DEFAULT_BENCH_DURATION_MS,
  DEFAULT_BENCH_ROUND_TRIPS,
  DEFAULT_BENCH_SIZE,
  MAX_BENCH_BATCH,
} from '../constants.js';
import { CliError } from '../errors.js';
import { Data, Ping, Pong, cliMessages } from '../messages.js';

const settings = {
  ...clientSettings,
  count: DEFAULT_BENCH_COUNT,
  size: DEFAULT_BENCH_SIZE,
  roundTrips: DEFAULT_BENCH_ROUND_TRIPS,
  duration: DEFAULT_BENCH_DURATION_MS,
  batch: DEFAULT_BENCH_BATCH,
  json: false,
};
type BenchSettings = typeof settings;

function check(s: BenchSettings) {
  const counts = { count: s.count, roundTrips: s.roundTrips, batch: s.batch };
  for (const [name, value] of Object.entries(counts))
    if (!Number.isInteger(value) || value < 0)
      throw new CliError('HERALD_ERR_CLI_USAGE', `--${name} must be a whole number`);
  if (s.batch < 1 || s.batch > MAX_BENCH_BATCH)
    throw new CliError('HERALD_ERR_CLI_USAGE', `--batch must be 1 to ${MAX_BENCH_BATCH}`);
  if (!Number.isInteger(s.size) || s.size < 0)
    throw new CliError('HERALD_ERR_CLI_USAGE', '--size must be a whole number of bytes');
  if (!(s.duration > 0)) throw new CliError('HERALD_ERR_CLI_USAGE', '--duration must be > 0');
  if (s.count === 0 && s.roundTrips === 0)
    throw new CliError('HERALD_ERR_CLI_USAGE', 'nothing to do: --count and --round-trips are 0');
}

/** Round to `digits` decimals. */
function round(value: number, digits = 0) {
  const scale = 10 ** digits;
  return Math.round(value * scale) / scale;
}

export const benchCommand: Command = {
  name: 'bench',
  synopsis: 'bench <host:port>',
  summary: 'one-way msgs/s and round-trip min/p50/p99 against herald listen',
  run(args) {
    const split = splitArguments(args, settings);
    const target = expectTarget('bench', split);
    // Sends that never left (a full mailbox, say) are dead letters: counted, not claimed.
    let dropped = 0;
    // Checked before run(): a bad value is a usage error (exit 2), not a fault (exit 1).
    if (!split.help) check(peekSettings(split.flags, settings));
    return run(
      async function bench(self: Self, s: BenchSettings) {
        const opened = await open(self, target, s);
        if (NotConnected.is(opened)) return opened;
        const server = self.returnAddress;
        const report: Record<string, unknown> = { handshakeUs: opened.handshakeUs };
        if (!s.json) process.stdout.write(`handshake ${opened.handshakeUs} µs\n`);

        if (s.count > 0) {
          const payload = new Uint8Array(s.size);
          const started = performance.now();
          let sent = 0;
          while (sent < s.count && performance.now() - started < s.duration) {
            const end = Math.min(s.count, sent + s.batch);
            for (; sent < end; sent++) self.send(server, Data({ seq: sent, payload }));
            const state = await self.ask(server, AwaitDrain(), Drained, Closed, Abandoned);
            if (!Drained.is(state)) return state;
          }
          self.send(server, Ping({ seq: sent }));
          // The peer may still hold a backlog: give it the whole phase's bound on top.
          const done = await self.receive(Pong, Abandoned, { timeout: s.timeout + s.duration });
          if (!Pong.is(done)) return done;
          const seconds = (performance.now() - started) / 1000;
          const delivered = sent - dropped;
          const perSecond = delivered / seconds;
          const mibPerSecond = (perSecond * s.size) / (1 << 20);
          Object.assign(report, {
            oneWay: {
              messages: delivered,
              dropped,
              bytes: s.size,
              ms: round(seconds * 1000),
              perSecond: round(perSecond),
              mibPerSecond: round(mibPerSecond, 2),
            },
          });
          if (!s.json)
            process.stdout.write(
              `one-way ${delivered} msgs of ${s.size} B in ${round(seconds * 1000)} ms: ` +
                `${round(perSecond)} msgs/s, ${round(mibPerSecond, 2)} MiB/s` +
                `${dropped === 0 ? '' : ` (${dropped} dropped as dead letters)`}\n`,
            );
        }

        if (s.roundTrips > 0) {
          const times: number[] = [];
          const started = performance.now();
          for (let seq = 0; seq < s.roundTrips; seq++) {
            if (performance.now() - started >= s.duration) break;
            const sent = performance.now();
            self.send(server, Ping({ seq }));
            const answer = await self.receive(Pong, Abandoned, { timeout: s.timeout });
            if (!Pong.is(answer)) return answer;
            times.push((performance.now() - sent) * 1000);
          }
          times.sort((a, b) => a - b);
          const [min, p50, p99] = [times[0] as number, quantile(times, 0.5), quantile(times, 0.99)];
          report['roundTrip'] = {
            count: times.length,
            minUs: round(min),
            p50Us: round(p50),
            p99Us: round(p99),
          };
          if (!s.json)
            process.stdout.write(
              `round-trip ${times.length}: min ${round(min)} µs, p50 ${round(p50)} µs, ` +
                `p99 ${round(p99)} µs\n`,
            );
        }
        return s.json ? JSON.stringify(report) : undefined;
      },
      {
        name: 'herald bench <host:port>',
        description:
          'Measures against a peer that takes cli.Data and answers cli.Ping (herald listen): ' +
          'one way, --count messages of --size bytes (msgs/s, counted until the peer has ' +
          'handled them all), then --round-trips Ping/Pong (min, p50, p99 in µs). Each phase ' +
          'stops at --duration ms with what it measured. --json prints one JSON object ' +
          'instead. Exit codes: 0 ok, 1 cannot connect, connection lost or no answer in ' +
          '--timeout, 2 usage error.',
        settings,
        help: {
          ...clientHelp,
          count: 'one-way messages to send (0: skip the phase)',
          size: 'payload bytes per one-way message',
          roundTrips: 'round trips to time (0: skip the phase)',
          duration: 'ms bound on each phase',
          batch: `one-way messages between waits for the connection to drain (at most ${MAX_BENCH_BATCH})`,
          json: 'print the results as one JSON object',
        },
        messages: cliMessages,
        argv: split.flags,
        // Congestion is what a flood is expected to cause, not a warning for the user.
        logLevel: 'error',
        onRuntime(runtime) {
          runtime.onDeadLetter((dead) => {
            if (Data.is(dead.message)) dropped++;
          });
        },
      },
    );
  },
};
