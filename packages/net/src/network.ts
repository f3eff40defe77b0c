/**
 * Per-runtime network state: the codec, the live proxies (for relaying) and the sockets to
 * clean up when the runtime closes. Held in a WeakMap keyed by runtime: no global state.
 */
import { createCodec, type Codec } from '@herald/codec';
import type { Runtime } from '@herald/runtime';
import type { Server, Socket } from 'node:net';
import { sessionMessages } from './messages.js';
import type { SocketProxy } from './proxy.js';
import { loadCipherSuite, naclCipherSuite, type CipherSuite } from './wire/index.js';

export class Network {
  readonly runtime: Runtime;
  readonly codec: Codec;
  /** Live proxies by actor id: the relay path looks up the next hop here. */
  readonly proxies = new Map<number, SocketProxy>();
  readonly servers = new Set<Server>();
  readonly sockets = new Set<Socket>();
  /**
   * The cipher implementation for new encrypted connections: sodium-native when it is
   * installed (an optional dependency, loaded in the background), tweetnacl otherwise and
   * until the load finishes. Both produce the same wire format.
   */
  cipherSuite: CipherSuite = naclCipherSuite;
  #nextConnection = 1;

  constructor(runtime: Runtime) {
    this.runtime = runtime;
    runtime.catalogue.add(...sessionMessages);
    this.codec = createCodec({ catalogue: runtime.catalogue });
    runtime.onClose(() => this.close());
    void loadCipherSuite().then((suite) => {
      this.cipherSuite = suite;
      if (suite !== naclCipherSuite)
        runtime.logger.info({ cipher: suite.name }, 'native cipher loaded');
    });
  }

  nextConnectionId(): number {
    return this.#nextConnection++;
  }

  /** Runs after every actor has ended: closes servers and destroys sockets still lingering. */
  async close(): Promise<void> {
    await Promise.all(
      [...this.servers].map(
        (server) => new Promise<void>((resolve) => server.close(() => resolve())),
      ),
    );
    this.servers.clear();
    for (const socket of this.sockets) socket.destroy();
    this.sockets.clear();
  }
}

const networks = new WeakMap<Runtime, Network>();

export function networkOf(runtime: Runtime): Network {
  let network = networks.get(runtime);
  if (network === undefined) {
    network = new Network(runtime);
    networks.set(runtime, network);
  }
  return network;
}
