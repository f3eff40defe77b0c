/**
 * Test probe: a handler actor whose inbox a test can await. Its `self` is used as the
 * controller in listen()/connect() calls, so every session message lands in the inbox.
 */
import { Writable } from 'node:stream';
import type { Address, AnyMessage } from '@herald/codec';
import {
  createRuntime,
  type Handler,
  type Runtime,
  type RuntimeOptions,
  type Self,
} from '@herald/runtime';
import pino from 'pino';

export interface Received {
  readonly message: AnyMessage;
  readonly from: Address;
}

export class Probe {
  readonly inbox: Received[] = [];
  self!: Self;
  #waiters: { match: (r: Received) => boolean; resolve: (r: Received) => void }[] = [];
  #taken = new Set<Received>();

  get address(): Address {
    return this.self.address;
  }

  push(r: Received): void {
    this.inbox.push(r);
    for (const w of this.#waiters) {
      if (!this.#taken.has(r) && w.match(r)) {
        this.#taken.add(r);
        this.#waiters = this.#waiters.filter((x) => x !== w);
        w.resolve(r);
        return;
      }
    }
  }

  /** The next not-yet-taken message whose type is `type` (and which passes `where`). */
  next<M extends AnyMessage>(
    type: { readonly type: string; is(v: unknown): v is M },
    where: (m: M) => boolean = () => true,
    timeoutMs = 10_000,
  ): Promise<{ message: M; from: Address }> {
    const match = (r: Received) => type.is(r.message) && where(r.message as M);
    const found = this.inbox.find((r) => !this.#taken.has(r) && match(r));
    if (found !== undefined) {
      this.#taken.add(found);
      return Promise.resolve(found as { message: M; from: Address });
    }
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w.resolve !== done);
        reject(
          new Error(
            `probe: no ${type.type} within ${timeoutMs} ms; inbox: ${this.inbox.map((r) => r.message.type).join(', ')}`,
          ),
        );
      }, timeoutMs);
      const done = (r: Received) => {
        clearTimeout(timer);
        resolve(r as { message: M; from: Address });
      };
      this.#waiters.push({ match, resolve: done });
    });
  }
}

export function spawnProbe(runtime: Runtime, name = 'probe'): Promise<Probe> {
  const probe = new Probe();
  return new Promise((resolve) => {
    const handler: Handler = {
      name,
      start(self) {
        probe.self = self;
        resolve(probe);
      },
      receive(_self, message, envelope) {
        probe.push({ message, from: envelope.from });
      },
      onStop(self) {
        self.complete(undefined);
      },
    };
    runtime.spawn(handler);
  });
}

/** A pino logger collecting JSON lines in memory. */
export function memoryLogger(level = 'info') {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk, _enc, cb) {
      for (const line of String(chunk).split('\n')) if (line) lines.push(JSON.parse(line));
      cb();
    },
  });
  return { logger: pino({ level }, stream), lines };
}

const live: Runtime[] = [];

/** A runtime that is closed in afterEach (call closeRuntimes()). */
export function testRuntime(options: RuntimeOptions = {}): Runtime {
  const runtime = createRuntime({ logger: pino({ level: 'silent' }), ...options });
  live.push(runtime);
  return runtime;
}

export async function closeRuntimes(): Promise<void> {
  await Promise.all(live.splice(0).map((r) => r.close({ timeoutMs: 2000 })));
}
