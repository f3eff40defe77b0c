/**
 * A session-based server: every accepted connection gets its own session actor, which
 * answers Hello with Welcome; the controller only hears about connections coming and going.
 *
 * Shows: `sessionOf(fn, ...args)` passed to `listen()`, the session receiving the peer's
 * messages (the proxy's default target) and the SessionContext (`remote`, `peer`,
 * `controller`, ...), Accepted reaching the controller from the session rather than the
 * proxy, and the session being stopped when its connection ends. Separating the session
 * (one connection's conversation) from the controller (the comings and goings) keeps each
 * simple as the conversations grow.
 *
 * Run it (from the repository root), then any client in another terminal:
 *
 *   node --import tsx examples/listen-sessions-at-address.ts
 *   node --import tsx examples/connect-session-to-address.ts
 *
 * Flags: --host=127.0.0.1 --port=32011 (0: any free port, printed) --encrypted --name=Buster
 * --debug-level=DEBUG. It runs until Ctrl-C, then prints a summary.
 */
import {
  Abandoned,
  Accepted,
  Closed,
  Listening,
  NotListening,
  listen,
  sessionOf,
  type SessionContext,
} from '@herald/net';
import { Stop, run, type Self } from '@herald/runtime';
import {
  Hello,
  Welcome,
  announceListening,
  helloWelcome,
  serverHelp,
  serverSecurity,
  serverSettings,
  type ServerSettings,
} from './hello-welcome.js';

/**
 * One per connection. Answers every Hello until its connection ends (the proxy then sends
 * Stop). Returning instead would close the connection, with the value going to the
 * controller in Closed.
 */
export async function acceptedAtAddress(self: Self, session: SessionContext, myName: string) {
  self.log.info({ peer: session.peer, encrypted: session.encrypted }, 'session started');
  let welcomed = 0;
  for (;;) {
    const message = await self.receive(Hello, Stop);
    if (Stop.is(message)) return { welcomed };
    welcomed++;
    self.reply(Welcome({ yourName: message.myName, myName }));
  }
}

async function listenSessionsAtAddress(self: Self, settings: ServerSettings) {
  listen(
    self,
    { host: settings.host, port: settings.port },
    { ...(await serverSecurity(settings)), session: sessionOf(acceptedAtAddress, settings.name) },
  );
  const result = await self.receive(Listening, NotListening);
  if (NotListening.is(result)) return result;
  announceListening(result.listening.host, result.listening.port);

  // No Hello here: the application's messages go to the sessions.
  let accepted = 0;
  for (;;) {
    const message = await self.receive(Accepted, Closed, Abandoned, Stop);
    switch (message.type) {
      case Accepted.type:
        // With sessions, the return address of Accepted is the session (also `message.session`).
        accepted++;
        self.log.info({ peer: message.peer, session: self.returnAddress.toString() }, 'accepted');
        break;
      case Closed.type:
      case Abandoned.type:
        self.log.info({ peer: message.peer, reason: message.reason }, 'connection ended');
        break;
      case Stop.type:
        return { accepted };
    }
  }
}

await run(listenSessionsAtAddress, {
  name: 'listen-sessions-at-address',
  description: 'Listens for clients; a session per connection answers Hello with Welcome.',
  settings: serverSettings,
  help: serverHelp,
  messages: helloWelcome,
});
