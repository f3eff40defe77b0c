/**
 * Group test support on top of @herald/testing: an owner actor that creates a group and
 * records what it receives, a server that slams every connection shut, and a counter of
 * connection attempts. Every wait is event-driven and bounded.
 */
import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import type { Runtime } from '@herald/runtime';
import {
  createGroup,
  GroupUpdate,
  type GroupOptions,
  type GroupTable,
  type GroupView,
  type MemberTable,
} from '@herald/net';
import {
  closeTestRuntimes,
  DEFAULT_WAIT_MS,
  Signal,
  spawnProbe,
  waitFor,
  type Probe,
} from '@herald/testing';

/** The group's owner: a probe whose `group` is kept up to date by every GroupUpdate. */
export type Owner<T extends MemberTable> = Probe & { readonly group: GroupView<T> };

/** Spawns an owner actor in `runtime` that creates a group from `table`. */
export async function startOwner<T extends MemberTable>(
  runtime: Runtime,
  table: GroupTable<T>,
  options: GroupOptions = {},
): Promise<Owner<T>> {
  let group: GroupView<T> | undefined;
  const probe = await spawnProbe(runtime, {
    name: 'owner',
    onStart: (self) => {
      group = createGroup(self, table, options);
    },
    // Applied before the update is recorded, so a test that awaited it sees the new table.
    onMessage: (message) => {
      if (GroupUpdate.is(message)) group?.update(message);
    },
  });
  if (group === undefined) throw new Error('owner: the group was not created on start');
  return Object.assign(probe, { group });
}

const servers: Server[] = [];

/** Closes every test runtime and raw server made here (use in afterEach). */
export async function cleanup(): Promise<void> {
  await closeTestRuntimes();
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
  readonly #signal = new Signal();

  constructor(runtime: Runtime) {
    runtime.inspect((event) => {
      if (event.kind === 'created' && event.name === 'SocketProxy') {
        this.started++;
        this.startedAt.push(performance.now());
      } else if (event.kind === 'destroyed' && event.name === 'SocketProxy') this.ended++;
      else return;
      this.#signal.changed();
    });
  }

  /** Resolves once at least `count` attempts have ended. */
  async untilEnded(count: number, timeoutMs = DEFAULT_WAIT_MS): Promise<void> {
    await waitFor(() => this.ended >= count, {
      on: this.#signal,
      timeoutMs,
      what: `${count} connection attempts ended`,
      describe: () => `started ${this.started}, ended ${this.ended}`,
    });
  }
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
