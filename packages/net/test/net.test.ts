import { createServer, type AddressInfo } from 'node:net';
import { defineMessage, t, type Address, type MessageOf } from '@herald/codec';
import { Aborted, Terminated, type DeadLetter, type Runtime, type Self } from '@herald/runtime';
import {
  Abandoned,
  Accepted,
  AwaitDrain,
  close,
  Closed,
  connect,
  Connected,
  Drained,
  listen,
  Listening,
  NotConnected,
  NotListening,
  sessionOf,
  stopListening,
  type ConnectOptions,
  type ListenOptions,
  type SessionContext,
} from '@herald/net';
import * as wire from '@herald/net/wire';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeTestRuntimes,
  memoryLogger,
  spawnProbe,
  testRuntime,
  welcomingServer as answeringServer,
  type Greeting,
  type Probe,
} from '@herald/testing';

const Hello = defineMessage('Hello', { myName: t.string() });
const Welcome = defineMessage('Welcome', { yourName: t.string() });
const Here = defineMessage('Here', { service: t.address() });
const Big = defineMessage('Big', { data: t.bytes() });
const Small = defineMessage('Small', { n: t.int() });
const messages = [Hello, Welcome, Here, Big, Small];

afterEach(closeTestRuntimes);

async function listening(server: Probe, options: ListenOptions = {}): Promise<number> {
  listen(server.self, { port: 0 }, options);
  const { message } = await server.next(Listening);
  return message.listening.port;
}

async function connected(client: Probe, port: number, options: ConnectOptions = {}) {
  connect(client.self, { host: '127.0.0.1', port }, options);
  const { message, from } = await client.next(Connected);
  return { message, from };
}

/** Hello answered with this file's Welcome, which has no `myName`. */
const greeting: Greeting<MessageOf<typeof Hello>> = {
  hello: Hello,
  welcome: (hello) => Welcome({ yourName: hello.myName }),
};

/** A server probe that answers Hello with Welcome. */
function welcomingServer(runtime: Runtime, options: ListenOptions = {}) {
  return answeringServer(runtime, { listen: options, greeting });
}

describe('listen and connect', () => {
  for (const encrypted of [false, true]) {
    it(`a client says Hello and the server's reply comes back (${encrypted ? 'encrypted' : 'plain'})`, async () => {
      const { server, port } = await welcomingServer(testRuntime({ messages }), { encrypted });
      expect(port).toBeGreaterThan(0);
      const client = await spawnProbe(testRuntime({ messages }), 'client');
      const { message, from } = await connected(client, port, { encrypted });
      expect(message).toMatchObject({ encrypted, peer: { host: '127.0.0.1', port } });
      expect(from.equals(message.remote)).toBe(true);
      client.self.send(from, Hello({ myName: 'Gladys' }));
      expect((await client.next(Welcome)).message).toEqual({ type: 'Welcome', yourName: 'Gladys' });
      const accepted = await server.next(Accepted);
      expect(accepted.message.encrypted).toBe(encrypted);
    });
  }

  it('encrypted connections use the cipher suite they are given (the pluggable cipher interface)', async () => {
    const made: string[] = [];
    const counting = (side: string): wire.CipherSuite => ({
      name: `counting-${side}`,
      createKeyAgreement: (random) => wire.naclCipherSuite.createKeyAgreement(random),
      createCipher: (key, role) => {
        made.push(`${side}:${role}`);
        return wire.naclCipherSuite.createCipher(key, role);
      },
    });
    const { port } = await welcomingServer(testRuntime({ messages }), {
      encrypted: true,
      cipherSuite: counting('server'),
    });
    const client = await spawnProbe(testRuntime({ messages }));
    const { from } = await connected(client, port, {
      encrypted: true,
      cipherSuite: counting('client'),
    });
    client.self.send(from, Hello({ myName: 'sealed' }));
    expect((await client.next(Welcome)).message.yourName).toBe('sealed');
    expect(made.sort()).toEqual(['client:connector', 'server:acceptor']);
  });

  it('at debug the proxy logs each message it hands on, and follows a level change while running', async () => {
    const { logger, lines } = memoryLogger('info');
    const serverRt = testRuntime({ messages, logger });
    const { port } = await welcomingServer(serverRt);
    const client = await spawnProbe(testRuntime({ messages }));
    const { from } = await connected(client, port);
    client.self.send(from, Hello({ myName: 'quiet' }));
    await client.next(Welcome);
    expect(lines.some((l) => l.msg === 'forwarded')).toBe(false);
    serverRt.setLogLevel('debug');
    client.self.send(from, Hello({ myName: 'loud' }));
    await client.next(Welcome);
    const forwarded = lines.filter((l) => l.msg === 'forwarded');
    expect(forwarded).toHaveLength(1);
    expect(forwarded[0]).toMatchObject({ type: 'Hello', name: 'SocketProxy', role: 'acceptor' });
    expect(String(forwarded[0]?.peer)).toMatch(/^127\.0\.0\.1:\d+$/);
    expect(JSON.stringify(lines)).not.toContain('loud');
  });

  it('NotListening carries the errno when the port is taken', async () => {
    const a = await spawnProbe(testRuntime());
    const port = await listening(a);
    const b = await spawnProbe(testRuntime());
    listen(b.self, { port });
    const { message } = await b.next(NotListening);
    expect(message).toMatchObject({ faulted: true, errno: 'EADDRINUSE', requested: { port } });
  });

  it('NotConnected carries the errno when nobody listens', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as AddressInfo).port;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const client = await spawnProbe(testRuntime());
    connect(client.self, { host: '127.0.0.1', port });
    const { message } = await client.next(NotConnected);
    expect(message).toMatchObject({ faulted: true, errno: 'ECONNREFUSED', reason: 'ECONNREFUSED' });
  });

  it('close() with a value gives the controller Closed(value) and the peer Abandoned', async () => {
    const { server, port } = await welcomingServer(testRuntime({ messages }));
    const client = await spawnProbe(testRuntime({ messages }));
    const { from } = await connected(client, port);
    await server.next(Accepted);
    close(client.self, from, 'done');
    const closed = await client.next(Closed);
    expect(closed.message).toMatchObject({
      value: 'done',
      reason: 'closed-by-request',
      faulted: true,
    });
    const abandoned = await server.next(Abandoned);
    expect(abandoned.message.reason).toBe('normal');
  });

  it('messages sent before the handshake completes are delivered after it', async () => {
    const { port } = await welcomingServer(testRuntime({ messages }), { encrypted: true });
    const client = await spawnProbe(testRuntime({ messages }));
    const proxy = connect(client.self, { host: '127.0.0.1', port }, { encrypted: true });
    client.self.send(proxy, Hello({ myName: 'early' }));
    expect((await client.next(Welcome)).message.yourName).toBe('early');
  });

  it('stopListening stops accepting but keeps existing connections', async () => {
    const { server, port } = await welcomingServer(testRuntime({ messages }));
    const client = await spawnProbe(testRuntime({ messages }));
    const { from } = await connected(client, port);
    const listener = (await server.next(Accepted)).message;
    expect(listener).toBeDefined();
    const l = server.inbox.find((r) => Listening.is(r.message))?.message as ReturnType<
      typeof Listening
    >;
    stopListening(server.self, l.listener);
    expect((await server.next(NotListening)).message.code).toBe('HERALD_LISTEN_STOPPED');
    client.self.send(from, Hello({ myName: 'still here' }));
    expect((await client.next(Welcome)).message.yourName).toBe('still here');
    const late = await spawnProbe(testRuntime({ messages }));
    connect(late.self, { host: '127.0.0.1', port });
    expect((await late.next(NotConnected)).message.errno).toBe('ECONNREFUSED');
  });
});

describe('sessions', () => {
  it('a session per connection on both sides; the client session value closes the connection', async () => {
    const serverRt = testRuntime({ messages });
    const server = await spawnProbe(serverRt, 'server');
    async function accepted(self: Self, ctx: SessionContext, greeting: string) {
      const m = await self.receive(Hello);
      self.reply(Welcome({ yourName: `${greeting} ${m.myName}` }));
      await self.receive(Hello);
      return 'server session done';
    }
    const port = await listening(server, { session: sessionOf(accepted, 'hello') });
    const client = await spawnProbe(testRuntime({ messages }), 'client');
    async function connectedTo(self: Self, ctx: SessionContext) {
      self.send(ctx.remote, Hello({ myName: 'Gladys' }));
      const w = await self.receive(Welcome);
      return w.yourName;
    }
    connect(client.self, { host: '127.0.0.1', port }, { session: sessionOf(connectedTo) });
    const c = await client.next(Connected);
    expect(c.message.session).toBeDefined();
    expect(c.from.equals(c.message.session!)).toBe(true);
    const closed = await client.next(Closed);
    expect(closed.message).toMatchObject({ value: 'hello Gladys', reason: 'session-completed' });
    // The server's session is stopped when the peer goes; the controller hears Abandoned.
    await server.next(Accepted);
    expect((await server.next(Abandoned)).message.reason).toBe('normal');
  });
});

describe('addresses across processes', () => {
  it('relays A -> B -> C without decoding bodies in B, and replies route back', async () => {
    // C: a service that answers Hello. B knows nothing of Hello/Welcome.
    const rtC = testRuntime({ messages });
    const c = await spawnProbe(rtC, 'c');
    const portC = await listening(c);
    const service = rtC.spawn(async function service(self: Self) {
      for (;;) {
        const m = await self.receive(Hello);
        self.reply(Welcome({ yourName: m.myName }));
      }
    });
    const rtB = testRuntime({ messages: [Here] });
    const b = await spawnProbe(rtB, 'b');
    const bToC = await connected(b, portC);
    const portB = await listening(b);
    // C tells B where the service is; B passes it on to A inside a message body.
    await c.next(Accepted).then(({ from }) => c.self.send(from, Here({ service })));
    const here = await b.next(Here);
    expect(here.message.service.hops).toEqual([service.local, bToC.message.remote.local]);
    const rtA = testRuntime({ messages });
    const a = await spawnProbe(rtA, 'a');
    const aToB = await connected(a, portB);
    const fromB = (await b.next(Accepted)).from;
    b.self.send(fromB, here.message);
    const atA = await a.next(Here);
    expect(atA.message.service.hops).toHaveLength(3);
    const bDead: DeadLetter[] = [];
    rtB.onDeadLetter((d) => bDead.push(d));
    a.self.send(atA.message.service, Hello({ myName: 'across two hops' }));
    const reply = await a.next(Welcome);
    expect(reply.message.yourName).toBe('across two hops');
    expect(reply.from.hops).toHaveLength(3);
    expect(reply.from.local).toBe(aToB.message.remote.local);
    expect(rtB.catalogue.has('Hello')).toBe(false);
    expect(bDead).toEqual([]);
  });

  it('many conversations share one connection, each reply reaching its own asker', async () => {
    const rtB = testRuntime({ messages });
    const b = await spawnProbe(rtB, 'b');
    const port = await listening(b);
    // Ten services on B, announced to A's side over the one connection.
    const services = Array.from({ length: 10 }, (_, i) =>
      rtB.spawn(async function service(self: Self) {
        for (;;) {
          const m = await self.receive(Hello);
          self.reply(Welcome({ yourName: `${m.myName} via service ${i}` }));
        }
      }),
    );
    const rtA = testRuntime({ messages });
    const a = await spawnProbe(rtA, 'a');
    await connected(a, port);
    const { from: toA } = await b.next(Accepted);
    for (const service of services) b.self.send(toA, Here({ service }));
    const remote: Address[] = [];
    for (let i = 0; i < services.length; i++) remote.push((await a.next(Here)).message.service);
    // Ten askers on A, each talking to every service at once.
    const askers = Array.from({ length: 10 }, (_, n) =>
      rtA.run(async function asker(self: Self) {
        const answers: string[] = [];
        for (const [i, service] of remote.entries())
          self.send(service, Hello({ myName: `asker ${n}/${i}` }));
        for (let i = 0; i < remote.length; i++)
          answers.push((await self.receive(Welcome)).yourName);
        return answers.sort();
      }),
    );
    const results = await Promise.all(askers);
    for (const [n, answers] of results.entries()) {
      expect(answers).toEqual(remote.map((_, i) => `asker ${n}/${i} via service ${i}`).sort());
    }
    expect(rtA.size).toBeGreaterThan(0);
  });

  it('a return address that leads back over the same link names the sender side, and replies still arrive', async () => {
    const rtB = testRuntime({ messages });
    const b = await spawnProbe(rtB, 'b');
    const port = await listening(b);
    const rtA = testRuntime({ messages });
    const a = await spawnProbe(rtA, 'a');
    const { from: toB } = await connected(a, port);
    const { from: toA } = await b.next(Accepted);
    // A B-side actor says Hello to A; A forwards it back to B keeping the original sender.
    const bActor = rtB.spawn(async function asker(self: Self) {
      self.send(toA, Hello({ myName: 'b-actor' }));
      return self.receive(Welcome);
    });
    const hello = await a.next(Hello);
    expect(hello.from.hops).toEqual([bActor.local, toB.local]);
    a.self.forward(toB, hello.message, hello.from);
    const back = await b.next(Hello);
    // A return address may only name something on the sender's side (docs/security.md):
    // B sees a path through A back to its own actor, never a bare local id A could forge.
    expect(back.from.isLocal).toBe(false);
    expect(back.from.hops).toEqual([bActor.local, toB.local, toA.local]);
    b.self.send(back.from, Welcome({ yourName: 'home' }));
    expect(await rtB.completion(bActor)).toEqual({ type: 'Welcome', yourName: 'home' });
  });

  it('watch of a remote actor delivers Terminated when it ends, and when the connection is lost', async () => {
    const rtB = testRuntime({ messages });
    const b = await spawnProbe(rtB, 'b');
    const port = await listening(b);
    const a = await spawnProbe(testRuntime({ messages }), 'a');
    const { from: toB } = await connected(a, port);
    const { from: toA } = await b.next(Accepted);
    const worker = rtB.spawn(async function worker(self: Self) {
      await self.receive(Hello);
      return 'worker value';
    });
    const other = rtB.spawn(async function other(self: Self) {
      await self.receive(Hello);
    });
    b.self.send(toA, Here({ service: worker }));
    b.self.send(toA, Here({ service: other }));
    const w = (await a.next(Here)).message.service;
    const o = (await a.next(Here)).message.service;
    a.self.watch(w);
    a.self.watch(o);
    a.self.send(w, Hello({ myName: 'x' }));
    const first = await a.next(Terminated);
    expect(first.message.address.equals(w)).toBe(true);
    expect(first.message.value).toBe('worker value');
    close(a.self, toB, undefined);
    const second = await a.next(Terminated);
    expect(second.message.address.equals(o)).toBe(true);
    expect(second.message.value).toMatchObject({ type: 'herald.Closed', faulted: true });
  });

  it('a message larger than a frame arrives intact and does not hold back a small one sent after it', async () => {
    const rtB = testRuntime({ messages });
    const b = await spawnProbe(rtB, 'b');
    const port = await listening(b);
    const a = await spawnProbe(testRuntime({ messages }), 'a');
    const { from: toB } = await connected(a, port);
    const data = new Uint8Array(4 * 1024 * 1024);
    for (let i = 0; i < data.length; i++) data[i] = (i * 31) & 0xff;
    a.self.send(toB, Big({ data }));
    a.self.send(toB, Small({ n: 1 }));
    const order: string[] = [];
    const small = b.next(Small).then(() => order.push('small'));
    const big = b.next(Big).then((r) => {
      order.push('big');
      return r.message.data;
    });
    await small;
    const got = await big;
    expect(order).toEqual(['small', 'big']);
    expect(got.length).toBe(data.length);
    expect(Buffer.compare(Buffer.from(got), Buffer.from(data))).toBe(0);
  });

  it('an unknown message type is a dead letter on the receiver and the connection stays up', async () => {
    const rtB = testRuntime({ messages: [Hello, Welcome] });
    const dead: DeadLetter[] = [];
    rtB.onDeadLetter((d) => dead.push(d));
    const b = await spawnProbe(rtB, 'b');
    const port = await listening(b);
    const a = await spawnProbe(testRuntime({ messages }), 'a');
    const { from: toB } = await connected(a, port);
    a.self.send(toB, Small({ n: 5 }));
    a.self.send(toB, Hello({ myName: 'after' }));
    await b.next(Hello);
    expect(dead.map((d) => [d.message.type, d.reason, d.detail])).toEqual([
      ['Small', 'not-delivered', 'unknown message type'],
    ]);
  });
});

describe('lifecycle and flow control', () => {
  it('when the controller ends, its connections close', async () => {
    const b = await spawnProbe(testRuntime({ messages }), 'b');
    const port = await listening(b);
    const rtA = testRuntime({ messages });
    const controller = rtA.spawn(async function controller(self: Self) {
      connect(self, { host: '127.0.0.1', port });
      await self.receive(Connected);
      return 'bye';
    });
    expect(await rtA.completion(controller)).toBe('bye');
    expect((await b.next(Abandoned)).message.reason).toBe('normal');
  });

  it('AwaitDrain is answered at once on an idle connection', async () => {
    const b = await spawnProbe(testRuntime({ messages }), 'b');
    const port = await listening(b);
    const a = await spawnProbe(testRuntime({ messages }), 'a');
    const { from } = await connected(a, port);
    a.self.send(from, AwaitDrain());
    expect((await a.next(Drained)).message.remote.equals(from)).toBe(true);
  });

  it('a Stop to the session ends it with Aborted and closes the connection', async () => {
    const b = await spawnProbe(testRuntime({ messages }), 'b');
    const port = await listening(b);
    const a = await spawnProbe(testRuntime({ messages }), 'a');
    async function idle(self: Self) {
      await self.receive(Hello);
    }
    connect(a.self, { host: '127.0.0.1', port }, { session: sessionOf(idle) });
    const c = await a.next(Connected);
    a.self.stop(c.message.session!);
    const closed = await a.next(Closed);
    expect(Aborted.is(closed.message.value)).toBe(true);
  });
});
