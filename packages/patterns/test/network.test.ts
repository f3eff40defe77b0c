/**
 * At-least-once over real connections (127.0.0.1, port 0): by proven identity across a
 * reconnect, with a listener's Accepted / Abandoned feeding the peer set, and through a
 * relay (A → B → C, B passing the frames on without decoding them).
 */
import { defineMessage, t, type Address, type AnyMessage } from '@herald/codec';
import {
  Accepted,
  Connected,
  Listening,
  close,
  connect,
  createIdentity,
  formatPublicKey,
  listen,
} from '@herald/net';
import { Recorder, closeTestRuntimes, spawnProbe, testRuntime, type Probe } from '@herald/testing';
import type { Self } from '@herald/runtime';
import { afterEach, describe, expect, it } from 'vitest';
import { createInbox, type Inbox } from '../src/inbox.js';
import { Delivered, Reliable, patternMessages } from '../src/messages.js';
import { createOutlet, type Outlet } from '../src/outlet.js';
import { Job } from './support.js';

afterEach(closeTestRuntimes);

const Here = defineMessage('test.Here', { address: t.address() });
const messages = [Job, Here, ...patternMessages];

interface Client {
  readonly probe: Probe;
  readonly accepted: Recorder<AnyMessage>;
}

/**
 * A receiving actor: accepts Reliable through an inbox, except transmissions `drop` says
 * were lost; `onReliable` may act first (close the connection, say).
 */
async function receiver(
  drop: (m: Reliable) => boolean = () => false,
  onStart: (self: Self) => void = () => undefined,
  onReliable: (self: Self, m: Reliable) => void = () => undefined,
  announce = false,
): Promise<Client> {
  const runtime = testRuntime({ messages });
  const accepted = new Recorder<AnyMessage>('accepted');
  let inbox: Inbox | undefined;
  const probe = await spawnProbe(runtime, {
    name: 'receiver',
    onStart: (self) => {
      inbox = createInbox(self);
      onStart(self);
    },
    onMessage: (message, self, envelope) => {
      // Tell each client where this receiving actor is (relayed addresses start from it).
      if (announce && Accepted.is(message))
        self.send(message.remote, Here({ address: self.address }));
      if (!Reliable.is(message)) return;
      onReliable(self, message);
      if (drop(message)) return;
      const result = inbox?.accept(self, message, envelope);
      if (result !== undefined) accepted.record(result.message);
    },
  });
  return { probe, accepted };
}

async function sender(
  onStart: (self: Self, outlet: Outlet) => void,
): Promise<{ probe: Probe; outlet: Outlet }> {
  const runtime = testRuntime({ messages });
  let outlet: Outlet | undefined;
  const probe = await spawnProbe(runtime, {
    name: 'sender',
    onStart: (self) => {
      outlet = createOutlet(self, { delivery: 'at-least-once', confirm: true, ackTimeoutMs: 200 });
      onStart(self, outlet);
    },
    onMessage: (message) => {
      outlet?.observe(message);
    },
  });
  return { probe, outlet: outlet! };
}

describe('at-least-once over connections', () => {
  it('by proven identity, across a reconnect: the message in flight when the connection dropped arrives once', async () => {
    const serverIdentity = createIdentity();
    const clientIdentity = createIdentity();
    const clientKey = formatPublicKey(clientIdentity.publicKey);
    const server = await sender((self) => {
      listen(self, { host: '127.0.0.1', port: 0 }, { identity: serverIdentity, messages });
    });
    const { listening } = (await server.probe.next(Listening)).message;

    // The client closes its connection on the first transmission of Job 2 without accepting it.
    let remote: Address | undefined;
    const client = await receiver(
      (m) => Job.is(m.body) && m.body.n === 2 && m.attempt === 1,
      () => undefined,
      (self, m) => {
        if (Job.is(m.body) && m.body.n === 2 && m.attempt === 1 && remote !== undefined) {
          close(self, remote);
        }
      },
    );
    const dial = (): void => {
      connect(client.probe.self, listening, {
        identity: clientIdentity,
        peerKey: formatPublicKey(serverIdentity.publicKey),
        messages,
      });
    };
    dial();
    remote = (await client.probe.next(Connected)).message.remote;
    await server.probe.next(Accepted, (m) => m.peerKey === clientKey);

    server.outlet.send(Job({ n: 1 }), { identity: clientKey });
    await server.probe.next(Delivered);
    const second = server.outlet.send(Job({ n: 2 }), { identity: clientKey });
    await client.probe.recorder.waitFor(
      (r) =>
        Reliable.is(r.message) &&
        r.message.attempt === 1 &&
        Job.is(r.message.body) &&
        r.message.body.n === 2,
    );

    dial(); // a new connection, a new proxy, the same proven identity
    remote = (await client.probe.next(Connected)).message.remote;
    const delivered = await server.probe.next(Delivered, (d) => d.id === second);
    expect(delivered.message.messageType).toBe(Job.type);
    await client.accepted.waitFor((m) => Job.is(m) && m.n === 2);
    expect(client.accepted.entries.map((m) => (Job.is(m) ? m.n : -1))).toEqual([1, 2]);
  });

  it('through a relay: A reaches C through B, retransmits through it, and the ack comes back', async () => {
    let seen = 0;
    const c = await receiver(
      () => ++seen === 1,
      (self) => {
        listen(self, { host: '127.0.0.1', port: 0 }, { messages });
      },
      () => undefined,
      true,
    );
    const cAt = (await c.probe.next(Listening)).message.listening;

    // B: connects to C, learns C's receiving actor, listens for A and hands it that address.
    const bRuntime = testRuntime({ messages });
    let toC: Address | undefined;
    const b = await spawnProbe(bRuntime, {
      name: 'relay',
      onStart: (self) => {
        connect(self, cAt, { messages });
        listen(self, { host: '127.0.0.1', port: 0 }, { messages });
      },
      onMessage: (message, self) => {
        if (Here.is(message)) toC = message.address;
        if (Accepted.is(message) && toC !== undefined)
          self.send(message.remote, Here({ address: toC }));
      },
    });
    await b.waitFor(Here);
    const bAt = (await b.waitFor(Listening)).listening;

    const a = await sender((self) => {
      connect(self, bAt, { messages });
    });
    const here = (await a.probe.next(Here)).message;
    a.outlet.addPeer(here.address, { name: 'c' });
    // A's own connection to B is a peer too (its Connected was observed): send by name.
    const id = a.outlet.send(Job({ n: 5 }), { peer: 'c' });
    const delivered = await a.probe.next(Delivered);
    expect(delivered.message).toMatchObject({ id });
    expect(seen).toBe(2); // the first transmission was lost, the retransmission went through B
    expect(c.accepted.entries).toEqual([Job({ n: 5 })]);
  });
});
