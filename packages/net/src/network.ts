/**
 * Per-runtime network state: the codec, the live proxies (for relaying) and the sockets to
 * clean up when the runtime closes. Held in a WeakMap keyed by runtime: no global state.
 */
import { createCodec, type Codec } from '@herald/codec';
import type { Runtime } from '@herald/runtime';
import type { Duplex } from 'node:stream';
import { sessionMessages } from './messages.js';
import type { GroupManager } from './group/manager.js';
import type { SocketProxy } from './proxy.js';
import type { TransportListener } from './transport/transport.js';
import {
  loadCipherSuite,
  naclCipherSuite,
  ReassemblyBudget,
  type CipherSuite,
} from './wire/index.js';

export class Network {
  readonly runtime: Runtime;
  readonly codec: Codec;
  /** Live proxies by actor id: the relay path looks up the next hop here. */
  readonly proxies = new Map<number, SocketProxy>();
  /** Live group managers (for `groups(runtime)`). */
  readonly groups = new Set<GroupManager>();
  /** Listening endpoints, closed when the runtime closes. */
  readonly listeners = new Set<TransportListener>();
  /** Connection streams, destroyed when the runtime closes (after every actor ended). */
  readonly streams = new Set<Duplex>();
  /**
   * The cipher implementation for new encrypted connections: sodium-native when it is
   * installed (an optional dependency, loaded in the background), tweetnacl otherwise and
   * until the load finishes. Both produce the same wire format.
   */
  cipherSuite: CipherSuite = naclCipherSuite;
  /**
   * Bytes of partial (chunked) messages all connections of this runtime may hold together
   * (docs/limits.md): one budget, shared, on top of each connection's own bound.
   */
  readonly reassembly = new ReassemblyBudget();
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

  /** Runs after every actor has ended: closes listeners and destroys streams still lingering. */
  async close(): Promise<void> {
    await Promise.all([...this.listeners].map((listener) => listener.close()));
    this.listeners.clear();
    for (const stream of this.streams) stream.destroy();
    this.streams.clear();
  }
}

const networks = new WeakMap<Runtime, Network>();

/** The runtime's network state if it has any (introspection must not create it). */
export function existingNetworkOf(runtime: Runtime): Network | undefined {
  return networks.get(runtime);
}

export function networkOf(runtime: Runtime): Network {
  let network = networks.get(runtime);
  if (network === undefined) {
    network = new Network(runtime);
    networks.set(runtime, network);
  }
  return network;
}
