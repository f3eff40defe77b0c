/**
 * A matching client: a function actor connects, sends Hello, waits for Welcome and
 * returns it, which prints it and ends the process.
 *
 * Shows: `connect()`, Connected arriving from the SocketProxy (so `self.reply()` sends to
 * the server), a receive bounded by a timeout, and failures as values: NotConnected,
 * Abandoned and TimedOut are faults, so returning one prints it on stderr and exits
 * non-zero. Ending the main actor closes the connection; the server sees Abandoned.
 *
 * Start a server first (any of the three), then run this:
 *
 *   node --import tsx examples/listen-at-address.ts
 *   node --import tsx examples/connect-to-address.ts
 *
 * Flags: --host=127.0.0.1 --port=32011 --encrypted (must match the server) --name=Gladys
 * --timeout=5000 (ms to wait for Welcome) --debug-level=DEBUG (shows the SocketProxy being
 * created, receiving Hello from this actor, sending Connected and Welcome on, destroyed).
 */
import { Abandoned, Connected, NotConnected, connect } from '@herald/net';
import { run, type Self } from '@herald/runtime';
import {
  Hello,
  Welcome,
  clientHelp,
  clientSecurity,
  clientSettings,
  helloWelcome,
  type ClientSettings,
} from './hello-welcome.js';

async function connectToAddress(self: Self, settings: ClientSettings) {
  connect(self, { host: settings.host, port: settings.port }, await clientSecurity(settings));
  const result = await self.receive(Connected, NotConnected);
  if (NotConnected.is(result)) return result;

  // The return address of Connected is the proxy: sending there reaches the server.
  self.reply(Hello({ myName: settings.name }));
  // Welcome, or Abandoned if the server goes away, or TimedOut: the last two are faults.
  return self.receive(Welcome, Abandoned, { timeout: settings.timeout });
}

await run(connectToAddress, {
  name: 'connect-to-address',
  description: 'Connects, sends Hello and prints the Welcome that comes back.',
  settings: clientSettings,
  help: clientHelp,
  messages: helloWelcome,
});
