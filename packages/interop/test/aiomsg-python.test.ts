/**
 * Herald against the Python reference of aiomsg (vendored in test/reference, run with the
 * machine's python3 and no install). Skipped, with a note on stderr, when python3 (3.8+)
 * is absent.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import { Recorder, closeTestRuntimes, freePort, spawnProbe, testRuntime } from '@herald/testing';
import {
  AiomsgBound,
  AiomsgDelivered,
  AiomsgPeerJoined,
  AiomsgReceived,
  AiomsgSend,
  aiomsgSocketBehavior,
  type AiomsgSocketOptions,
} from '../src/index.js';

const REFERENCE = join(dirname(fileURLToPath(import.meta.url)), 'reference');
const python = spawnSync('python3', ['-c', 'import sys; assert sys.version_info >= (3, 8)'], {
  encoding: 'utf8',
});
const havePython = python.status === 0;
if (!havePython) {
  process.stderr.write(
    'NOTE: python3 (3.8+) not found: the aiomsg Python reference tests are skipped\n',
  );
}

const children: ChildProcess[] = [];
afterEach(async () => {
  for (const c of children.splice(0)) if (c.exitCode === null) c.kill('SIGKILL');
  await closeTestRuntimes();
});

interface Agent {
  readonly lines: Recorder<string>;
  readonly exited: Promise<number | null>;
}

function agent(args: Record<string, string | number>): Agent {
  const argv = Object.entries(args).flatMap(([k, v]) => [`--${k}`, String(v)]);
  const child = spawn('python3', [join(REFERENCE, 'python_agent.py'), ...argv], {
    env: { ...process.env, PYTHONPATH: REFERENCE },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.push(child);
  const lines = new Recorder<string>('python stdout', (l) => l);
  let rest = '';
  child.stdout?.on('data', (chunk: Buffer) => {
    const parts = (rest + chunk.toString()).split('\n');
    rest = parts.pop() ?? '';
    for (const p of parts) lines.record(p);
  });
  let stderr = '';
  child.stderr?.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  const exited = new Promise<number | null>((resolve) =>
    child.once('exit', (code) => {
      if (code !== 0) process.stderr.write(`python agent exited ${code}: ${stderr}\n`);
      resolve(code);
    }),
  );
  return { lines, exited };
}

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const WAIT = 20_000;

async function heraldSocket(
  options:
    | (Partial<AiomsgSocketOptions> & Pick<AiomsgSocketOptions, 'bind'>)
    | Partial<AiomsgSocketOptions>,
) {
  const rt = testRuntime();
  const probe = await spawnProbe(rt, 'owner');
  const socket = rt.spawn(
    aiomsgSocketBehavior({ owner: probe.address, ...options } as AiomsgSocketOptions),
  );
  return { rt, probe, socket };
}

describe.skipIf(!havePython)('Herald and the aiomsg Python reference', () => {
  for (const deliveryGuarantee of ['at-most-once', 'at-least-once'] as const) {
    it(`Herald connects and sends (round-robin, ${deliveryGuarantee}); a Python bind sink receives each once`, async () => {
      const port = await freePort();
      const sink = agent({ role: 'bind', port, behavior: 'sink', count: 3 });
      const h = await heraldSocket({
        connect: { host: '127.0.0.1', port },
        deliveryGuarantee,
        reconnectMs: 50,
      });
      await h.probe.next(AiomsgPeerJoined, undefined, WAIT);
      for (let i = 0; i < 3; i++) h.rt.send(h.socket, AiomsgSend({ payload: bytes(`h${i}`) }));
      for (let i = 0; i < 3; i++)
        expect(await sink.lines.next(() => true, { timeoutMs: WAIT })).toBe(`h${i}`);
      // The reference sink exits as soon as it has its count, before its ACKs (deferred by
      // 20 ms) go out, so Delivered is checked in the echo test below, not here.
      expect(await sink.exited).toBe(0);
      expect(sink.lines.entries).toEqual(['h0', 'h1', 'h2']);
    });

    it(`a Python connect source (${deliveryGuarantee}) sends to a Herald bind socket`, async () => {
      const h = await heraldSocket({ bind: { host: '127.0.0.1', port: 0 } });
      const { port } = (await h.probe.next(AiomsgBound)).message;
      const source = agent({
        role: 'connect',
        port,
        behavior: 'source',
        count: 3,
        prefix: 'py',
        delivery: deliveryGuarantee,
        linger: 0.5,
      });
      const got: string[] = [];
      for (let i = 0; i < 3; i++)
        got.push(
          Buffer.from(
            (await h.probe.next(AiomsgReceived, undefined, WAIT)).message.payload,
          ).toString(),
        );
      expect(got).toEqual(['py0', 'py1', 'py2']);
      expect(await source.exited).toBe(0);
    });
  }

  it('a Herald bind socket publishes at least once to two Python connect sinks', async () => {
    const h = await heraldSocket({
      bind: { host: '127.0.0.1', port: 0 },
      sendMode: 'publish',
      deliveryGuarantee: 'at-least-once',
    });
    const { port } = (await h.probe.next(AiomsgBound)).message;
    const sinks = [0, 1].map(() => agent({ role: 'connect', port, behavior: 'sink', count: 2 }));
    await h.probe.next(AiomsgPeerJoined, undefined, WAIT);
    await h.probe.next(AiomsgPeerJoined, undefined, WAIT);
    for (const s of ['all-0', 'all-1']) h.rt.send(h.socket, AiomsgSend({ payload: bytes(s) }));
    for (const sink of sinks) {
      expect(await sink.exited).toBe(0);
      expect(sink.lines.entries).toEqual(['all-0', 'all-1']);
    }
  });

  it('a Python echo peer (publish) answers Herald by identity, Herald at-least-once', async () => {
    const h = await heraldSocket({
      bind: { host: '127.0.0.1', port: 0 },
      sendMode: 'identity',
      deliveryGuarantee: 'at-least-once',
    });
    const { port } = (await h.probe.next(AiomsgBound)).message;
    const identity = 'aa'.repeat(16);
    const echo = agent({
      role: 'connect',
      port,
      behavior: 'echo',
      count: 2,
      'send-mode': 'publish',
      identity,
      linger: 0.5,
    });
    expect((await h.probe.next(AiomsgPeerJoined, undefined, WAIT)).message.identity).toBe(identity);
    for (const s of ['ping-1', 'ping-2'])
      h.rt.send(h.socket, AiomsgSend({ payload: bytes(s), identity }));
    const back = [
      await h.probe.next(AiomsgReceived, undefined, WAIT),
      await h.probe.next(AiomsgReceived, undefined, WAIT),
    ];
    expect(back.map((r) => Buffer.from(r.message.payload).toString())).toEqual([
      'ping-1',
      'ping-2',
    ]);
    expect(back.every((r) => r.message.identity === identity)).toBe(true);
    await h.probe.next(AiomsgDelivered, undefined, WAIT);
    await h.probe.next(AiomsgDelivered, undefined, WAIT);
    expect(await echo.exited).toBe(0);
  });
});
