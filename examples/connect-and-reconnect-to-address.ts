/**
 * Connect and reconnect: the client of connect-to-address.ts, with the connecting handed to
 * a group. A GroupTable names the servers wanted (here one); createGroup() starts a
 * connection manager that keeps trying, with backoff, until every member is connected, and
 * reports each change as GroupUpdate and the whole set as Ready / NotReady.
 *
 * Shows: `groupTable({ server: connectTo(...) })`, `createGroup(self, table)`, passing each
 * GroupUpdate to `group.update()` so `group.server` follows it, waiting for Ready, then
 * talking to `group.server` like any address. A separate `sayHello()` does the talking.
 *
 * Start it before the server to watch the manager retry (2 s, 4 s, then every 8 s on
 * loopback, each with up to +50 % jitter), then start any server:
 *
 *   node --import tsx examples/connect-and-reconnect-to-address.ts --debug-level=INFO
 *   node --import tsx examples/listen-at-address.ts
 *
 * Flags: --host, --port, --encrypted, --name, --timeout (ms to wait for Welcome) as in
 * connect-to-address.ts, and --ready=<ms> to give up (TimedOut) if the server is not up in
 * time (0, the default, waits forever).
 */
import {
  connectTo,
  createGroup,
  GroupUpdate,
  groupTable,
  NotReady,
  Ready,
  type GroupView,
} from '@herald/net';
import { Completed, TimedOut, run, type Self } from '@herald/runtime';
import {
  Hello,
  Welcome,
  clientHelp,
  clientSettings,
  helloWelcome,
  type ClientSettings,
} from './hello-welcome.js';

const settings = { ...clientSettings, ready: 0 };
type Settings = ClientSettings & { ready: number };

function serverTable(s: Settings) {
  return groupTable({
    server: connectTo({ host: s.host, port: s.port }, { encrypted: s.encrypted }),
  });
}

async function connectAndReconnect(self: Self, s: Settings) {
  const group = createGroup(self, serverTable(s), s.ready > 0 ? { getReadyMs: s.ready } : {});
  for (;;) {
    const m = await self.receive(GroupUpdate, Ready, NotReady, TimedOut, Completed);
    if (GroupUpdate.is(m)) {
      // Keeps group.server current: the member's address, or undefined while it is down.
      group.update(m);
      self.log.info({ member: m.name, up: m.address !== undefined }, 'group update');
    } else if (Ready.is(m)) {
      return sayHello(self, group, s);
    } else if (TimedOut.is(m)) {
      return m; // a fault: printed on stderr, non-zero exit
    } else if (Completed.is(m)) {
      return m.value; // the manager gave up (Exhausted) or was stopped
    }
  }
}

/** Sends Hello to the server through the group and returns its Welcome (or TimedOut). */
async function sayHello(
  self: Self,
  group: GroupView<ReturnType<typeof serverTable>['members']>,
  s: Settings,
) {
  const server = group.server;
  if (server === undefined) throw new Error('Ready without a server address');
  self.send(server, Hello({ myName: s.name }));
  // Should the connection drop meanwhile, Hello waits in the member and goes out on reconnect.
  return self.receive(Welcome, { timeout: s.timeout, save: [GroupUpdate, NotReady, Ready] });
}

await run(connectAndReconnect, {
  name: 'connect-and-reconnect-to-address',
  description:
    'Connects through a group (retrying until the server is up), sends Hello, prints Welcome.',
  settings,
  help: { ...clientHelp, ready: 'ms to wait for the server before giving up (0: forever)' },
  messages: helloWelcome,
});
