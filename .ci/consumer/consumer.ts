// Type-checked (never run) against the packed tarballs with `moduleResolution` node16 and
// bundler: the same program as program.mjs, written the way a TypeScript user would.
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
import { createRuntime, type Self } from '@herald/runtime';

const Hello = defineMessage('Hello', { myName: t.string() });
const Welcome = defineMessage('Welcome', { yourName: t.string(), myName: t.string() });

async function server(self: Self, onListening: (port: number) => void) {
  listen(self, { host: '127.0.0.1', port: 0 });
  const result = await self.receive(Listening, NotListening);
  if (NotListening.is(result)) return result;
  onListening(result.listening.port);
  for (;;) {
    const m = await self.receive(Hello, Accepted);
    if (Hello.is(m)) self.reply(Welcome({ yourName: m.myName, myName: 'server' }));
  }
}

async function client(self: Self, port: number) {
  connect(self, { host: '127.0.0.1', port });
  const result = await self.receive(Connected, NotConnected);
  if (NotConnected.is(result)) return result;
  const welcome = await self.ask(result.remote, Hello({ myName: 'client' }), Welcome, {
    timeout: 10_000,
  });
  if (!Welcome.is(welcome)) return welcome; // TimedOut
  const name: string = welcome.myName;
  return name;
}

export async function main(): Promise<void> {
  const serverSide = createRuntime({ name: 'server', messages: [Hello, Welcome] });
  const clientSide = createRuntime({ name: 'client', messages: [Hello, Welcome] });
  const port = await new Promise<number>((resolve) => serverSide.spawn(server, resolve));
  await clientSide.completion(clientSide.spawn(client, port));
  await clientSide.close();
  await serverSide.close();
}
