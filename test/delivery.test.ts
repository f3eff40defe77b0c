/**
 * Delivery semantics over a real connection (issue 10): the AwaitDrain pacing loop from
 * docs/networking.md loses nothing when the controller itself asks (it used to get a spare,
 * stale Drained that answered its next AwaitDrain at once), and a schema-invalid message is
 * one refused message (a dead letter), not a closed connection.
 */
import { defineMessage, t } from '@herald/codec';
import {
  Abandoned,
  AwaitDrain,
  Closed,
  Connected,
  Drained,
  Listening,
  NotConnected,
  NotListening,
  connect,
  listen,
} from '@herald/net';
import { Stop, type Self } from '@herald/runtime';
import { closeTestRuntimes, testRuntime } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';

const Big = defineMessage('test.Big', { seq: t.int(), data: t.bytes() });
const Ask = defineMessage('test.Ask', { n: t.int() });
const Reply = defineMessage('test.Reply', { n: t.int() });
/** The same name on both sides with different schemas: the client's does not validate there. */
const ShapeHere = defineMessage('test.Shape', { n: t.string() });
const ShapeThere = defineMessage('test.Shape', { n: t.int() });

const WAIT_MS = 10_000;
const MESSAGE_BYTES = 1024 * 1024;
const ROUNDS = 6;

afterEach(closeTestRuntimes);

/** Listens, counts Big messages and answers Ask; reports its port through `ready`. */
function server(ready: (port: number) => void) {
  return async (self: Self) => {
    listen(self, { host: '127.0.0.1', port: 0 });
    const l = await self.receive(Listening, NotListening);
    if (NotListening.is(l)) return l;
    ready(l.listening.port);
    let bigs = 0;
    for (;;) {
      const m = await self.receive(Big, Ask, Stop, { save: [] });
      if (Stop.is(m)) return bigs;
      if (Big.is(m)) bigs++;
      else self.reply(Reply({ n: m.n }));
    }
  };
}

describe('delivery', () => {
  it('delivery - the AwaitDrain pacing loop, asked by the controller itself, loses no 1 MiB message', async () => {
    const far = testRuntime({ name: 'far', messages: [Big, Ask, Reply] });
    let port!: (p: number) => void;
    const listening = new Promise<number>((resolve) => (port = resolve));
    const serverAddress = far.spawn(server(port));
    const near = testRuntime({ name: 'near', messages: [Big, Ask, Reply] });
    const p = await listening;
    const value = await near.run(async (self: Self) => {
      // The pending bound holds one message and a little: a second one queued on a stale
      // Drained would be over it and become a dead letter.
      connect(
        self,
        { host: '127.0.0.1', port: p },
        {
          highWaterBytes: 256 * 1024,
          lowWaterBytes: 64 * 1024,
          maxPendingBytes: MESSAGE_BYTES + 512 * 1024,
        },
      );
      const c = await self.receive(Connected, NotConnected, { timeout: WAIT_MS });
      if (!Connected.is(c)) return c;
      const data = new Uint8Array(MESSAGE_BYTES).fill(7);
      for (let seq = 0; seq < ROUNDS; seq++) {
        self.send(c.remote, Big({ seq, data }));
        const state = await self.ask(c.remote, AwaitDrain(), Drained, Closed, Abandoned, {
          timeout: WAIT_MS,
        });
        if (!Drained.is(state)) return state;
      }
      // Everything before this answer has been delivered in order.
      return self.ask(c.remote, Ask({ n: 1 }), Reply, { timeout: WAIT_MS });
    });
    expect(value).toEqual({ type: Reply.type, n: 1 });
    far.stop(serverAddress);
    expect(await far.completion(serverAddress)).toBe(ROUNDS);
    // Nothing was lost (the controller's unread Congested notices, saved during its asks,
    // are dropped when it ends: those are not messages it sent).
    const lost = near.deadLetters.entries.filter((d) => d.message.type !== 'herald.Congested');
    expect(lost.map((d) => `${d.message.type} ${d.reason}`)).toEqual([]);
  });

  it('delivery - a schema-invalid message is refused alone (a dead letter there); the connection stays up', async () => {
    const far = testRuntime({ name: 'far', messages: [Ask, Reply, ShapeThere] });
    let port!: (p: number) => void;
    const listening = new Promise<number>((resolve) => (port = resolve));
    far.spawn(server(port));
    const near = testRuntime({ name: 'near', messages: [Ask, Reply, ShapeHere] });
    const p = await listening;
    const value = await near.run(async (self: Self) => {
      connect(self, { host: '127.0.0.1', port: p });
      const c = await self.receive(Connected, NotConnected, { timeout: WAIT_MS });
      if (!Connected.is(c)) return c;
      self.send(c.remote, ShapeHere({ n: 'not a number' }));
      return self.ask(c.remote, Ask({ n: 2 }), Reply, Closed, Abandoned, { timeout: WAIT_MS });
    });
    expect(value).toEqual({ type: Reply.type, n: 2 });
    const refused = await far.deadLetters.next((d) => d.reason === 'refused', {
      timeoutMs: WAIT_MS,
    });
    expect(refused.message.type).toBe('test.Shape');
    expect(refused.detail).toMatch(/HERALD_ERR_SCHEMA/);
  });
});
