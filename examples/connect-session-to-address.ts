/**
 * A session-based client: once connected, a session actor sends Hello, waits for Welcome
 * and returns it; its return value closes the connection and reaches the controller as
 * `Closed.value`.
 *
 * Shows: `sessionOf(fn, ...args)` passed to `connect()`, the session sending to
 * `session.remote` (the proxy, which is the server), a session's completion becoming
 * Closed at the controller, and Connected's return address being the session.
 *
 * Start a server first (any of the three), then run this:
 *
 *   node --import tsx examples/listen-sessions-at-address.ts
 *   node --import tsx examples/connect-session-to-address.ts
 *
 * Flags: --host=127.0.0.1 --port=32011 --encrypted (must match the server) --name=Gladys
 * --timeout=5000 (ms to wait for Welcome) --debug-level=DEBUG.
 */
import {
  Abandoned,
  Closed,
  Connected,
  NotConnected,
  connect,
  sessionOf,
  type SessionContext,
} from '@herald/net';
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

/** The conversation: Hello out, Welcome (or TimedOut) back, and that is the session's value. */
export async function connectedToAddress(
  self: Self,
  session: SessionContext,
  myName: string,
  timeout: number,
) {
  self.send(session.remote, Hello({ myName }));
  return self.receive(Welcome, { timeout });
}

async function connectSessionToAddress(self: Self, settings: ClientSettings) {
  connect(
    self,
    { host: settings.host, port: settings.port },
    {
      ...(await clientSecurity(settings)),
      session: sessionOf(connectedToAddress, settings.name, settings.timeout),
    },
  );
  const result = await self.receive(Connected, NotConnected);
  if (NotConnected.is(result)) return result;

  // The session's return value closes the connection and comes back here in Closed.
  // (Closed is itself a fault, for controllers that want to end with it; here the value
  // inside is the outcome: Welcome, or the session's TimedOut.)
  const ended = await self.receive(Closed, Abandoned);
  return Closed.is(ended) ? ended.value : ended;
}

await run(connectSessionToAddress, {
  name: 'connect-session-to-address',
  description: 'Connects; a session sends Hello and returns the Welcome that comes back.',
  settings: clientSettings,
  help: clientHelp,
  messages: helloWelcome,
});
