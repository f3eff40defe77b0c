/**
 * `herald chat host:port` / `herald chat --listen port`: two-way line chat between two
 * terminals. Each line typed (stdin) goes to the peer as a cli.Chat; each cli.Chat received
 * is printed on stdout as it came, so stdout holds only the conversation and the status
 * lines (listening, connected, peer joined or left) go to stderr.
 *
 * Stdin reaches the main actor as local messages through run()'s `onRuntime` hook; the
 * end of input ends the chat (the connections close normally, the peer sees it).
 */
import { defineMessage, t, type Address } from '@herald/codec';
import {
  Abandoned,
  Accepted,
  Close,
  Closed,
  Listening,
  NotConnected,
  NotListening,
  listen,
} from '@herald/net';
import { Stop, run, type Runtime, type Self } from '@herald/runtime';
import { createInterface } from 'node:readline';
import { expectPositionals, parseHostPort, splitArguments, type Command } from '../args.js';
import {
  clientHelp,
  clientSettings,
  open,
  serverHelp,
  serverOptions,
  serverSettings,
} from '../client.js';
import { DEFAULT_LISTEN_HOST } from '../constants.js';
import { Chat, cliMessages } from '../messages.js';

/**
 * A line read from stdin. Local only: not in the catalogue, so a peer cannot send one (it
 * would be refused as an unknown type).
 */
const InputLine = defineMessage('cli.local.InputLine', { text: t.string() });
/** Stdin ended. */
const InputEnded = defineMessage('cli.local.InputEnded', {});

const settings = {
  ...clientSettings,
  ...serverSettings,
  listen: '',
  host: DEFAULT_LISTEN_HOST,
};

/** Feeds stdin to the main actor, one InputLine per line, then InputEnded. */
function readInput(runtime: Runtime, main: Address) {
  const input = createInterface({ input: process.stdin, crlfDelay: Infinity });
  input.on('line', (text) => runtime.send(main, InputLine({ text })));
  input.on('close', () => runtime.send(main, InputEnded({})));
  runtime.onClose(() => input.close());
}

function status(text: string) {
  process.stderr.write(`${text}\n`);
}

/** A proxy's peer as `host:port`. */
function peerText(peer: { host: string; port: number }) {
  return `${peer.host}:${peer.port}`;
}

async function connector(self: Self, target: string, s: typeof settings) {
  const opened = await open(self, target, s);
  if (NotConnected.is(opened)) return opened;
  const peer = self.returnAddress;
  status(`connected to ${target}`);
  for (;;) {
    const message = await self.receive(InputLine, InputEnded, Chat, Closed, Abandoned, Stop);
    switch (message.type) {
      case InputLine.type:
        self.send(peer, Chat({ text: message.text }));
        break;
      case Chat.type:
        process.stdout.write(`${message.text}\n`);
        break;
      case InputEnded.type:
      case Stop.type: {
        self.send(peer, Close({ value: null }));
        const closed = await self.receive(Closed, Abandoned, { timeout: s.timeout });
        return Closed.is(closed) ? undefined : closed;
      }
      case Closed.type:
        return undefined;
      case Abandoned.type:
        // The other terminal ended its chat: a normal end, not a failure.
        if (message.reason !== 'normal') return message;
        status('peer left');
        return undefined;
    }
  }
}

async function listener(self: Self, s: typeof settings) {
  const at = /^\d+$/.test(s.listen)
    ? { host: s.host, port: Number(s.listen) }
    : parseHostPort(s.listen);
  listen(self, at, await serverOptions(s));
  const result = await self.receive(Listening, NotListening);
  if (NotListening.is(result)) return result;
  status(`listening on ${result.listening.host}:${result.listening.port}`);
  const peers = new Map<string, { proxy: Address; name: string }>();
  for (;;) {
    const message = await self.receive(
      InputLine,
      InputEnded,
      Chat,
      Accepted,
      Closed,
      Abandoned,
      Stop,
    );
    switch (message.type) {
      case Accepted.type: {
        const name = peerText(message.peer);
        peers.set(self.returnAddress.toString(), { proxy: self.returnAddress, name });
        status(`peer joined ${name}`);
        break;
      }
      case Closed.type:
      case Abandoned.type: {
        const key = self.returnAddress.toString();
        status(`peer left ${peers.get(key)?.name ?? peerText(message.peer)}`);
        peers.delete(key);
        break;
      }
      case InputLine.type: {
        if (peers.size === 0) status('no peer connected: line not sent');
        for (const { proxy } of peers.values()) self.send(proxy, Chat({ text: message.text }));
        break;
      }
      case Chat.type:
        process.stdout.write(`${message.text}\n`);
        break;
      case InputEnded.type:
      case Stop.type:
        // Returning ends the listener and closes every connection normally.
        return undefined;
    }
  }
}

export const chatCommand: Command = {
  name: 'chat',
  synopsis: 'chat <host:port> | --listen <port>',
  summary: 'two-way line chat between two terminals (stdin → peer, peer → stdout)',
  run(args) {
    const split = splitArguments(args, settings);
    const listening = split.flags.some((flag) => /^--?listen(=|$)/.test(flag));
    const [target = ''] = expectPositionals('chat', split, listening ? [] : ['host:port']);
    if (!split.help && !listening) parseHostPort(target);
    return run(
      async function chat(self: Self, s: typeof settings) {
        return s.listen === '' ? connector(self, target, s) : listener(self, s);
      },
      {
        name: 'herald chat <host:port> | herald chat --listen <port>',
        description:
          'Two-way line chat: each stdin line goes to the peer, each line from the peer is ' +
          'printed on stdout; status lines go to stderr. With --listen (a port, or ' +
          'host:port), waits for peers and sends each line to every one connected. The end ' +
          'of input or Ctrl-C ends the chat. Exit codes: 0 ended (either side), 1 cannot ' +
          'connect or listen, or the connection was lost, 2 usage error.',
        settings,
        help: {
          ...clientHelp,
          ...serverHelp,
          encrypted: 'encrypt the connection (implied by --peer-key, --identity or --allow)',
          identity: "this side's key file (herald keygen): proves this side's key to the peer",
          listen: 'listen on this port (or host:port) instead of connecting; 0: any free port',
          host: 'address to listen on when --listen gives only a port',
        },
        messages: cliMessages,
        argv: split.flags,
        onRuntime: readInput,
      },
    );
  },
};
