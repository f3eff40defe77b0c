/**
 * Two Herald aiomsg sockets over real TCP on 127.0.0.1 (port 0): every send mode and
 * delivery guarantee, in both directions, and a Herald message carried as msgpack.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { tcpTransport } from '@herald/net';
import { closeTestRuntimes, spawnProbe, testRuntime, type Probe } from '@herald/testing';
import {
  AiomsgBound,
  AiomsgClose,
  AiomsgDelivered,
  AiomsgMessage,
  AiomsgNotDelivered,
  AiomsgPeerJoined,
  AiomsgPeerLeft,
  AiomsgReceived,
  AiomsgSend,
  AiomsgSendMessage,
  aiomsgSocketBehavior,
  type AiomsgSocketOptions,
} from '../src/index.js';

afterEach(closeTestRuntimes);

const bytes = (s: string): Uint8Array => new Uint8Array(Buffer.from(s));
const text = (b: Uint8Array): string => Buffer.from(b).toString();

async function pair(options: Partial<AiomsgSocketOptions>, connectors = 2) {
  const bindRt = testRuntime();
  const binder = await spawnProbe(bindRt, 'binder');
  const bindSocket = bindRt.spawn(
    aiomsgSocketBehavior({
      bind: { host: '127.0.0.1', port: 0 },
      transport: tcpTransport,
      owner: binder.address,
      ...options,
    }),
  );
  const { port } = (await binder.next(AiomsgBound)).message;
  const clients: { probe: Probe; socket: ReturnType<typeof bindRt.spawn>; identity: string }[] = [];
  for (let i = 0; i < connectors; i++) {
    const rt = testRuntime();
    const probe = await spawnProbe(rt, `client-${i}`);
    const socket = rt.spawn(
      aiomsgSocketBehavior({
        connect: { host: '127.0.0.1', port },
        owner: probe.address,
        ...options,
      }),
    );
    await probe.next(AiomsgPeerJoined);
    const joined = await binder.next(AiomsgPeerJoined);
    clients.push({ probe, socket, identity: joined.message.identity });
  }
  const bindIdentity = (await clients[0]!.probe.waitFor(AiomsgPeerJoined)).identity;
  return { bindRt, binder, bindSocket, clients, bindIdentity };
}

const received = async (probe: Probe, n: number): Promise<string[]> => {
  const out: string[] = [];
  for (let i = 0; i < n; i++) out.push(text((await probe.next(AiomsgReceived)).message.payload));
  return out;
};

describe('two Herald aiomsg sockets over TCP', () => {
  for (const deliveryGuarantee of ['at-most-once', 'at-least-once'] as const) {
    it(`publish, ${deliveryGuarantee}: every connected peer gets every message; and back`, async () => {
      const p = await pair({ sendMode: 'publish', deliveryGuarantee });
      for (const s of ['a', 'b']) p.bindRt.send(p.bindSocket, AiomsgSend({ payload: bytes(s) }));
      for (const c of p.clients) expect(await received(c.probe, 2)).toEqual(['a', 'b']);
      if (deliveryGuarantee === 'at-least-once') {
        const acks: string[] = [];
        for (let i = 0; i < 4; i++)
          acks.push((await p.binder.next(AiomsgDelivered)).message.identity);
        for (const c of p.clients) expect(acks.filter((id) => id === c.identity)).toHaveLength(2);
      }
      const c0 = p.clients[0]!;
      c0.probe.self.send(c0.socket, AiomsgSend({ payload: bytes('up') }));
      const up = await p.binder.next(AiomsgReceived);
      expect([up.message.identity, text(up.message.payload)]).toEqual([c0.identity, 'up']);
      if (deliveryGuarantee === 'at-least-once') await c0.probe.next(AiomsgDelivered);
    });

    it(`round-robin, ${deliveryGuarantee}: messages alternate between peers; and back`, async () => {
      const p = await pair({ sendMode: 'round-robin', deliveryGuarantee });
      for (const s of ['1', '2', '3', '4'])
        p.bindRt.send(p.bindSocket, AiomsgSend({ payload: bytes(s) }));
      const got = [await received(p.clients[0]!.probe, 2), await received(p.clients[1]!.probe, 2)];
      expect(got.flat().sort()).toEqual(['1', '2', '3', '4']);
      if (deliveryGuarantee === 'at-least-once')
        for (let i = 0; i < 4; i++) await p.binder.next(AiomsgDelivered);
      const c1 = p.clients[1]!;
      c1.probe.self.send(c1.socket, AiomsgSend({ payload: bytes('back') }));
      expect(text((await p.binder.next(AiomsgReceived)).message.payload)).toBe('back');
    });

    it(`identity, ${deliveryGuarantee}: only the named peer gets it; and back by the binder's identity`, async () => {
      const p = await pair({ sendMode: 'identity', deliveryGuarantee });
      const [c0, c1] = [p.clients[0]!, p.clients[1]!];
      p.bindRt.send(
        p.bindSocket,
        AiomsgSend({ payload: bytes('for c1'), identity: c1.identity, ref: 'x' }),
      );
      expect(await received(c1.probe, 1)).toEqual(['for c1']);
      if (deliveryGuarantee === 'at-least-once') {
        expect((await p.binder.next(AiomsgDelivered)).message).toMatchObject({
          identity: c1.identity,
          ref: 'x',
        });
      }
      c0.probe.self.send(
        c0.socket,
        AiomsgSend({ payload: bytes('to binder'), identity: p.bindIdentity }),
      );
      const up = await p.binder.next(AiomsgReceived);
      expect([up.message.identity, text(up.message.payload)]).toEqual([c0.identity, 'to binder']);
      expect(c0.probe.count(AiomsgReceived)).toBe(0);
    });
  }

  it('carries Herald messages as msgpack inside DATA', async () => {
    const p = await pair({ payloadFormat: 'msgpack', deliveryGuarantee: 'at-least-once' }, 1);
    const c = p.clients[0]!;
    p.bindRt.send(
      p.bindSocket,
      AiomsgSendMessage({ message: { type: 'Order', id: 7, items: ['tea'] } }),
    );
    const got = await c.probe.next(AiomsgMessage);
    expect(got.message.message).toEqual({ type: 'Order', id: 7, items: ['tea'] });
    expect(got.message.messageId).toMatch(/^[0-9a-f]{32}$/);
  });

  it('a connect socket redials after the connection drops, keeps its identity and flushes what was sent meanwhile', async () => {
    const p = await pair({}, 1);
    const c = p.clients[0]!;
    const port = (await p.binder.waitFor(AiomsgBound)).port;
    p.bindRt.send(p.bindSocket, AiomsgClose());
    await c.probe.next(AiomsgPeerLeft);
    await p.bindRt.completion(p.bindSocket);
    c.probe.self.send(c.socket, AiomsgSend({ payload: bytes('while away') }));
    const rt = testRuntime();
    const binder = await spawnProbe(rt, 'binder-2');
    rt.spawn(aiomsgSocketBehavior({ bind: { host: '127.0.0.1', port }, owner: binder.address }));
    const again = await binder.next(AiomsgPeerJoined, undefined, 10_000);
    expect(again.message.identity).toBe(c.identity);
    expect(text((await binder.next(AiomsgReceived)).message.payload)).toBe('while away');
  });

  it('closing a socket reports pending at-least-once sends as NotDelivered', async () => {
    const rt = testRuntime();
    const owner = await spawnProbe(rt);
    const socket = rt.spawn(
      aiomsgSocketBehavior({
        connect: { host: '127.0.0.1', port: 1 },
        deliveryGuarantee: 'at-least-once',
        owner: owner.address,
      }),
    );
    rt.send(socket, AiomsgSend({ payload: bytes('never'), ref: 'n' }));
    rt.send(socket, AiomsgClose());
    const nd = await owner.next(AiomsgNotDelivered);
    expect(nd.message).toMatchObject({ ref: 'n', code: 'HERALD_ERR_AIOMSG_SOCKET_CLOSED' });
    await rt.completion(socket);
  });
});
