/**
 * A group of three servers: a client that keeps a connection to each of three servers and
 * prints which are up every time that changes. It runs until Ctrl-C.
 *
 * Shows: a GroupTable with several members, GroupUpdate for each member's comings and
 * goings (`group.alpha` is an address or undefined), Ready when all three are up and
 * NotReady as soon as one goes, and the reconnect schedule at work when a server is
 * stopped and started again.
 *
 * Start the servers (each in its own terminal), then this:
 *
 *   node --import tsx examples/listen-at-address.ts --port=32011
 *   node --import tsx examples/listen-at-address.ts --port=32012
 *   node --import tsx examples/listen-at-address.ts --port=32013
 *   node --import tsx examples/group-of-three.ts
 *
 * Stop and restart any server to watch its line change. Flags: --host, --alpha, --beta,
 * --gamma (the three ports), --encrypted.
 */
import { connectTo, createGroup, GroupUpdate, groupTable, NotReady, Ready } from '@herald/net';
import { Completed, Stop, run, type Self } from '@herald/runtime';

const settings = { host: '127.0.0.1', alpha: 32011, beta: 32012, gamma: 32013, encrypted: false };

async function groupOfThree(self: Self, s: typeof settings) {
  const at = (port: number) => connectTo({ host: s.host, port }, { encrypted: s.encrypted });
  const group = createGroup(
    self,
    groupTable({ alpha: at(s.alpha), beta: at(s.beta), gamma: at(s.gamma) }),
  );
  let changes = 0;
  const show = (): void => {
    const up = group.names.filter((name) => group[name] !== undefined);
    const down = group.names.filter((name) => group[name] === undefined);
    const describe = (names: string[]) => (names.length === 0 ? '-' : names.join(' '));
    process.stdout.write(`up: ${describe(up)}; down: ${describe(down)}\n`);
  };
  show();
  for (;;) {
    const m = await self.receive(GroupUpdate, Ready, NotReady, Completed, Stop);
    switch (m.type) {
      case GroupUpdate.type:
        group.update(m);
        changes++;
        show();
        break;
      case Ready.type:
        process.stdout.write('ready: all three up\n');
        break;
      case NotReady.type:
        process.stdout.write('not ready\n');
        break;
      case Completed.type:
        return m.value;
      case Stop.type:
        return { changes };
    }
  }
}

await run(groupOfThree, {
  name: 'group-of-three',
  description: 'Keeps connections to three servers and prints which are up on every change.',
  settings,
  help: {
    host: 'host of the three servers',
    alpha: 'port of the first server',
    beta: 'port of the second server',
    gamma: 'port of the third server',
    encrypted: 'encrypt the connections (the servers must use --encrypted too)',
  },
});
