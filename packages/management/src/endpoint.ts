/**
 * `openManagement(runtime, options)`: the management endpoint a process opens on itself.
 *
 * - A management actor in the runtime answers the management protocol (messages.ts).
 * - With `operators`, that actor also listens for Herald connections: encrypted, with this
 *   endpoint's `identity`, admitting only the operators' keys (anything else is refused
 *   with `not-authorized` during the handshake). `herald status` and `herald top` use it.
 * - Unless `http: false`, an HTTP server serves the browser inspector, `/api/snapshot`
 *   and (given a prom-client registry) `/metrics`, behind a random token.
 *
 * Both listen on loopback unless `host` says otherwise. Nothing is opened unless this is
 * called: management is opt-in.
 */
import { randomBytes } from 'node:crypto';
import type { Address } from '@herald/codec';
import { NotListening, formatPublicKey, type IdentityKeyPair } from '@herald/net';
import { withOptions, type Runtime } from '@herald/runtime';
import { Activity } from './activity.js';
import {
  DEFAULT_INSPECTOR_HISTORY,
  DEFAULT_INSPECTOR_MAX_BUFFERED_BYTES,
  DEFAULT_INSPECTOR_MAX_CLIENTS,
  DEFAULT_INSPECTOR_UPDATES_PER_SECOND,
  DEFAULT_MANAGEMENT_HOST,
  INSPECTOR_TOKEN_BYTES,
} from './constants.js';
import { ManagementError } from './errors.js';
import { InspectorFeed } from './inspector-feed.js';
import {
  openInspectorServer,
  type InspectorServer,
  type MetricsRegistry,
} from './inspector-server.js';
import { answer, managementActor, type ManagementListen } from './management-actor.js';
import { GetSnapshot, type SubscriptionEntry } from './messages.js';

/** The management actor's name in logs and listings. */
const MANAGEMENT_ACTOR_NAME = 'management';

/** Shortest token accepted from `options.token` (hex characters or otherwise). */
const MIN_TOKEN_LENGTH = 16;

export interface ManagementOptions {
  /** Interface both listeners bind. Default '127.0.0.1' (loopback only). */
  readonly host?: string;
  /**
   * This endpoint's key pair: operators pin its public key (`endpoint.herald.publicKey`).
   * Required with `operators`.
   */
  readonly identity?: IdentityKeyPair;
  /**
   * Operators' public keys (`herald-x25519:…`, hex or bytes). When given (and not empty),
   * the endpoint listens for Herald connections from these keys only; when absent, there
   * is no Herald listener (the management actor still answers local actors).
   */
  readonly operators?: Iterable<string | Uint8Array>;
  /** Port of the Herald listener. Default 0 (the OS picks; see `endpoint.herald.port`). */
  readonly port?: number;
  /** Serve the browser inspector over HTTP. Default true. */
  readonly http?: boolean;
  /** Port of the HTTP server. Default 0. */
  readonly httpPort?: number;
  /** The inspector's access token. Default: INSPECTOR_TOKEN_BYTES random bytes, hex. */
  readonly token?: string;
  /** A prom-client Registry to serve on `/metrics` (see registerMetrics). */
  readonly metrics?: MetricsRegistry;
  /**
   * Subscriptions this process holds, for `GetSubscriptions` (a topic broker or a
   * discovery watcher reports its own here). The inspector's browsers are always listed.
   */
  readonly subscriptions?: () => readonly SubscriptionEntry[];
  /** Updates a second one browser receives at most. Default DEFAULT_INSPECTOR_UPDATES_PER_SECOND (5). */
  readonly updatesPerSecond?: number;
  /** Unread bytes after which a browser counts as slow. Default DEFAULT_INSPECTOR_MAX_BUFFERED_BYTES (1 MiB). */
  readonly maxBufferedBytes?: number;
  /** Browsers at once. Default DEFAULT_INSPECTOR_MAX_CLIENTS (16). */
  readonly maxClients?: number;
}

export interface ManagementEndpoint {
  /** Where operators connect, and the key they pin; undefined without `operators`. */
  readonly herald:
    { readonly host: string; readonly port: number; readonly publicKey: string } | undefined;
  /** The inspector's URL, token included; undefined with `http: false`. */
  readonly url: string | undefined;
  readonly token: string;
  /** The management actor: local actors may send it requests too. */
  readonly actor: Address;
  /** Stops the actor and both listeners; open operator connections are closed. */
  close(): Promise<void>;
}

function isLoopback(host: string): boolean {
  return host === 'localhost' || host === '::1' || host.startsWith('127.');
}

function bad(message: string): never {
  throw new ManagementError('HERALD_ERR_BAD_OPTION', message);
}

function checkPort(name: string, port: number | undefined): number {
  if (port === undefined) return 0;
  if (!Number.isInteger(port) || port < 0 || port > 65_535)
    bad(`${name} must be a port number (0 to 65535)`);
  return port;
}

function checkPositive(name: string, value: number | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  if (!Number.isFinite(value) || value <= 0) bad(`${name} must be a positive number`);
  return value;
}

/** Opens a management endpoint on `runtime` (see the module comment). */
export async function openManagement(
  runtime: Runtime,
  options: ManagementOptions = {},
): Promise<ManagementEndpoint> {
  const host = options.host ?? DEFAULT_MANAGEMENT_HOST;
  const port = checkPort('port', options.port);
  const httpPort = checkPort('httpPort', options.httpPort);
  const operators = options.operators === undefined ? [] : [...options.operators];
  if (options.operators !== undefined && operators.length === 0)
    bad(
      'operators is empty: give at least one operator key, or leave it out for no Herald listener',
    );
  if (operators.length > 0 && options.identity === undefined)
    bad('operators need the endpoint to have an identity (they pin its public key)');
  const token = options.token ?? randomBytes(INSPECTOR_TOKEN_BYTES).toString('hex');
  if (token.length < MIN_TOKEN_LENGTH || !/^[A-Za-z0-9_-]+$/.test(token))
    bad(`token must be at least ${MIN_TOKEN_LENGTH} characters of [A-Za-z0-9_-]`);
  const updatesPerSecond = checkPositive(
    'updatesPerSecond',
    options.updatesPerSecond,
    DEFAULT_INSPECTOR_UPDATES_PER_SECOND,
  );
  const maxBufferedBytes = checkPositive(
    'maxBufferedBytes',
    options.maxBufferedBytes,
    DEFAULT_INSPECTOR_MAX_BUFFERED_BYTES,
  );
  const maxClients = checkPositive('maxClients', options.maxClients, DEFAULT_INSPECTOR_MAX_CLIENTS);

  const activity = new Activity(runtime);
  let server: InspectorServer | undefined;
  const subscriptions = (): readonly SubscriptionEntry[] => {
    const browsers: SubscriptionEntry[] =
      server === undefined || server.clients === 0
        ? []
        : [
            {
              kind: 'inspector',
              subject: 'inspection',
              subscriber: 'browser',
              detail: `${server.clients} connected`,
            },
          ];
    return [...(options.subscriptions?.() ?? []), ...browsers];
  };
  const setup = { activity, subscriptions };
  const listenSetup: ManagementListen | undefined =
    operators.length === 0 || options.identity === undefined
      ? undefined
      : { host, port, identity: options.identity, operators };

  let ready!: (result: unknown) => void;
  const listening = new Promise<unknown>((resolve) => (ready = resolve));
  const actor = runtime.spawn(withOptions(managementActor, { name: MANAGEMENT_ACTOR_NAME }), {
    ...setup,
    listen: listenSetup,
    ready,
  });
  const result = (await listening) as
    { listening: { host: string; port: number } } | NotListening | undefined;
  if (result !== undefined && NotListening.is(result)) {
    activity.close();
    throw new ManagementError(
      'HERALD_ERR_MANAGEMENT_LISTEN_FAILED',
      `management endpoint cannot listen on ${host}:${port}: ${result.errno ?? result.explanation}`,
    );
  }

  const feed = new InspectorFeed(runtime, activity, {
    clock: runtime.clock,
    updatesPerSecond,
    maxBufferedBytes,
    history: DEFAULT_INSPECTOR_HISTORY,
  });
  if (options.http !== false) {
    try {
      server = await openInspectorServer({
        host,
        port: httpPort,
        token,
        maxClients,
        feed,
        snapshot: () => answer(runtime, setup, GetSnapshot({})),
        metrics: options.metrics,
        onError: (error) => runtime.logger.error({ err: error }, 'management HTTP server error'),
      });
    } catch (error) {
      runtime.stop(actor);
      activity.close();
      throw new ManagementError(
        'HERALD_ERR_MANAGEMENT_LISTEN_FAILED',
        `management inspector cannot listen on ${host}:${httpPort}`,
        { cause: error },
      );
    }
  }

  let closing: Promise<void> | undefined;
  const close = (): Promise<void> => {
    closing ??= (async () => {
      unhook();
      feed.close();
      const ended = runtime.isAlive(actor) ? runtime.completion(actor) : Promise.resolve();
      runtime.stop(actor);
      await Promise.all([ended.catch(() => undefined), server?.close()]);
      activity.close();
    })();
    return closing;
  };
  const unhook = runtime.onClose(close);
  const herald =
    result === undefined || options.identity === undefined
      ? undefined
      : {
          host: result.listening.host,
          port: result.listening.port,
          publicKey: formatPublicKey(options.identity.publicKey),
        };
  if (server !== undefined) {
    runtime.logger.info(
      { url: server.url.replace(/token=.*/, 'token=…') },
      'management inspector serving',
    );
    // Plain HTTP: off loopback, the token and everything the page shows cross the network
    // in clear. Allowed (a private link, a tunnel), but never silently.
    if (!isLoopback(host))
      runtime.logger.warn(
        { host },
        'management inspector is served over plain HTTP on a non-loopback address: its token can be read on the network',
      );
  }
  return { herald, url: server?.url, token, actor, close };
}
