/**
 * A publish/subscribe broker by topic (aioconnectors' broker), and its two kinds of client,
 * in one program: run the broker, then subscribers and publishers in other terminals.
 *
 *   node --import tsx examples/topic-broker.ts --role=broker --port=32030
 *   node --import tsx examples/topic-broker.ts --role=subscribe --port=32030 --topics='sensors.*,alerts.>'
 *   node --import tsx examples/topic-broker.ts --role=publish --port=32030 --topic=sensors.kitchen --data='{"c":21}'
 *
 * Topics are dotted tokens; a subscription's `*` matches one token and a final `>` one or
 * more. The broker is Herald pieces: a listener whose per-connection sessions forward to
 * one broker actor, itself a router with a route per request. A subscriber whose
 * connection drops loses its subscriptions (the broker watches it); publishing to a topic
 * nobody wants is fine (the publisher's receipt says 0).
 *
 * - broker: prints `listening on <host>:<port>`; on Ctrl-C, how many requests it served.
 * - subscribe: prints `subscribed <pattern>` for each, then `<topic> <data as JSON>` per
 *   publication, until Ctrl-C (or `--count` publications).
 * - publish: publishes `--data` (JSON) on `--topic` `--count` times, prints `published
 *   <topic> to <n> subscribers` for each and exits.
 */
import {
  Abandoned,
  Accepted,
  Closed,
  Connected,
  Listening,
  NotConnected,
  NotListening,
  connect,
  listen,
  sessionOf,
} from '@herald/net';
import { Stop, isAddress, run, type Self } from '@herald/runtime';
import {
  BrokerRefused,
  Publish,
  PublishReceipt,
  Published,
  Subscribe,
  Subscribed,
  brokerMessages,
  brokerSession,
  spawnBroker,
} from '@herald/patterns';

const settings = {
  role: 'broker',
  host: '127.0.0.1',
  port: 32030,
  topics: '',
  topic: '',
  data: 'null',
  count: 0,
};
type Settings = typeof settings;

async function broker(self: Self, s: Settings) {
  const broker = spawnBroker(self);
  listen(
    self,
    { host: s.host, port: s.port },
    { messages: brokerMessages, session: sessionOf(brokerSession, broker) },
  );
  const up = await self.receive(Listening, NotListening);
  if (NotListening.is(up)) return up;
  console.log(`listening on ${up.listening.host}:${up.listening.port}`);
  let connections = 0;
  for (;;) {
    const m = await self.receive(Accepted, Closed, Abandoned, Stop);
    if (Accepted.is(m)) connections += 1;
    if (Stop.is(m)) return { connections };
  }
}

async function connected(self: Self, s: Settings) {
  connect(self, { host: s.host, port: s.port }, { messages: brokerMessages });
  const result = await self.receive(Connected, NotConnected);
  return NotConnected.is(result) ? result : self.returnAddress;
}

async function subscribe(self: Self, s: Settings) {
  const patterns = s.topics.split(',').filter((p) => p !== '');
  if (patterns.length === 0) return 'give patterns to subscribe to: --topics=sensors.*,alerts.>';
  const broker = await connected(self, s);
  if (!isAddress(broker)) return broker;
  for (const pattern of patterns) {
    self.send(broker, Subscribe({ pattern }));
    const answer = await self.receive(Subscribed, BrokerRefused, Abandoned);
    if (Subscribed.is(answer)) console.log(`subscribed ${answer.pattern}`);
    else if (BrokerRefused.is(answer))
      return `refused ${pattern}: ${answer.reason} (${answer.detail})`;
    else return answer;
  }
  let received = 0;
  for (;;) {
    const m = await self.receive(Published, Abandoned, Stop);
    if (Published.is(m)) {
      console.log(`${m.topic} ${JSON.stringify(m.data)}`);
      received += 1;
      if (received === s.count) return { received };
    } else if (Stop.is(m)) return { received };
    else return m;
  }
}

async function publish(self: Self, s: Settings) {
  let data: unknown;
  try {
    data = JSON.parse(s.data);
  } catch {
    return `--data is not JSON: ${s.data}`;
  }
  const broker = await connected(self, s);
  if (!isAddress(broker)) return broker;
  for (let i = 0; i < Math.max(1, s.count); i++) {
    self.send(broker, Publish({ topic: s.topic, data, receipt: true }));
    const answer = await self.receive(PublishReceipt, BrokerRefused, Abandoned);
    if (PublishReceipt.is(answer))
      console.log(`published ${answer.topic} to ${answer.subscribers} subscribers`);
    else if (BrokerRefused.is(answer)) return `refused: ${answer.reason} (${answer.detail})`;
    else return answer;
  }
  return undefined;
}

async function topicBroker(self: Self, s: Settings) {
  switch (s.role) {
    case 'broker':
      return broker(self, s);
    case 'subscribe':
      return subscribe(self, s);
    case 'publish':
      return publish(self, s);
    default:
      return `--role must be broker, subscribe or publish, not ${s.role}`;
  }
}

await run(topicBroker, {
  name: 'topic-broker',
  description: 'A publish/subscribe broker by topic with wildcard subscriptions, and its clients.',
  settings,
  help: {
    role: 'broker, subscribe or publish',
    topics: 'subscribe: comma-separated patterns (* one token, > the rest)',
    topic: 'publish: the topic',
    data: 'publish: the data, as JSON',
    count: 'subscribe: exit after this many publications; publish: how many times',
  },
  messages: brokerMessages,
});
