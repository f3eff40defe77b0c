/**
 * Receives files: a listener whose peers reach a file receiver writing into one directory
 * (and nowhere else). Prints each transfer's progress and outcome; runs until Ctrl-C.
 *
 *   node --import tsx examples/receive-file.ts --dir=./inbox --port=32020
 *   node --import tsx examples/send-file.ts --port=32020 --file=./some.iso
 *
 * A transfer interrupted by a lost connection, or by this process being killed, resumes
 * from what is already on disk when the sender comes back (partial files wait in
 * `<dir>/.herald-partial/`). Flags: --host=127.0.0.1 --port=32020 (0: any free port,
 * printed) --dir (required) --max-bytes (largest file accepted) --overwrite.
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
import { Stop, run, type Self } from '@herald/runtime';
import {
  TransferCompleted,
  TransferFailed,
  TransferProgress,
  spawnFileReceiver,
  transferMessages,
  transferSession,
} from '@herald/patterns';

const settings = {
  host: '127.0.0.1',
  port: 32020,
  dir: '',
  maxBytes: 4 * 1024 * 1024 * 1024,
  overwrite: false,
};

/** `42.0% (44040192 of 104857600 bytes)`, or the byte count when the size is not known. */
function describeProgress(bytes: number, size: number | undefined): string {
  return size === undefined || size === 0
    ? `${bytes} bytes`
    : `${((100 * bytes) / size).toFixed(1)}% (${bytes} of ${size} bytes)`;
}

async function receiveFile(self: Self, s: typeof settings) {
  if (s.dir === '') return 'give a destination directory: --dir=./inbox';
  const receiver = spawnFileReceiver(self, {
    directory: s.dir,
    maxBytes: s.maxBytes,
    overwrite: s.overwrite,
    progressEveryBytes: 4 * 1024 * 1024,
  });
  listen(
    self,
    { host: s.host, port: s.port },
    { messages: transferMessages, session: sessionOf(transferSession, receiver) },
  );
  const up = await self.receive(Listening, NotListening);
  if (NotListening.is(up)) return up;
  console.log(`listening on ${up.listening.host}:${up.listening.port}`);
  let received = 0;
  let failed = 0;
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
    if (TransferProgress.is(m)) {
      const resumed = m.resumes > 0 ? ` (resumed ${m.resumes}x)` : '';
      console.log(`receiving ${m.name}: ${describeProgress(m.bytes, m.size)}${resumed}`);
    } else if (TransferCompleted.is(m)) {
      received += 1;
      console.log(`received ${m.name}: ${m.size} bytes, sha256 ${m.sha256}, at ${m.path ?? '?'}`);
    } else if (TransferFailed.is(m)) {
      failed += 1;
      console.log(`failed ${m.name}: ${m.reason} (${m.detail})`);
    } else if (Stop.is(m)) return { received, failed };
  }
}

await run(receiveFile, {
  name: 'receive-file',
  description: 'Receives files into one directory, with progress and resumption.',
  settings,
  help: {
    dir: 'destination directory (created when the first file arrives)',
    maxBytes: 'largest file accepted, in bytes',
    overwrite: 'replace a file of the same name',
  },
  messages: transferMessages,
});
