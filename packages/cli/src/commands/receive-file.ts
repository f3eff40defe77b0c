/**
 * `herald receive-file --listen port --dir <dir>`: receives files sent by `herald
 * send-file` into one directory (and nowhere else: a peer's file name is a plain name),
 * with progress on stderr and one `received` line per file on stdout.
 */
import {
  Abandoned,
  Accepted,
  Closed,
  Listening,
  NotListening,
  listen,
  sessionOf,
} from '@herald/net';
import {
  DEFAULT_MAX_TRANSFER_BYTES,
  TransferCompleted,
  TransferFailed,
  TransferProgress,
  spawnFileReceiver,
  transferMessages,
  transferSession,
} from '@herald/patterns';
import { Stop, run, type Self } from '@herald/runtime';
import { stat } from 'node:fs/promises';
import {
  expectPositionals,
  parseHostPort,
  peekSettings,
  splitArguments,
  type Command,
} from '../args.js';
import { serverHelp, serverOptions, serverSettings } from '../client.js';
import { DEFAULT_LISTEN_HOST, DEFAULT_PROGRESS_BYTES } from '../constants.js';
import { CliError } from '../errors.js';
import { ProgressView } from '../progress.js';

const settings = {
  ...serverSettings,
  listen: '0',
  host: DEFAULT_LISTEN_HOST,
  dir: '',
  overwrite: false,
  maxBytes: DEFAULT_MAX_TRANSFER_BYTES,
  count: 0,
  progressBytes: DEFAULT_PROGRESS_BYTES,
};
type ReceiveSettings = typeof settings;

async function receiveFiles(self: Self, s: ReceiveSettings) {
  const receiver = spawnFileReceiver(self, {
    directory: s.dir,
    overwrite: s.overwrite,
    maxBytes: s.maxBytes,
    progressEveryBytes: s.progressBytes,
  });
  const at = /^\d+$/.test(s.listen)
    ? { host: s.host, port: Number(s.listen) }
    : parseHostPort(s.listen);
  listen(self, at, {
    ...(await serverOptions(s)),
    messages: transferMessages,
    session: sessionOf(transferSession, receiver),
  });
  const result = await self.receive(Listening, NotListening);
  if (NotListening.is(result)) return result;
  process.stdout.write(`listening on ${result.listening.host}:${result.listening.port}\n`);
  // One view per transfer: several may run at once, each with its own notices.
  const views = new Map<string, ProgressView>();
  let received = 0;
  for (;;) {
    const m = await self.receive(
      TransferProgress,
      TransferCompleted,
      TransferFailed,
      Accepted,
      Closed,
      Abandoned,
      Stop,
    );
    if (Stop.is(m)) return undefined;
    if (Accepted.is(m) || Closed.is(m) || Abandoned.is(m)) continue;
    if (TransferProgress.is(m)) {
      const view = views.get(m.id) ?? new ProgressView();
      views.set(m.id, view);
      view.update(m);
      continue;
    }
    views.get(m.id)?.done();
    views.delete(m.id);
    if (TransferFailed.is(m)) {
      // The sender hears the reason too; this side goes on receiving.
      process.stderr.write(
        `failed ${m.name}: ${m.reason}${m.detail === '' ? '' : ` (${m.detail})`}\n`,
      );
      continue;
    }
    process.stdout.write(`received ${m.name} ${m.size} B sha256 ${m.sha256} ${m.path ?? ''}\n`);
    received++;
    if (s.count > 0 && received >= s.count) return undefined;
  }
}

export const receiveFileCommand: Command = {
  name: 'receive-file',
  synopsis: 'receive-file --listen <port> --dir <dir>',
  summary: 'receive files from herald send-file into a directory, with progress',
  async run(args) {
    const split = splitArguments(args, settings);
    expectPositionals('receive-file', split, []);
    if (!split.help) {
      const s = peekSettings(split.flags, settings);
      if (s.dir === '') throw new CliError('HERALD_ERR_CLI_USAGE', '--dir is required');
      const info = await stat(s.dir).catch(() => undefined);
      if (info === undefined || !info.isDirectory())
        throw new CliError('HERALD_ERR_CLI_USAGE', `--dir ${s.dir}: not a directory`);
      if (!Number.isInteger(s.count) || s.count < 0)
        throw new CliError('HERALD_ERR_CLI_USAGE', '--count must be a whole number');
    }
    return run(receiveFiles, {
      name: 'herald receive-file',
      description:
        'Listens (--listen: a port, or host:port) and receives files sent by herald ' +
        'send-file into --dir, nowhere else; partial files wait in --dir/.herald-partial ' +
        'and a sender that reconnects resumes. Prints `listening on host:port`, progress on ' +
        'stderr (a bar on a terminal, `progress` lines otherwise), and `received NAME SIZE B ' +
        'sha256 HEX PATH` per file. Runs until Ctrl-C, or --count files. Exit codes: 0 ' +
        'stopped or --count reached, 1 cannot listen, 2 usage error (no --dir, not a ' +
        'directory).',
      settings,
      help: {
        ...serverHelp,
        listen: 'port (or host:port) to listen on; 0: any free port, printed',
        host: 'address to listen on when --listen gives only a port',
        dir: 'directory the files go to (required)',
        overwrite: 'replace a file of the same name (otherwise the transfer fails: exists)',
        maxBytes: 'largest file accepted',
        count: 'exit after this many files (0: until Ctrl-C)',
        progressBytes: 'a progress notice at least every this many bytes',
      },
      messages: transferMessages,
      argv: split.flags,
    });
  },
};
