/**
 * The test messages (a client's Hello, a server's Welcome) and a server that answers
 * them: the smallest real peer a client test can talk to.
 */
import { defineMessage, t, type Address, type AnyMessage, type MessageType } from '@herald/codec';
import type { Runtime } from '@herald/runtime';
import { listen, Listening, NotListening, type ListenOptions } from '@herald/net';
import { spawnProbe, type Probe } from './probe.js';
import { TestingError } from './errors.js';

/** Client → server in tests: the opening of a conversation. */
export const Hello = defineMessage('test.Hello', { myName: t.string() });
export type Hello = ReturnType<typeof Hello>;

/** Server → client in tests: the answer to {@link Hello}. */
export const Welcome = defineMessage('test.Welcome', { yourName: t.string(), myName: t.string() });
export type Welcome = ReturnType<typeof Welcome>;

/** The test messages; a {@link testRuntime} has them in its catalogue unless told otherwise. */
export const testMessages = [Hello, Welcome] as const;

/** The welcoming server's actor name, and the name it gives in its Welcome. */
export const WELCOMING_SERVER_NAME = 'server';

/** What a welcoming server answers, and how. */
export interface Greeting<H extends AnyMessage> {
  /** The message type it answers; added to the runtime's catalogue. */
  readonly hello: MessageType<string, H>;
  /** The answer to one hello, sent to the hello's return address. */
  readonly welcome: (hello: H) => AnyMessage;
}

/** Hello{ myName } answered with Welcome{ yourName: myName, myName: 'server' }. */
export const DEFAULT_GREETING: Greeting<Hello> = {
  hello: Hello,
  welcome: (hello) => Welcome({ yourName: hello.myName, myName: WELCOMING_SERVER_NAME }),
};

export interface WelcomingServerOptions<H extends AnyMessage> {
  /** Port on 127.0.0.1; default 0 (the OS picks one; see the result's `port`). */
  readonly port?: number;
  /** Passed to `listen()`: encryption, sessions, limits. */
  readonly listen?: ListenOptions;
  /** What to answer; default {@link DEFAULT_GREETING}. */
  readonly greeting?: Greeting<H>;
}

export interface WelcomingServer {
  /** The controller: a probe that also records Accepted, Abandoned and whatever else comes. */
  readonly server: Probe;
  /** The port it listens on. */
  readonly port: number;
  /** The listener actor (for `stopListening`). */
  readonly listener: Address;
}

/**
 * Starts a probe in `runtime` that listens on 127.0.0.1 and answers every hello with a
 * welcome; resolves once it is listening, rejects if listening fails.
 */
export async function welcomingServer<H extends AnyMessage = Hello>(
  runtime: Runtime,
  options: WelcomingServerOptions<H> = {},
): Promise<WelcomingServer> {
  const greeting = (options.greeting ?? DEFAULT_GREETING) as unknown as Greeting<AnyMessage>;
  runtime.catalogue.add(greeting.hello);
  const server = await spawnProbe(runtime, {
    name: WELCOMING_SERVER_NAME,
    onStart: (self) => listen(self, { port: options.port ?? 0 }, options.listen ?? {}),
    onMessage: (message, self) => {
      if (greeting.hello.is(message)) self.reply(greeting.welcome(message));
    },
  });
  const { message } = await server.recorder.waitFor(
    (r) => Listening.is(r.message) || NotListening.is(r.message),
    { what: `the welcoming server to listen on ${options.port ?? 0}` },
  );
  if (!Listening.is(message)) {
    const explanation = NotListening.is(message) ? message.explanation : message.type;
    throw new TestingError(
      'HERALD_ERR_TEST_FAILED',
      `welcoming server: cannot listen on ${options.port ?? 0}: ${explanation}`,
    );
  }
  return { server, port: message.listening.port, listener: message.listener };
}
