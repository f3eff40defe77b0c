/**
 * Publish a service by name: a function actor publishes `echo` and answers every Hello with
 * a Welcome. Nobody needs its port: it listens on an ephemeral one and the host directory
 * tells subscribers how to reach it.
 *
 * Shows: `publish()`, Published (with the real port) arriving as a message, Delivered for
 * each subscriber that reaches it (its return address is the subscriber's SocketProxy, as
 * after Accepted), Hello from a subscriber answered with `self.reply()`, and Dropped when a
 * subscriber goes away. Ctrl-C retracts the listing and closes every route.
 *
 * Start a host directory, then this, then a subscriber (each in its own terminal):
 *
 *   node packages/discovery/bin/herald-directory.mjs
 *   node --import tsx examples/publish-a-service.ts
 *   node --import tsx examples/subscribe-to-service.ts
 *
 * Flags: --name=echo (the service name) --scope=host (process, host, lan or cluster)
 * --directory=127.0.0.1:32171 (the host directory; default: HERALD_DIRECTORY or that)
 * --nats=nats://127.0.0.1:4222 (with --scope=cluster: list it in a NATS cluster too)
 * --debug-level=info. Prints `published <name> at <scope> on <host>:<port>`, then a line
 * per subscriber, and on Ctrl-C a summary.
 */
import {
  Delivered,
  Dropped,
  NotPublished,
  Published,
  configureDiscovery,
  parseHostPort,
  publish,
  type Scope,
} from '@herald/discovery';
import { Stop, run, type Self } from '@herald/runtime';
import { Hello, Welcome, helloWelcome } from './hello-welcome.js';

const settings = { name: 'echo', scope: 'host', directory: '', nats: '', myName: 'Buster' };
type Settings = typeof settings;

async function publishAService(self: Self, s: Settings) {
  // Optional: another host directory than the default one, a NATS cluster for scope 'cluster'.
  configureDiscovery(self.runtime, {
    ...(s.directory === '' ? {} : { directory: parseHostPort(s.directory) }),
    ...(s.nats === '' ? {} : { cluster: { servers: s.nats.split(',') } }),
  });
  publish(self, s.name, { scope: s.scope as Scope, messages: helloWelcome });
  const result = await self.receive(Published, NotPublished);
  if (NotPublished.is(result)) return result;
  process.stdout.write(
    `published ${result.name} at ${result.scope} on ${result.listening.host}:${result.listening.port}\n`,
  );

  let delivered = 0;
  let welcomed = 0;
  for (;;) {
    const m = await self.receive(Hello, Delivered, Dropped, Stop);
    switch (m.type) {
      case Delivered.type:
        // The return address is the subscriber's SocketProxy: a route like any connection.
        delivered++;
        process.stdout.write('delivered to a subscriber\n');
        break;
      case Hello.type:
        welcomed++;
        self.reply(Welcome({ yourName: m.myName, myName: s.myName }));
        break;
      case Dropped.type:
        process.stdout.write(`dropped: ${m.reason}\n`);
        break;
      case Stop.type:
        return { delivered, welcomed };
    }
  }
}

await run(publishAService, {
  name: 'publish-a-service',
  description: 'Publishes a service by name and answers every Hello with a Welcome.',
  settings,
  help: {
    name: 'the service name to publish',
    scope: 'how far the listing goes: process, host, lan or cluster',
    directory: 'host:port of the host directory (default HERALD_DIRECTORY or 127.0.0.1:32171)',
    nats: 'comma-separated NATS server URLs, for --scope=cluster',
    myName: 'the name given in Welcome',
  },
  messages: helloWelcome,
});
