/**
 * Shared set-up of the transfer tests: a receiving runtime listening on 127.0.0.1 with a
 * file receiver behind transferSession, and a sending runtime connected to it (directly,
 * or through a group member that reconnects).
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  Connected,
  GroupUpdate,
  Listening,
  connect,
  connectTo,
  createGroup,
  groupTable,
  listen,
  sessionOf,
  type BackoffPolicy,
  type ListenOptions,
} from '@herald/net';
import type { Address } from '@herald/runtime';
import { spawnProbe, testRuntime, type Probe } from '@herald/testing';
import {
  spawnFileReceiver,
  transferSession,
  type FileReceiverOptions,
} from '../src/transfer/api.js';
import { transferMessages } from '../src/transfer/messages.js';

const directories: string[] = [];

export async function tempDirectory(label: string): Promise<string> {
  const dir = await mkdtemp(path.join(tmpdir(), `herald-${label}-`));
  directories.push(dir);
  return dir;
}

export async function removeTempDirectories(): Promise<void> {
  await Promise.all(directories.splice(0).map((d) => rm(d, { recursive: true, force: true })));
}

/** Reconnect at once and then every 50 ms: tests wait for events, not for a backoff. */
export const QUICK_BACKOFF: BackoffPolicy = {
  steps: [0],
  regular: 50,
  jitter: 0,
  jitterQuantumMs: 1,
};

export interface ReceivingEnd {
  readonly server: Probe;
  readonly receiver: Address;
  readonly port: number;
  readonly directory: string;
}

/** A listening runtime whose peers reach a file receiver writing into a fresh directory. */
export async function receivingEnd(
  options: Partial<FileReceiverOptions> = {},
  listenOptions: ListenOptions = {},
): Promise<ReceivingEnd> {
  const directory = options.directory ?? (await tempDirectory('inbox'));
  const server = await spawnProbe(
    testRuntime({
      messages: transferMessages,
      ...(process.env['DBG'] ? { logLevel: 'debug' } : {}),
    }),
    'server',
  );
  const receiver = spawnFileReceiver(server.self, { ...options, directory });
  listen(
    server.self,
    { port: 0 },
    { ...listenOptions, messages: transferMessages, session: sessionOf(transferSession, receiver) },
  );
  const { message } = await server.next(Listening);
  return { server, receiver, port: message.listening.port, directory };
}

/** A sending runtime connected straight to `port`: returns the proxy. */
export async function sendingEnd(port: number): Promise<{ client: Probe; to: Address }> {
  const client = await spawnProbe(
    testRuntime({
      messages: transferMessages,
      ...(process.env['DBG'] ? { logLevel: 'debug' } : {}),
    }),
    'client',
  );
  connect(client.self, { host: '127.0.0.1', port }, { messages: transferMessages });
  const { from } = await client.next(Connected);
  return { client, to: from };
}

/** A sending runtime whose way to `port` is a group member (stable across reconnects). */
export async function reconnectingEnd(port: number): Promise<{ client: Probe; to: Address }> {
  const client = await spawnProbe(
    testRuntime({
      messages: transferMessages,
      ...(process.env['DBG'] ? { logLevel: 'debug' } : {}),
    }),
    'client',
  );
  createGroup(
    client.self,
    groupTable({
      server: connectTo(
        { host: '127.0.0.1', port },
        { messages: transferMessages, backoff: QUICK_BACKOFF },
      ),
    }),
  );
  const update = await client.next(GroupUpdate, (u) => u.address !== undefined);
  return { client, to: update.message.address as Address };
}
