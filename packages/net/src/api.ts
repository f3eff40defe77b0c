/**
 * listen(), connect(), stopListening(), close(): the networking calls. Each returns at
 * once; results arrive as messages (docs/networking.md).
 */
import { Close, StopListening } from './messages.js';
import { existingNetworkOf, networkOf } from './network.js';
import type { GroupInfo } from './group/manager.js';
import { Listener } from './listener.js';
import { SocketProxy, type ConnectionInfo } from './proxy.js';
import { checkConnect, checkListen } from './option-checks.js';
import { tcpTransport } from './transport/tcp.js';
import type { ConnectAddress, ConnectOptions, ListenAddress, ListenOptions } from './options.js';
import type { Address, Runtime, Self } from '@herald/runtime';

/**
 * Listens for connections. The caller (the controller) receives Listening (with the real
 * port when 0 was asked) or NotListening; then Accepted per connection (from its proxy, or
 * from its session when `session` is set) and Closed / Abandoned when it ends. Returns the
 * listener's address (for stopListening). Throws `HERALD_ERR_BAD_OPTION` (before anything is
 * opened) when an option is out of range.
 */
export function listen(self: Self, at: ListenAddress, options: ListenOptions = {}): Address {
  checkListen(at, options);
  const network = networkOf(self.runtime);
  if (options.messages !== undefined) self.runtime.catalogue.add(...options.messages);
  const requested = { host: at.host ?? '127.0.0.1', port: at.port };
  return self.runtime.spawn(new Listener(network, self.address, requested, options));
}

/** Stops accepting new connections (existing ones stay). The listener replies NotListening(HERALD_LISTEN_STOPPED). */
export function stopListening(self: Self, listener: Address): void {
  self.send(listener, StopListening());
}

/**
 * Connects. The caller receives Connected (from the proxy, or the session) or
 * NotConnected, then Closed / Abandoned when the connection ends. Returns the proxy's
 * address: messages sent to it before Connected are queued and sent after the handshake.
 * Throws `HERALD_ERR_BAD_OPTION` (before any socket is opened) when an option is out of range.
 */
export function connect(self: Self, to: ConnectAddress, options: ConnectOptions = {}): Address {
  checkConnect(to, options);
  const network = networkOf(self.runtime);
  if (options.messages !== undefined) self.runtime.catalogue.add(...options.messages);
  const transport = options.transport ?? tcpTransport;
  const abort = new AbortController();
  const requested = { host: to.host, port: to.port };
  const dial = transport.dial(requested, { signal: abort.signal });
  // The proxy takes the outcome on its own turn; this keeps a rejection from ever being
  // unhandled if the proxy cannot start.
  dial.catch(() => {});
  const proxy = new SocketProxy({
    network,
    role: 'connector',
    controller: self.address,
    options,
    dial,
    abort,
    requested,
  });
  return self.runtime.spawn(proxy);
}

/** Closes the connection behind `remote` (a proxy); the controller receives Closed with `value`. */
export function close(self: Self, remote: Address, value?: unknown): void {
  self.send(remote, Close({ value }));
}

/**
 * Every connection of `runtime` (connecting, open, or ending), with its counters: a
 * snapshot built on each call for management tools (docs/observability.md).
 */
export function connections(runtime: Runtime): readonly ConnectionInfo[] {
  const network = existingNetworkOf(runtime);
  if (network === undefined) return [];
  return [...network.proxies.values()].map((proxy) => proxy.info());
}

/**
 * Closes the connection behind `proxy` from outside its controller (a management tool):
 * queued messages are written first, then CLOSE with `reason` (default 'disconnected');
 * the controller receives Closed with that reason and the peer Abandoned. False when
 * `proxy` is not a connection of this runtime.
 */
export function disconnect(runtime: Runtime, proxy: Address, reason = DISCONNECT_REASON): boolean {
  const network = existingNetworkOf(runtime);
  const connection = proxy.isLocal ? network?.proxies.get(proxy.local) : undefined;
  if (connection === undefined || connection.ended()) return false;
  connection.disconnect(reason);
  return true;
}

/** The close reason `disconnect` gives when none is given. */
const DISCONNECT_REASON = 'disconnected';

/** Every live group of `runtime` and the state of its members (docs/groups.md). */
export function groups(runtime: Runtime): readonly GroupInfo[] {
  const network = existingNetworkOf(runtime);
  if (network === undefined) return [];
  return [...network.groups].map((group) => group.info());
}
