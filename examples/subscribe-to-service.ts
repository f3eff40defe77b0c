/**
 * Subscribe to a service by name: a function actor asks for `echo`, and once it is
 * Available says Hello to it and prints the Welcome that comes back.
 *
 * Shows: `subscribe()` with a name (a RegExp or `{ kind: 'glob', pattern }` work too),
 * Subscribed then Available arriving as messages, the return address of Available being the
 * publisher's SocketProxy (so `self.reply()` reaches the service), and failures as values:
 * NotAvailable, Dropped and TimedOut are faults, so returning one exits non-zero.
 *
 *   node packages/discovery/bin/herald-directory.mjs
 *   node --import tsx examples/publish-a-service.ts
 *   node --import tsx examples/subscribe-to-service.ts
 *
 * Flags: --name=echo --glob (treat --name as a glob: `ech*`) --scope=host
 * --directory=127.0.0.1:32171 --nats=nats://127.0.0.1:4222 (with --scope=cluster) --timeout=10000 (ms to wait for the service and its Welcome)
 * --my-name=Gladys --debug-level=info.
 */
import {
  Available,
  Dropped,
  NotAvailable,
  Subscribed,
  configureDiscovery,
  parseHostPort,
  subscribe,
  type Scope,
} from '@herald/discovery';
import { run, type Self } from '@herald/runtime';
import { Hello, Welcome, helloWelcome } from './hello-welcome.js';

const settings = {
  name: 'echo',
  glob: false,
  scope: 'host',
  directory: '',
  nats: '',
  timeout: 10_000,
  myName: 'Gladys',
};
type Settings = typeof settings;

async function subscribeToService(self: Self, s: Settings) {
  // Optional: another host directory than the default one, a NATS cluster for scope 'cluster'.
  configureDiscovery(self.runtime, {
    ...(s.directory === '' ? {} : { directory: parseHostPort(s.directory) }),
    ...(s.nats === '' ? {} : { cluster: { servers: s.nats.split(',') } }),
  });
  const search = s.glob ? { kind: 'glob' as const, pattern: s.name } : s.name;
  subscribe(self, search, { scope: s.scope as Scope, messages: helloWelcome });
  await self.receive(Subscribed);
  const available = await self.receive(Available, { timeout: s.timeout });
  if (!Available.is(available)) return available; // TimedOut: nobody published it
  process.stdout.write(`available: ${available.name} at ${available.scope}\n`);
  // The return address of Available is the publisher's SocketProxy.
  self.reply(Hello({ myName: s.myName }));
  return self.receive(Welcome, Dropped, NotAvailable, { timeout: s.timeout });
}

await run(subscribeToService, {
  name: 'subscribe-to-service',
  description: 'Finds a service by name, says Hello and prints the Welcome.',
  settings,
  help: {
    name: 'the service name (or glob, with --glob) to look for',
    glob: 'treat --name as a glob pattern (* and ?)',
    scope: 'how far to look: process, host, lan or cluster',
    directory: 'host:port of the host directory (default HERALD_DIRECTORY or 127.0.0.1:32171)',
    nats: 'comma-separated NATS server URLs, for --scope=cluster',
    timeout: 'ms to wait for the service, then for its Welcome',
    myName: 'the name given in Hello',
  },
  messages: helloWelcome,
});
