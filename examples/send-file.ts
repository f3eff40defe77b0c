/**
 * Sends one file to a receive-file server, showing progress; exits 0 once the receiver has
 * the whole file with the same sha256, non-zero with the reason otherwise.
 *
 *   node --import tsx examples/receive-file.ts --dir=./inbox --port=32020
 *   node --import tsx examples/send-file.ts --port=32020 --file=./some.iso
 *
 * The connection is a group member: if it drops, it comes back (with backoff) and the
 * transfer resumes from what the receiver has. Run the same command again after killing
 * this process and it resumes too (the transfer id comes from the file's path, size and
 * modification time). Flags: --host --port --file (required) --name (the name at the
 * receiver; default the file's) --ready-ms (how long to wait for the server).
 */
import { GroupUpdate, NotReady, Ready, connectTo, createGroup, groupTable } from '@herald/net';
import { Completed, TimedOut, run, type Address, type Self } from '@herald/runtime';
import {
  TransferCompleted,
  TransferFailed,
  TransferProgress,
  sendFile,
  transferMessages,
} from '@herald/patterns';

const settings = { host: '127.0.0.1', port: 32020, file: '', name: '', readyMs: 10_000 };

/** `42.0% (44040192 of 104857600 bytes)`, or the byte count when the size is not known. */
function describeProgress(bytes: number, size: number | undefined): string {
  return size === undefined || size === 0
    ? `${bytes} bytes`
    : `${((100 * bytes) / size).toFixed(1)}% (${bytes} of ${size} bytes)`;
}

async function sendFileMain(self: Self, s: typeof settings) {
  if (s.file === '') return 'give a file to send: --file=./some.iso';
  const group = createGroup(
    self,
    groupTable({
      receiver: connectTo({ host: s.host, port: s.port }, { messages: transferMessages }),
    }),
    { getReadyMs: s.readyMs },
  );
  let started = false;
  for (;;) {
    const m = await self.receive(
      GroupUpdate,
      Ready,
      NotReady,
      TimedOut,
      Completed,
      TransferProgress,
      TransferCompleted,
      TransferFailed,
    );
    if (GroupUpdate.is(m)) {
      group.update(m);
      if (!started && group.receiver !== undefined) {
        started = true;
        sendFile(self, group.receiver as Address, s.file, s.name === '' ? {} : { name: s.name });
      }
    } else if (NotReady.is(m))
      console.log(`connection lost (${m.reason ?? 'unknown'}): will resume`);
    else if (TransferProgress.is(m)) {
      const resumed = m.resumes > 0 ? ` (resumed ${m.resumes}x)` : '';
      console.log(`sending ${m.name}: ${describeProgress(m.bytes, m.size)}${resumed}`);
    } else if (TransferCompleted.is(m)) {
      console.log(`sent ${m.name}: ${m.size} bytes, sha256 ${m.sha256}`);
      return undefined;
    } else if (TransferFailed.is(m))
      return m; // a fault: printed, exit code non-zero
    else if (TimedOut.is(m)) return m;
    else if (Completed.is(m)) return m.value;
  }
}

await run(sendFileMain, {
  name: 'send-file',
  description: 'Sends a file to a receive-file server, with progress and resumption.',
  settings,
  help: {
    file: 'the file to send',
    name: 'the name at the receiver (default: the file name)',
    readyMs: 'how long to wait for the server before giving up',
  },
  messages: transferMessages,
});
