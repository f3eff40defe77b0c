/**
 * Feeding the main actor of run() from outside any actor: onRuntime(runtime, main) is
 * called once the main actor exists, so input from stdin or another library's callbacks
 * reaches it with runtime.send(main, ...).
 */
import { defineMessage, t } from '@herald/codec';
import { run, type Self } from '@herald/runtime';
import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';

const Line = defineMessage('Line', { text: t.string() });

function sink() {
  const stream = new PassThrough();
  let text = '';
  stream.on('data', (chunk: Buffer) => (text += chunk.toString()));
  return { stream, text: () => text };
}

describe('run - input from outside', () => {
  it('onRuntime gets the runtime and the main actor’s address; what it sends, now or later, reaches the main actor', async () => {
    const stdout = sink();
    const stderr = sink();
    let exitCode: number | undefined;
    const code = await run(
      async (self: Self) => {
        const first = await self.receive(Line);
        const second = await self.receive(Line);
        return `${first.text}+${second.text}`;
      },
      {
        argv: [],
        stdout: stdout.stream,
        stderr: stderr.stream,
        exit: (c) => (exitCode = c),
        messages: [Line],
        onRuntime(runtime, main) {
          // Sent before the main actor's first receive: it waits in the mailbox.
          runtime.send(main, Line({ text: 'early' }));
          // As a callback from elsewhere would, on a later turn.
          setImmediate(() => runtime.send(main, Line({ text: 'later' })));
        },
      },
    );
    expect(code).toBe(0);
    expect(exitCode).toBe(0);
    expect(stdout.text()).toBe('early+later\n');
  });
});

describe('run - help', () => {
  it('--help names every log level, OBJECT included', async () => {
    const stdout = sink();
    await run(async () => undefined, {
      argv: ['--help'],
      stdout: stdout.stream,
      stderr: sink().stream,
      exit: () => undefined,
    });
    expect(stdout.text()).toMatch(/LEVEL: FAULT WARNING CONSOLE OBJECT DEBUG TRACE NONE/);
  });
});
