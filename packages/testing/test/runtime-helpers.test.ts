/**
 * The memory logger, testRuntime, probes and the welcoming server, with real runtimes and
 * real sockets on 127.0.0.1.
 */
import { defineMessage, t } from '@herald/codec';
import { TestClock, type Self } from '@herald/runtime';
import { connect, Connected, Listening, listen } from '@herald/net';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeTestRuntimes,
  freePort,
  Hello,
  memoryLogger,
  spawnProbe,
  testRuntime,
  Welcome,
  welcomingServer,
} from '../src/index.js';

afterEach(closeTestRuntimes);

const Ping = defineMessage('test.Ping', { n: t.int() });

describe('memoryLogger', () => {
  it('memory logger - keeps parsed lines at its level and finds them', async () => {
    const log = memoryLogger('info');
    log.logger.debug('hidden');
    log.logger.info({ peer: 'p1' }, 'listening');
    log.logger.warn({ reason: 'x' }, 'rejected');
    expect(log.lines.map((l) => l.msg)).toEqual(['listening', 'rejected']);
    expect(log.find((l) => l.peer === 'p1')?.level).toBe(30);
    expect(log.withMessage('rejected', (l) => l.reason === 'x')).toHaveLength(1);
    const later = log.waitFor((l) => l.msg === 'closed', 'the close');
    log.logger.info('closed');
    await expect(later).resolves.toMatchObject({ msg: 'closed' });
    await expect(log.waitFor((l) => l.msg === 'never', 'never', 10)).rejects.toThrow(
      /waiting for log line: never/,
    );
  });
});

describe('testRuntime', () => {
  it('test runtime - logs into memory, records dead letters and is closed by closeTestRuntimes', async () => {
    const runtime = testRuntime({ name: 'r', logLevel: 'debug' });
    const actor = runtime.spawn(async (self: Self) => self.receive(Ping));
    runtime.send(actor, Hello({ myName: 'stray' }));
    runtime.send(actor, Ping({ n: 1 }));
    await runtime.completion(actor);
    const dead = await runtime.deadLetters.waitFor((d) => Hello.is(d.message));
    expect(dead.reason).toBe('unmatched');
    expect(runtime.log.withMessage('created').length).toBeGreaterThan(0);
    // The test messages are in the catalogue by default; `messages` replaces them.
    expect(runtime.catalogue.has(Hello.type)).toBe(true);
    expect(testRuntime({ messages: [Ping] }).catalogue.has(Hello.type)).toBe(false);
    await closeTestRuntimes();
    expect(runtime.closed).toBe(true);
  });

  it('test runtime - runs on the TestClock it is given', async () => {
    const runtime = testRuntime({ clock: new TestClock() });
    const fired: number[] = [];
    runtime.spawn(async (self: Self) => {
      await self.receive(Ping, { timeout: 1_000 });
      fired.push(runtime.clock.now());
    });
    await runtime.clock.advanceAsync(999);
    expect(fired).toEqual([]);
    await runtime.clock.advanceAsync(1);
    expect(fired).toEqual([1_000]);
  });
});

describe('probes and the welcoming server', () => {
  it('probe - a client probe connects to a welcoming server and gets its Welcome', async () => {
    const { server, port } = await welcomingServer(testRuntime({ name: 'server' }));
    const client = await spawnProbe(testRuntime({ name: 'client' }), 'client');
    connect(client.self, { host: '127.0.0.1', port });
    const { from } = await client.next(Connected);
    client.self.send(from, Hello({ myName: 'Gladys' }));
    const welcome = await client.next(Welcome);
    expect(welcome.message).toEqual({ type: Welcome.type, yourName: 'Gladys', myName: 'server' });
    expect(server.count(Hello)).toBe(1);
    expect(server.types()[0]).toBe(Listening.type);
    // next walks forward: nothing after the Welcome yet.
    await expect(client.next(Connected, () => true, 20)).rejects.toThrow(
      /waiting for herald\.Connected at client; client's inbox/,
    );
    // waitFor looks back.
    await expect(client.waitFor(Connected)).resolves.toMatchObject({ peer: { port } });
  });

  it('probe - onStart and onMessage let a probe act, and see each message before it is recorded', async () => {
    const seen: number[] = [];
    const port = await freePort();
    const probe = await spawnProbe(testRuntime(), {
      name: 'listener',
      onStart: (self) => listen(self, { port }),
      onMessage: (message) => {
        if (Ping.is(message)) seen.push(message.n);
      },
    });
    await probe.next(Listening);
    probe.self.send(probe.address, Ping({ n: 3 }));
    await probe.next(Ping);
    expect(seen).toEqual([3]);
  });

  it('welcoming server - rejects when it cannot listen', async () => {
    const { port } = await welcomingServer(testRuntime());
    await expect(welcomingServer(testRuntime(), { port })).rejects.toThrow(
      new RegExp(`cannot listen on ${port}`),
    );
  });
});
