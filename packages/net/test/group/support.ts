/**
 * Group test support: an owner actor that creates a group and records what it receives,
 * servers to connect to, and counters of connection attempts. Every wait is event-driven
 * and bounded.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { defineMessage, t, type Address, type AnyMessage } from '@herald/codec';
import {
  createRuntime,
  type Handler,
  type Runtime,
  type RuntimeOptions,
  type Self,
} from '@herald/runtime';
import {
  createGroup,
  GroupUpdate,
  listen,
  Listening,
  type GroupOptions,
  type GroupTable,
  type GroupView,
  type ListenOptions,
  type MemberTable,
} from '@herald/net';
import pino from 'pino';

export const Hello = defineMessage('test.Hello', { myName: t.string() });
export const Welcome = defineMessage('test.Welcome', { yourName: t.string(), myName: t.string() });
export const testMessages = [Hello, Welcome];

/** Bound on every wait for a real-socket event. */
export const WAIT_MS = 5_000;

export interface Received {
  readonly message: AnyMessage;
  readonly from: Address;
}

/** Resolves once `check()` returns a value, re-checked whenever `subscribe` signals; bounded. */
function waitUntil<T>(
  subscribe: (notify: () => void) => () => void,
  check: () => T | undefined,
  what: string,
  timeoutMs: number,
  describe: () => string,
): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    let unsubscribe = (): void => undefined;
    const timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`${what}: not within ${timeoutMs} ms; ${describe()}`));
    }, timeoutMs);
    const evaluate = (): void => {
      const result = check();
      if (result === undefined) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(result);
    };
    unsubscribe = subscribe(evaluate);
    evaluate();
  });
}

/** The group's owner: records every message in arrival order and applies GroupUpdates. */
export class Owner<T extends MemberTable> {
  readonly inbox: Received[] = [];
  self!: Self;
  group!: GroupView<T>;
  #cursor = 0;
  #listeners = new Set<() => void>();

  push(received: Received): void {
    if (GroupUpdate.is(received.message)) this.group.update(received.message);
    this.inbox.push(received);
    for (const listener of this.#listeners) listener();
  }

  /** Message types received so far, in order. */
  types(): string[] {
    return this.inbox.map((r) => r.message.type);
  }

  /**
   * The first message after the one the previous `next` returned that is of `type` (and
   * passes `where`), so successive calls walk forward through the inbox.
   */
  next<M extends AnyMessage>(
    type: { readonly type: string; is(v: unknown): v is M },
    where: (m: M) => boolean = () => true,
    timeoutMs = WAIT_MS,
  ): Promise<{ message: M; from: Address }> {
    return waitUntil(
      (notify) => {
        this.#listeners.add(notify);
        return () => this.#listeners.delete(notify);
      },
      () => {
        for (let i = this.#cursor; i < this.inbox.length; i++) {
          const r = this.inbox[i] as Received;
          if (type.is(r.message) && where(r.message)) {
            this.#cursor = i + 1;
            return r as { message: M; from: Address };
          }
        }
        return undefined;
      },
      `owner waiting for ${type.type}`,
      timeoutMs,
      () => `inbox: ${this.types().join(', ')}`,
    );
  }

  /** Messages of `type` received so far. */
  count(type: { is(v: unknown): boolean }): number {
    return this.inbox.filter((r) => type.is(r.message)).length;
  }
}

/** Spawns an owner actor in `runtime` that creates a group from `table`. */
export function startOwner<T extends MemberTable>(
  runtime: Runtime,
  table: GroupTable<T>,
  options: GroupOptions = {},
): Promise<Owner<T>> {
  const owner = new Owner<T>();
  return new Promise((resolve) => {
    const handler: Handler = {
      name: 'owner',
      start(self) {
        owner.self = self;
        owner.group = createGroup(self, table, options);
        resolve(owner);
      },
      receive(_self, message, envelope) {
        owner.push({ message, from: envelope.from });
      },
      onStop(self) {
        self.complete(undefined);
      },
    };
    runtime.spawn(handler);
  });
}

const live: Runtime[] = [];
const servers: Server[] = [];

/** A runtime closed by {@link cleanup}; silent logs, test messages in its catalogue. */
export function testRuntime(options: RuntimeOptions = {}): Runtime {
  const runtime = createRuntime({
    logger: pino({ level: 'silent' }),
    messages: testMessages,
    ...options,
  });
  live.push(runtime);
  return runtime;
}

/** Closes every runtime and raw server made here (use in afterEach). */
export async function cleanup(): Promise<void> {
  await Promise.all(live.splice(0).map((r) => r.close({ timeoutMs: 2000 })));
  await Promise.all(
    servers
      .splice(0)
      .filter((s) => s.listening)
      .map((s) => new Promise<void>((resolve) => s.close(() => resolve()))),
  );
}

/** Counts SocketProxy actors a runtime starts and ends: one per connection attempt. */
export class AttemptCounter {
  started = 0;
  ended = 0;
  /** `performance.now()` at each start. */
  readonly startedAt: number[] = [];
  #listeners = new Set<() => void>();

  constructor(runtime: Runtime) {
    runtime.inspect((event) => {
      if (event.kind === 'created' && event.name === 'SocketProxy') {
        this.started++;
        this.startedAt.push(performance.now());
      } else if (event.kind === 'destroyed' && event.name === 'SocketProxy') this.ended++;
      else return;
      for (const listener of this.#listeners) listener();
    });
  }

  /** Resolves once at least `count` attempts have ended. */
  untilEnded(count: number, timeoutMs = WAIT_MS): Promise<void> {
    return waitUntil(
      (notify) => {
        this.#listeners.add(notify);
        return () => this.#listeners.delete(notify);
      },
      () => (this.ended >= count ? true : undefined),
      `${count} connection attempts ended`,
      timeoutMs,
      () => `started ${this.started}, ended ${this.ended}`,
    ).then(() => undefined);
  }
}

/** A server: an actor listening at `port` (0: any) that answers Hello with Welcome. */
export async function welcomingServer(
  runtime: Runtime,
  port = 0,
  options: ListenOptions = {},
): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = async (self: Self) => {
      listen(self, { port }, options);
      const listening = await self.receive(Listening);
      resolve(listening.listening.port);
      for (;;) {
        const hello = await self.receive(Hello);
        self.reply(Welcome({ yourName: hello.myName, myName: 'server' }));
      }
    };
    runtime.spawn(server);
    setTimeout(() => reject(new Error(`server did not listen on ${port}`)), WAIT_MS).unref();
  });
}

/** A raw TCP server that accepts each connection and destroys it at once. */
export async function slammingServer(): Promise<{
  port: number;
  accepted: () => number;
  close: () => Promise<void>;
}> {
  let accepted = 0;
  const server = createServer((socket: Socket) => {
    accepted++;
    socket.destroy();
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as AddressInfo).port,
    accepted: () => accepted,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** A port nothing listens on (found by listening on 0 and closing). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
