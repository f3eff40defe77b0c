/**
 * `herald send-file host:port <path>`: sends one file to `herald receive-file` (or any
 * receiver of @herald/patterns' transfer) with a progress bar, and prints what arrived:
 * name, size and the sha256 the receiver checked.
 */
import { NotConnected } from '@herald/net';
import {
  TransferCompleted,
  TransferFailed,
  TransferProgress,
  sendFile,
  transferMessages,
} from '@herald/patterns';
import { Aborted, Stop, run, type Self } from '@herald/runtime';
import { expectPositionals, parseHostPort, splitArguments, type Command } from '../args.js';
import { clientHelp, clientSettings, open } from '../client.js';
import { DEFAULT_PROGRESS_BYTES } from '../constants.js';
import { cliMessages } from '../messages.js';
import { ProgressView } from '../progress.js';

const settings = { ...clientSettings, name: '', progressBytes: DEFAULT_PROGRESS_BYTES };

export const sendFileCommand: Command = {
  name: 'send-file',
  synopsis: 'send-file <host:port> <path>',
  summary: 'send a file to herald receive-file, with a progress bar',
  run(args) {
    const split = splitArguments(args, settings);
    const [target = '', path = ''] = expectPositionals('send-file', split, ['host:port', 'path']);
    if (!split.help) parseHostPort(target);
    return run(
      async function sendOneFile(self: Self, s: typeof settings) {
        const opened = await open(self, target, s);
        if (NotConnected.is(opened)) return opened;
        const transfer = sendFile(self, self.returnAddress, path, {
          progressEveryBytes: s.progressBytes,
          ...(s.name === '' ? {} : { name: s.name }),
        });
        const view = new ProgressView();
        for (;;) {
          const m = await self.receive(TransferProgress, TransferCompleted, TransferFailed, Stop);
          if (TransferProgress.is(m)) {
            view.update(m);
            continue;
          }
          view.done();
          if (Stop.is(m)) {
            // Ctrl-C: cancel the transfer (the receiver removes the partial file).
            self.send(transfer, Stop());
            return Aborted();
          }
          if (TransferFailed.is(m)) {
            // The fault's own line says only "transfer failed": the reason comes first.
            const detail = m.detail === '' ? '' : ` (${m.detail})`;
            process.stderr.write(`failed ${m.name}: ${m.reason}${detail}\n`);
            return m;
          }
          return `sent ${m.name} ${m.size} B sha256 ${m.sha256}`;
        }
      },
      {
        name: 'herald send-file <host:port> <path>',
        description:
          'Sends the file at <path> to a receiver (herald receive-file) in acknowledged ' +
          'chunks, each checked by sha256, as is the whole. Shows a progress bar on stderr ' +
          '(a `progress` line per notice when stderr is not a terminal), then prints `sent ' +
          'NAME SIZE B sha256 HEX`. A transfer cut by a lost connection resumes when sent ' +
          'again. Exit codes: 0 sent, 1 cannot connect, the transfer failed (its reason: ' +
          'refused, exists, too-large, source-error, ...) or Ctrl-C, 2 usage error.',
        settings,
        help: {
          ...clientHelp,
          name: 'the name the receiver gives the file (default: the base name of <path>)',
          progressBytes: 'a progress notice at least every this many bytes',
        },
        messages: [...cliMessages, ...transferMessages],
        argv: split.flags,
      },
    );
  },
};
