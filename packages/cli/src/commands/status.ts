/**
 * `herald status host:port`: one look at a running process through its management
 * endpoint: what it is, its connections, groups and actors. Optionally changes its log
 * level (`--set-log-level`) or closes one of its connections (`--disconnect`) first.
 */
import {
  DisconnectPeer,
  GetSnapshot,
  LogLevelSet,
  PeerDisconnected,
  SetLogLevel,
  Snapshot,
  askManagement,
  managementMessages,
} from '@herald/management';
import { run, type Self } from '@herald/runtime';
import { expectTarget, splitArguments, type Command } from '../args.js';
import {
  NotConnected,
  checkOperatorFlags,
  connectOperator,
  operatorHelp,
  operatorSettings,
} from '../operator.js';
import { renderSnapshot } from '../render.js';

const settings = { ...operatorSettings, json: false, setLogLevel: '', disconnect: '' };

export const statusCommand: Command = {
  name: 'status',
  synopsis: 'status <host:port>',
  summary: "a running process's status, connections, groups and actors (management endpoint)",
  run(args) {
    const split = splitArguments(args, settings);
    const target = expectTarget('status', split);
    checkOperatorFlags(split, settings);
    return run(
      async function status(self: Self, s: typeof settings) {
        const endpoint = await connectOperator(self, target, s);
        if (NotConnected.is(endpoint)) return endpoint;
        const timeout = { timeout: s.timeout };
        if (s.setLogLevel !== '') {
          const set = await askManagement(
            self,
            endpoint,
            SetLogLevel({ level: s.setLogLevel }),
            timeout,
          );
          if (!LogLevelSet.is(set)) return set;
          process.stderr.write(`log level ${set.previous} → ${set.level}\n`);
        }
        if (s.disconnect !== '') {
          const done = await askManagement(
            self,
            endpoint,
            DisconnectPeer({ connection: s.disconnect, reason: 'herald status --disconnect' }),
            timeout,
          );
          if (!PeerDisconnected.is(done)) return done;
          process.stderr.write(
            done.disconnected
              ? `disconnected ${done.connection}\n`
              : `no connection ${done.connection}\n`,
          );
        }
        const snapshot = await askManagement(
          self,
          endpoint,
          GetSnapshot({ limit: s.limit }),
          timeout,
        );
        if (!Snapshot.is(snapshot)) return snapshot;
        if (s.json) {
          const { type: _type, ...fields } = snapshot;
          return JSON.stringify(fields);
        }
        return renderSnapshot(snapshot, { at: Date.now() }).join('\n');
      },
      {
        name: 'herald status <host:port>',
        description:
          "Connects to a process's management endpoint (docs/management.md) as an operator " +
          'and prints its status, connections, groups and actors (--json: the raw snapshot). ' +
          '--set-log-level changes its log level and --disconnect closes one of its ' +
          'connections (by the ADDRESS status lists) before the snapshot. Exit codes: 0 ok, ' +
          '1 cannot connect (refused, not-authorized, peer-key-mismatch), no answer in ' +
          '--timeout, or the request failed; 2 usage error.',
        settings,
        help: {
          ...operatorHelp,
          json: 'print the snapshot as one JSON object',
          setLogLevel: 'first set the process log level (debug, info, warn, ...)',
          disconnect: 'first close this connection (its ADDRESS, e.g. <0000000c>)',
        },
        messages: managementMessages,
        argv: split.flags,
      },
    );
  },
};
