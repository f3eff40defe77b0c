/** Ports for tests on 127.0.0.1. */
import { createServer, type AddressInfo } from 'node:net';
import { withTimeout, DEFAULT_WAIT_MS } from './wait.js';

/**
 * A port on 127.0.0.1 that nothing listens on now: the OS picks it (listen on port 0),
 * then it is closed. For a server that must start later on a port a client already knows.
 * Another process could take the port in between; on a test machine that is rare enough.
 */
export async function freePort(): Promise<number> {
  const server = createServer();
  await withTimeout(
    new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', resolve);
    }),
    DEFAULT_WAIT_MS,
    'a listening socket on port 0',
  );
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
