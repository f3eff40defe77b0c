/**
 * Fairness and end-to-end backpressure: a remote sender feeding an actor whose mailbox is
 * full is slowed (its connection stops being read) instead of its messages being dropped,
 * and control notices reach a controller whatever its mailbox holds.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { Any, type Self } from '@herald/runtime';
import {
  closeTestRuntimes,
  testRuntime,
  waitFor,
  withTimeout,
  Hello,
  Welcome,
} from '@herald/testing';
import { Accepted, Connected, connect, listen, Listening } from '../src/index.js';

afterEach(closeTestRuntimes);

describe('hostile - fairness instead of drops', () => {
  it('a busy remote actor slows its sender: 3,000 messages into a 64-message mailbox, none dropped', async () => {
    const server = testRuntime({ name: 'server', mailboxCapacity: 64 });
    let release!: () => void;
    const busy = new Promise<void>((resolve) => (release = resolve));
    let received = 0;
    let listening!: (port: number) => void;
    const port = new Promise<number>((resolve) => (listening = resolve));
    const sinkAddress = server.spawn(async function sink(self: Self) {
      listen(self, { port: 0 });
      const l = await self.receive(Listening);
      listening(l.listening.port);
      await busy; // not receiving: the mailbox fills
      while (received < 3_000) {
        const m = await self.receive(Hello, Accepted);
        if (Hello.is(m)) received++;
      }
      return received;
    });
    const done = server.completion(sinkAddress);
    const client = testRuntime({ name: 'client' });
    const p = await port;
    client.spawn(async function flood(self: Self) {
      connect(self, { host: '127.0.0.1', port: p });
      const c = await self.receive(Connected);
      for (let i = 0; i < 3_000; i++) self.send(c.remote, Hello({ myName: `n${i}` }));
      await self.receive(Any);
    });
    // The flood arrives while the sink is not reading: the connection pauses at half the
    // mailbox, and the mailbox never overflows.
    await waitFor(() => (server.mailboxLoad(sinkAddress)?.queued ?? 0) >= 32, {
      what: 'the sink mailbox to reach its inbound share',
    });
    expect(server.mailboxLoad(sinkAddress)?.queued).toBeLessThanOrEqual(64);
    release();
    expect(await withTimeout(done, 20_000, 'every message at the sink')).toBe(3_000);
    expect(server.deadLetters.entries.filter((d) => d.reason === 'mailbox-full')).toEqual([]);
  });

  it('Accepted reaches a controller whose mailbox is full', async () => {
    const server = testRuntime({ name: 'server', mailboxCapacity: 4 });
    let port!: (p: number) => void;
    const listeningPort = new Promise<number>((resolve) => (port = resolve));
    let proceed!: () => void;
    const full = new Promise<void>((resolve) => (proceed = resolve));
    const result = server.run(async function controller(self: Self) {
      listen(self, { port: 0 });
      const l = await self.receive(Listening);
      // Fill the mailbox with local traffic, then let a client connect.
      for (let i = 0; i < 8; i++) self.send(self.address, Welcome({ yourName: 'x', myName: 'y' }));
      port(l.listening.port);
      await full;
      for (;;) {
        const m = await self.receive(Any);
        if (Accepted.is(m)) return 'accepted';
      }
    });
    const client = testRuntime({ name: 'client' });
    const p = await listeningPort;
    const connected = client.run(async function dial(self: Self) {
      connect(self, { host: '127.0.0.1', port: p });
      return (await self.receive(Connected)).type;
    });
    expect(await withTimeout(connected, 5_000, 'Connected')).toBe(Connected.type);
    proceed();
    expect(await withTimeout(result, 5_000, 'Accepted at the controller')).toBe('accepted');
  });
});
