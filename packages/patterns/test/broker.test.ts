/**
 * The topic broker (issue 13 item 7): wildcard matching as a property against a plain
 * reference, topic rules, and the broker actor over real sockets (fan-out by pattern,
 * receipts, unsubscribe, a dropped connection ending its subscriptions, an access rule on
 * the peer's proven identity).
 */
import fc from 'fast-check';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Closed,
  Connected,
  Listening,
  close,
  connect,
  createIdentity,
  formatPublicKey,
  listen,
  sessionOf,
  type ConnectOptions,
} from '@herald/net';
import type { Address } from '@herald/runtime';
import {
  closeTestRuntimes,
  propertyParameters,
  propertySeeds,
  spawnProbe,
  testRuntime,
  type Probe,
} from '@herald/testing';
import { BadPatternOptionError } from '../src/errors.js';
import {
  BrokerRefused,
  PublishReceipt,
  Published,
  Subscribe,
  Subscribed,
  Unsubscribe,
  Unsubscribed,
  Publish,
  brokerMessages,
  brokerSession,
  spawnBroker,
  type BrokerOptions,
} from '../src/broker/broker.js';
import { TopicTable, badPattern, badTopic, topicMatches } from '../src/broker/topics.js';

afterEach(closeTestRuntimes);

/** The reference: a pattern as a regular expression over the dotted topic. */
function reference(pattern: string, topic: string): boolean {
  const source = pattern
    .split('.')
    .map((token) => (token === '*' ? '[^.]+' : token === '>' ? '[^.]+(?:\\.[^.]+)*' : token))
    .join('\\.');
  return new RegExp(`^${source}$`).test(topic);
}

const token = fc.constantFrom('a', 'b', 'c');
const topicArb = fc.array(token, { minLength: 1, maxLength: 4 }).map((t) => t.join('.'));
const patternArb = fc
  .tuple(fc.array(fc.constantFrom('a', 'b', '*'), { minLength: 1, maxLength: 4 }), fc.boolean())
  .map(([tokens, tail]) => (tail ? [...tokens.slice(0, -1), '>'] : tokens).join('.'));

describe('topics', () => {
  for (const seed of propertySeeds()) {
    it(`a table matches exactly the patterns the reference matches (seed ${seed})`, () => {
      fc.assert(
        fc.property(
          fc.array(patternArb, { maxLength: 12 }),
          fc.array(topicArb, { maxLength: 8 }),
          (patterns, topics) => {
            const table = new TopicTable<number>();
            patterns.forEach((p, i) => table.add(p, i));
            // remove every third: pruning must keep the others
            patterns.forEach((p, i) => {
              if (i % 3 === 2) table.remove(p, i);
            });
            for (const topic of topics) {
              const expected = patterns.flatMap((p, i) =>
                i % 3 !== 2 && reference(p, topic) ? [i] : [],
              );
              expect([...table.match(topic)].sort((x, y) => x - y)).toEqual(expected);
              for (const p of patterns) expect(topicMatches(p, topic)).toBe(reference(p, topic));
            }
          },
        ),
        propertyParameters(seed, 300),
      );
    });
  }

  it('wildcards: * is one token, > one or more, and only last', () => {
    expect(topicMatches('a.*', 'a.b')).toBe(true);
    expect(topicMatches('a.*', 'a.b.c')).toBe(false);
    expect(topicMatches('a.*', 'a')).toBe(false);
    expect(topicMatches('a.>', 'a.b.c')).toBe(true);
    expect(topicMatches('a.>', 'a')).toBe(false);
    expect(badPattern('a.>.b')).toMatch(/last/);
    expect(badPattern('a.b*')).toMatch(/whole tokens/);
    expect(badPattern('a..b')).toMatch(/empty token/);
    expect(badTopic('a.*')).toMatch(/no wildcards/);
    expect(badTopic('a b')).toBeDefined();
    expect(badTopic('x'.repeat(257))).toMatch(/longer/);
    expect(badTopic(Array.from({ length: 17 }, () => 'a').join('.'))).toMatch(/tokens/);
    expect(badTopic('sensors.kitchen')).toBeUndefined();
  });
});

describe('broker over real connections', () => {
  async function brokerAt(options: BrokerOptions = {}) {
    const server = await spawnProbe(testRuntime({ messages: brokerMessages }), 'server');
    const broker = spawnBroker(server.self, options);
    listen(
      server.self,
      { port: 0 },
      {
        messages: brokerMessages,
        session: sessionOf(brokerSession, broker),
        identity: createIdentity(),
      },
    );
    return { server, broker, port: (await server.next(Listening)).message.listening.port };
  }

  async function peer(port: number, name: string, options: ConnectOptions = {}) {
    const probe = await spawnProbe(testRuntime({ messages: brokerMessages }), name);
    connect(
      probe.self,
      { host: '127.0.0.1', port },
      { messages: brokerMessages, encrypted: true, ...options },
    );
    const { from } = await probe.next(Connected);
    return { probe, remote: from };
  }

  async function subscribe(p: { probe: Probe; remote: Address }, pattern: string) {
    p.probe.self.send(p.remote, Subscribe({ pattern }));
    await p.probe.next(Subscribed, (s) => s.pattern === pattern);
  }

  async function publish(p: { probe: Probe; remote: Address }, topic: string, data: unknown) {
    p.probe.self.send(p.remote, Publish({ topic, data, receipt: true }));
    return (await p.probe.next(PublishReceipt, (r) => r.topic === topic)).message.subscribers;
  }

  it('delivers by pattern, once per subscriber; unsubscribe and a closed connection end subscriptions', async () => {
    const { port } = await brokerAt();
    const one = await peer(port, 'one-token');
    const rest = await peer(port, 'the-rest');
    const publisher = await peer(port, 'publisher');
    await subscribe(one, 'sensors.*');
    await subscribe(rest, 'sensors.>');
    await subscribe(rest, 'sensors.kitchen'); // overlapping: still delivered once

    expect(await publish(publisher, 'sensors.kitchen', { c: 21 })).toBe(2);
    expect(await publish(publisher, 'sensors.kitchen.fridge', { c: 4 })).toBe(1);
    expect(await publish(publisher, 'alerts.fire', 'nothing here')).toBe(0);
    expect((await one.probe.next(Published)).message).toEqual(
      Published({ topic: 'sensors.kitchen', data: { c: 21 } }),
    );
    expect(rest.probe.all(Published).length).toBeLessThanOrEqual(2);
    await rest.probe.next(Published, (p) => p.topic === 'sensors.kitchen.fridge');
    expect(rest.probe.all(Published).map((p) => p.topic)).toEqual([
      'sensors.kitchen',
      'sensors.kitchen.fridge',
    ]);
    expect(one.probe.all(Published).map((p) => p.topic)).toEqual(['sensors.kitchen']);

    one.probe.self.send(one.remote, Unsubscribe({ pattern: 'sensors.*' }));
    expect((await one.probe.next(Unsubscribed)).message.held).toBe(true);
    expect(await publish(publisher, 'sensors.hall', 1)).toBe(1);

    close(rest.probe.self, rest.remote);
    await rest.probe.next(Closed);
    // the broker hears of it (its watch ends) before the next publish is routed
    for (let i = 0; ; i++) {
      const reached = await publish(publisher, `sensors.hall${i}`, 2);
      if (reached === 0) break;
      expect(i).toBeLessThan(50);
    }
  });

  it('refuses bad topics, subscriptions over the bound, and publishers an access rule keeps out', async () => {
    const trusted = createIdentity();
    const trustedKey = formatPublicKey(trusted.publicKey);
    const { port } = await brokerAt({
      allowPublish: (p, topic) => !topic.startsWith('admin.') || p.identity === trustedKey,
      maxPatternsPerSubscriber: 2,
    });
    const anon = await peer(port, 'anonymous');
    const admin = await peer(port, 'admin', { identity: trusted });
    anon.probe.self.send(anon.remote, Publish({ topic: 'admin.reboot', data: null }));
    expect((await anon.probe.next(BrokerRefused)).message).toMatchObject({
      request: 'publish',
      reason: 'not-allowed',
    });
    expect(await publish(admin, 'admin.reboot', null)).toBe(0);

    anon.probe.self.send(anon.remote, Subscribe({ pattern: 'a.>.b' }));
    expect((await anon.probe.next(BrokerRefused)).message.reason).toBe('bad-topic');
    await subscribe(anon, 'a');
    await subscribe(anon, 'b');
    anon.probe.self.send(anon.remote, Subscribe({ pattern: 'c' }));
    expect((await anon.probe.next(BrokerRefused)).message.reason).toBe('too-many-patterns');
  });

  it('checks its options at the call', async () => {
    const p = await spawnProbe(testRuntime(), 'owner');
    expect(() => spawnBroker(p.self, { maxSubscribers: 0 })).toThrow(BadPatternOptionError);
  });
});
