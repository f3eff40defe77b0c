/**
 * Probes: actors that record every message they receive, so a test can await "the next
 * Connected" instead of sleeping. A probe's `self` makes a good controller for `listen()`
 * and `connect()`: every session message then lands in its inbox.
 *
 * ```ts
 * const client = await spawnProbe(testRuntime(), { name: 'client' });
 * connect(client.self, { host: '127.0.0.1', port });
 * const { message, from } = await client.next(Connected);
 * ```
 */
import type { Address, AnyMessage } from '@herald/codec';
import type { Envelope, Handler, Runtime, Self } from '@herald/runtime';
import { DEFAULT_WAIT_MS } from './wait.js';
import { TestingError } from './errors.js';
import { Recorder } from './recorder.js';

/** What a probe needs of a message type: its name and its guard (any `defineMessage` result). */
export interface MessageGuard<M extends AnyMessage> {
  readonly type: string;
  is(value: unknown): value is M;
}

/** One message a probe received, with its return address. */
export interface Received<M extends AnyMessage = AnyMessage> {
  readonly message: M;
  readonly from: Address;
}

export interface ProbeOptions {
  /** The actor's name in logs and inspection. Default `probe`. */
  readonly name?: string;
  /** Runs when the actor starts, before the first message (e.g. `listen(self, ...)`). */
  readonly onStart?: (self: Self) => void;
  /**
   * Runs for each message before it is recorded, so a probe can answer (`self.reply(...)`)
   * or update state that a waiter then sees.
   */
  readonly onMessage?: (message: AnyMessage, self: Self, envelope: Envelope) => void;
}

/** A recording actor; made by {@link spawnProbe}. */
export class Probe {
  readonly name: string;
  /** Every message received so far, oldest first (also as `recorder.entries`). */
  readonly inbox: readonly Received[];
  /** The awaitable list behind `inbox`. */
  readonly recorder: Recorder<Received>;
  #self: Self | undefined;

  constructor(name: string) {
    this.name = name;
    this.recorder = new Recorder<Received>(`${name}'s inbox`, (r) => r.message.type);
    this.inbox = this.recorder.entries;
  }

  /** The actor's own handle (set once it has started, i.e. by the time spawnProbe resolves). */
  get self(): Self {
    if (this.#self === undefined) {
      throw new TestingError('HERALD_ERR_TEST_MISUSE', `probe ${this.name} has not started`);
    }
    return this.#self;
  }

  get address(): Address {
    return this.self.address;
  }

  /** Called by the actor; tests do not call these. */
  started(self: Self): void {
    this.#self = self;
  }

  /** Records a received message (called by the actor). */
  record(received: Received): void {
    this.recorder.record(received);
  }

  /**
   * The next message of `type` (that passes `where`) after the one the previous `next`
   * returned: successive calls walk forward through the inbox in arrival order, and a
   * message that arrived before the call is still found. Rejects after `timeoutMs`, quoting
   * the inbox.
   */
  next<M extends AnyMessage>(
    type: MessageGuard<M>,
    where: (message: M) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<Received<M>> {
    return this.recorder.next((r) => type.is(r.message) && where(r.message), {
      timeoutMs,
      what: `${type.type} at ${this.name}`,
    }) as Promise<Received<M>>;
  }

  /**
   * The first message of `type` (that passes `where`) received at any time, old or new.
   * Looks without taking: it does not move `next`'s position.
   */
  waitFor<M extends AnyMessage>(
    type: MessageGuard<M>,
    where: (message: M) => boolean = () => true,
    timeoutMs = DEFAULT_WAIT_MS,
  ): Promise<M> {
    return this.recorder
      .waitFor((r) => type.is(r.message) && where(r.message), {
        timeoutMs,
        what: `${type.type} at ${this.name}`,
      })
      .then((r) => r.message as M);
  }

  /** Messages of `type` received so far, in order. */
  all<M extends AnyMessage>(type: MessageGuard<M>): M[] {
    return this.inbox.flatMap((r) => (type.is(r.message) ? [r.message] : []));
  }

  /** How many messages of `type` were received so far. */
  count(type: MessageGuard<AnyMessage>): number {
    return this.all(type).length;
  }

  /** The type names of everything received so far, in order. */
  types(): string[] {
    return this.inbox.map((r) => r.message.type);
  }
}

/**
 * Spawns a probe actor in `runtime` and resolves once it has started (so `probe.self` is
 * set). On Stop it completes at once.
 */
export function spawnProbe(runtime: Runtime, options: ProbeOptions | string = {}): Promise<Probe> {
  const {
    name = 'probe',
    onStart,
    onMessage,
  } = typeof options === 'string' ? { name: options } : options;
  const probe = new Probe(name);
  return new Promise<Probe>((resolve) => {
    const handler: Handler = {
      name,
      start(self) {
        probe.started(self);
        onStart?.(self);
        resolve(probe);
      },
      receive(self, message, envelope) {
        onMessage?.(message, self, envelope);
        probe.record({ message, from: envelope.from });
      },
      onStop(self) {
        self.complete(undefined);
      },
    };
    runtime.spawn(handler);
  });
}
