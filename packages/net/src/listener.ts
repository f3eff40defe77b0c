/**
 * The listener actor: owns one TCP server, reports Listening / NotListening to its
 * controller, and starts a SocketProxy per accepted connection. It ends (closing the
 * server, not the connections it accepted) on StopListening, Stop, or when its controller
 * ends.
 */
import { createServer, type Server, type Socket } from 'node:net';
import {
  Terminated,
  type Address,
  type AnyMessage,
  type Envelope,
  type Handler,
  type Self,
} from '@herald/runtime';
import { DEFAULT_LISTEN_BACKLOG } from './constants.js';
import { Listening, NotListening, StopListening, type HostPort } from './messages.js';
import type { Network } from './network.js';
import type { ListenOptions } from './options.js';
import { SocketProxy } from './proxy.js';

export class Listener implements Handler {
  readonly name = 'Listener';
  readonly #network: Network;
  readonly #controller: Address;
  readonly #requested: HostPort;
  readonly #options: ListenOptions;
  #server: Server | undefined;
  #listening: HostPort | undefined;
  #self!: Self;

  constructor(network: Network, controller: Address, requested: HostPort, options: ListenOptions) {
    this.#network = network;
    this.#controller = controller;
    this.#requested = requested;
    this.#options = options;
  }

  start(self: Self): void {
    this.#self = self;
    self.watch(this.#controller);
    const server = createServer({ noDelay: true, pauseOnConnect: false });
    this.#server = server;
    this.#network.servers.add(server);
    server.on('connection', (socket: Socket) => this.#accept(socket));
    server.once('listening', () => {
      const address = server.address();
      const port =
        typeof address === 'object' && address !== null ? address.port : this.#requested.port;
      this.#listening = { host: this.#requested.host, port };
      self.log.info(
        { host: this.#requested.host, port, encrypted: this.#options.encrypted === true },
        'listening',
      );
      self.send(
        this.#controller,
        Listening({
          requested: this.#requested,
          listening: this.#listening,
          encrypted: this.#options.encrypted === true,
          listener: self.address,
        }),
      );
    });
    server.on('error', (error: NodeJS.ErrnoException) => {
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
    });
    server.listen({
      host: this.#requested.host,
      port: this.#requested.port,
      backlog: this.#options.backlog ?? DEFAULT_LISTEN_BACKLOG,
    });
  }

  #accept(socket: Socket): void {
    const proxy = new SocketProxy({
      network: this.#network,
      role: 'acceptor',
      socket,
      controller: this.#controller,
      options: this.#options,
      listening: this.#listening ?? this.#requested,
    });
    this.#self.runtime.spawn(proxy);
  }

  receive(self: Self, message: AnyMessage, envelope: Envelope): void {
    if (StopListening.is(message)) {
      this.#stop(envelope.from);
    } else if (Terminated.is(message) && envelope.from.equals(this.#controller)) {
      this.#stop(undefined);
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
    const server = this.#server;
    if (server !== undefined) {
      this.#server = undefined;
      server.close(() => this.#network.servers.delete(server));
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
