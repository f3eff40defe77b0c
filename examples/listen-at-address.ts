/**
 * A complete, minimal server: a function actor listens at an address and answers every
 * Hello with a Welcome.
 *
 * Shows: `listen()` making the actor a network controller, Listening confirming it (with
 * the real port when `--port=0`), Accepted / Closed / Abandoned arriving as ordinary
 * messages beside the application's Hello, `self.reply()` answering across the network
 * exactly as it answers a local actor, and Ctrl-C arriving as Stop. Every connection's
 * messages come to this one actor; listen-sessions-at-address.ts gives each its own.
 *
 * Run it (from the repository root), then a client in another terminal:
 *
 *   node --import tsx examples/listen-at-address.ts
 *   node --import tsx examples/connect-to-address.ts
 *
 * Flags: --host=127.0.0.1 --port=32011 (0: any free port, printed) --encrypted (clients
 * must match) --name=Buster --debug-level=DEBUG (every actor's life, SocketProxy's
 * included, as JSON lines on stderr). It runs until Ctrl-C, then prints a summary.
 */
import { Abandoned, Accepted, Closed, Listening, NotListening, listen } from '@herald/net';
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

async function listenAtAddress(self: Self, settings: ServerSettings) {
  listen(self, { host: settings.host, port: settings.port }, await serverSecurity(settings));
  const result = await self.receive(Listening, NotListening);
  // NotListening is a fault: returned, the runner prints it on stderr and exits non-zero.
  if (NotListening.is(result)) return result;
  announceListening(result.listening.host, result.listening.port);

  let accepted = 0;
  let welcomed = 0;
  for (;;) {
    const message = await self.receive(Hello, Accepted, Closed, Abandoned, Stop);
    switch (message.type) {
      case Accepted.type:
        // Its return address is the SocketProxy: the local stand-in for this client.
        accepted++;
        self.log.info({ peer: message.peer, remote: message.remote.toString() }, 'accepted');
        break;
      case Hello.type:
        // The return address is the client actor, reached through its proxy.
        welcomed++;
        self.reply(Welcome({ yourName: message.myName, myName: settings.name }));
        break;
      case Closed.type:
      case Abandoned.type:
        self.log.info({ peer: message.peer, reason: message.reason }, 'connection ended');
        break;
      case Stop.type:
        // Ctrl-C. Returning ends the listener and any open connections with us.
        return { accepted, welcomed };
    }
  }
}

await run(listenAtAddress, {
  name: 'listen-at-address',
  description: 'Listens for clients and answers every Hello with a Welcome.',
  settings: serverSettings,
  help: serverHelp,
  messages: helloWelcome,
});
