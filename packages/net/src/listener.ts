/**
 * The listener actor: owns one transport listening endpoint, reports Listening /
 * NotListening to its controller, and starts a SocketProxy per accepted connection. It ends
 * (closing the endpoint, not the connections it accepted) on StopListening, Stop, or when
 * its controller ends.
 */
import {
  Terminated,
  type Address,
  type AnyMessage,
  type Envelope,
  type Handler,
  type Self,
} from '@herald/runtime';
import { LogThrottle } from '@herald/runtime/internal';
import { AccessControl } from './access.js';
import { DEFAULT_LISTEN_BACKLOG } from './constants.js';
import { Listening, NotListening, StopListening, type HostPort } from './messages.js';
import type { Network } from './network.js';
import type { ListenOptions } from './options.js';
import { SocketProxy } from './proxy.js';
import { tcpTransport } from './transport/tcp.js';
import type { TransportConnection, TransportListener } from './transport/transport.js';

export class Listener implements Handler {
  readonly name = 'Listener';
  readonly #network: Network;
  readonly #controller: Address;
  readonly #requested: HostPort;
  readonly #options: ListenOptions;
  #endpoint: TransportListener | undefined;
  #listening: HostPort | undefined;
  #stopped = false;
  #self!: Self;
  readonly #access: AccessControl;
  /** Remote host of each live accepted connection, by proxy id (released when it ends). */
  readonly #hosts = new Map<number, string>();
  #refusalLog!: LogThrottle;
  #refused = 0;

  constructor(network: Network, controller: Address, requested: HostPort, options: ListenOptions) {
    this.#network = network;
    this.#controller = controller;
    this.#requested = requested;
    this.#options = options;
    this.#access = new AccessControl(options);
  }

  /** Connections refused at accept so far (allow/deny lists and caps). */
  get refused(): number {
    return this.#refused;
  }

  start(self: Self): void {
    this.#self = self;
    const clock = self.runtime.clock;
    this.#refusalLog = new LogThrottle(() => clock.now());
    self.watch(this.#controller);
    const transport = this.#options.transport ?? tcpTransport;
    transport
      .listen(this.#requested, (connection) => this.#accept(connection), {
        backlog: this.#options.backlog ?? DEFAULT_LISTEN_BACKLOG,
        onError: (error: NodeJS.ErrnoException) =>
          self.log.warn({ errno: error.code }, `listening endpoint error: ${error.message}`),
      })
      .then(
        (endpoint) => {
          if (this.#stopped) {
            void endpoint.close();
            return;
          }
          this.#endpoint = endpoint;
          this.#network.listeners.add(endpoint);
          this.#listening = { host: this.#requested.host, port: endpoint.address.port };
          const o = this.#options;
          const encrypted =
            o.encrypted ??
            (o.identity !== undefined ||
              o.allowedPeerKeys !== undefined ||
              o.requirePeerKey === true);
          self.log.info(
            {
              host: this.#requested.host,
              port: endpoint.address.port,
              encrypted,
              transport: transport.name,
            },
            'listening',
          );
          self.send(
            this.#controller,
            Listening({
              requested: this.#requested,
              listening: this.#listening,
              encrypted,
              listener: self.address,
            }),
          );
        },
        (error: NodeJS.ErrnoException) => {
          if (this.#stopped) return;
          self.log.warn({ errno: error.code }, `cannot listen: ${error.message}`);
          self.send(
            this.#controller,
            NotListening({
              requested: this.#requested,
              explanation: `cannot listen at ${this.#requested.host}:${this.#requested.port}: ${error.message}`,
              ...(error.code === undefined ? {} : { errno: error.code }),
            }),
          );
          this.#stop(undefined);
        },
      );
  }

  #accept(connection: TransportConnection): void {
    if (this.#stopped) {
      connection.stream.destroy();
      return;
    }
    const host = connection.remote.host;
    const refusal = this.#access.admit(host);
    if (refusal !== undefined) {
      // Refused before any handshake work: the stream goes at once.
      connection.stream.destroy();
      this.#refused++;
      this.#refusalLog.log(
        this.#self.log,
        'warn',
        refusal,
        { peer: `${host}:${connection.remote.port}`, reason: refusal, refused: this.#refused },
        `refused connection: ${refusal}`,
      );
      return;
    }
    const proxy = new SocketProxy({
      network: this.#network,
      role: 'acceptor',
      connection,
      controller: this.#controller,
      options: this.#options,
      listening: this.#listening ?? this.#requested,
    });
    const address = this.#self.runtime.spawn(proxy);
    this.#hosts.set(address.local, host);
    // Its end comes back as Terminated, which releases its place in the caps.
    this.#self.watch(address);
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    if (StopListening.is(message)) {
      this.#stop(envelope.from);
    } else if (Terminated.is(message) && envelope.from.equals(this.#controller)) {
      this.#stop(undefined);
    } else if (Terminated.is(message) && this.#hosts.has(envelope.from.local)) {
      const host = this.#hosts.get(envelope.from.local) as string;
      this.#hosts.delete(envelope.from.local);
      this.#access.release(host);
    } else {
      self.runtime.reportDeadLetter({
        to: envelope.to,
        from: envelope.from,
        message,
        reason: 'unhandled',
      });
    }
  }

  onStop(): void {
    this.#stop(undefined);
  }

  #stop(requester: Address | undefined): void {
    this.#stopped = true;
    const endpoint = this.#endpoint;
    if (endpoint !== undefined) {
      this.#endpoint = undefined;
      void endpoint.close().then(() => this.#network.listeners.delete(endpoint));
    }
    if (requester !== undefined) {
      this.#self.send(
        requester,
        NotListening({
          requested: this.#requested,
          code: 'HERALD_LISTEN_STOPPED',
          explanation: 'stopped listening by request',
        }),
      );
    }
    this.#self.complete(undefined);
  }
}
