// A consumer of the packed @herald/* tarballs, run by plain Node (no tsx, no TypeScript):
// a server runtime listens on 127.0.0.1 port 0, a client runtime connects, asks Hello and
// gets a Welcome back, both runtimes close, and the process exits 0 on its own.
import { defineMessage, t } from '@herald/codec';
import {
  Accepted,
  Connected,
  Listening,
  NotConnected,
  NotListening,
  connect,
  listen,
} from '@herald/net';
import { createRuntime } from '@herald/runtime';

const Hello = defineMessage('Hello', { myName: t.string() });
const Welcome = defineMessage('Welcome', { yourName: t.string(), myName: t.string() });

async function server(self, onListening) {
  listen(self, { host: '127.0.0.1', port: 0 });
  const result = await self.receive(Listening, NotListening);
  if (NotListening.is(result)) return result;
  onListening(result.listening.port);
  for (;;) {
    const m = await self.receive(Hello, Accepted);
    if (Hello.is(m)) self.reply(Welcome({ yourName: m.myName, myName: 'server' }));
  }
}

async function client(self, port) {
  connect(self, { host: '127.0.0.1', port });
  const result = await self.receive(Connected, NotConnected);
  if (NotConnected.is(result)) return result;
  return self.ask(result.remote, Hello({ myName: 'client' }), Welcome, { timeout: 10_000 });
}

const serverSide = createRuntime({ name: 'server', messages: [Hello, Welcome] });
const clientSide = createRuntime({ name: 'client', messages: [Hello, Welcome] });
const port = await new Promise((resolve) => serverSide.spawn(server, resolve));
const welcome = await clientSide.completion(clientSide.spawn(client, port));
await clientSide.close();
await serverSide.close();
if (!Welcome.is(welcome) || welcome.yourName !== 'client' || welcome.myName !== 'server') {
  console.error('unexpected reply', welcome);
  process.exit(1);
}
console.log('reply:', JSON.stringify(welcome));
