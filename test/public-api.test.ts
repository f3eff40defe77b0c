/**
 * The public surface of every Herald package, pinned. Each entry point and subpath is an
 * explicit list of named exports (no `export *`), and this test holds the sorted list of
 * the values each one exports. Adding, removing or renaming an export therefore fails here
 * until this file is edited too: widening the API is a deliberate act, reviewed like any
 * other change. Types are not values and are not listed; the `export *` check below keeps
 * them explicit as well.
 *
 * `@herald/<pkg>/internal` is what Herald's own packages and tests need but users should
 * not build on (no stability promise); it is pinned so that it, too, grows only on purpose.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

/** Every entry point and the values it exports, sorted. */
const PINNED: Record<string, readonly string[]> = {
  '@herald/codec': [
    'Address',
    'BODY_FLAG_GRAPH',
    'BODY_FLAG_STREAM',
    'CodecError',
    'DEFAULT_MAX_MESSAGE_BYTES',
    'DEFAULT_MAX_STREAM_STRUCTURES',
    'HeraldError',
    'NO_ADDRESS',
    'createCatalogue',
    'createCodec',
    'defineMessage',
    'isAddress',
    'isCodecError',
    'isHeraldError',
    't',
  ],
  '@herald/codec/internal': [
    'MAX_STREAM_STRUCTURES',
    'declaredPriority',
    'declaredPriorityCount',
    'validateMessage',
  ],
  '@herald/runtime': [
    'Aborted',
    'ActorAborted',
    'Address',
    'Any',
    'CHANNEL_ACTOR_CREATED',
    'CHANNEL_ACTOR_DESTROYED',
    'CHANNEL_DEAD_LETTER',
    'CHANNEL_MESSAGE_DELIVERED',
    'Completed',
    'DEFAULT_CLOSE_TIMEOUT_MS',
    'DEFAULT_LOG_BUFFER_BYTES',
    'DEFAULT_LOG_EXIT_FLUSH_MS',
    'DEFAULT_LOG_LEVEL',
    'DEFAULT_MAILBOX_CAPACITY',
    'DEFAULT_MAX_RESTARTS',
    'DEFAULT_RESTART_BACKOFF_FACTOR',
    'DEFAULT_RESTART_INITIAL_MS',
    'DEFAULT_RESTART_MAX_MS',
    'DEFAULT_RESTART_WINDOW_MS',
    'DEFAULT_TURN_BUDGET',
    'EXIT_FAULTED',
    'EXIT_FORCED',
    'EXIT_USAGE',
    'Exhausted',
    'Faulted',
    'HeraldError',
    'LOG_FORMAT_ENV',
    'NO_ADDRESS',
    'RuntimeError',
    'Start',
    'Stop',
    'Terminated',
    'TestClock',
    'TimedOut',
    'Timer',
    'Unanswered',
    'Unwatch',
    'Watch',
    'completedOf',
    'createLogDestination',
    'createLogger',
    'createRuntime',
    'defineFault',
    'herald',
    'isAddress',
    'isFaulted',
    'isTraceparent',
    'parseLogLevel',
    'run',
    'settle',
    'stderrLogDestination',
    'systemClock',
    'terminatedOf',
    'withOptions',
  ],
  '@herald/runtime/internal': [
    'DEFAULT_LOG_INTERVAL_MS',
    'Envelope',
    'LogThrottle',
    'NO_CORRELATION',
    'PRIORITY_HIGH',
    'PRIORITY_LOW',
    'PRIORITY_NORMAL',
    'answerCorrelation',
    'faultFields',
    'isAnswer',
    'lifecycleMessages',
    'parseCommandLine',
    'priorityLevel',
    'priorityName',
    'renderValue',
    'requestCorrelation',
    'typePriority',
    'unwrapBehavior',
  ],
  '@herald/net': [
    'Abandoned',
    'Accepted',
    'AwaitDrain',
    'BadGroupError',
    'BadPolicyError',
    'CHANNEL_CONNECTION_CLOSED',
    'CHANNEL_CONNECTION_CONGESTED',
    'CHANNEL_CONNECTION_DRAINED',
    'CHANNEL_CONNECTION_OPENED',
    'Close',
    'Closed',
    'Congested',
    'Connected',
    'DEFAULT_BACKOFF_JITTER',
    'DEFAULT_BACKOFF_JITTER_QUANTUM_MS',
    'DEFAULT_BACKOFF_LOOPBACK',
    'DEFAULT_BACKOFF_PRIVATE',
    'DEFAULT_BACKOFF_PUBLIC',
    'DEFAULT_CONNECT_MAX_HEADER_BYTES',
    'DEFAULT_CONNECT_TIMEOUT_MS',
    'DEFAULT_GROUP_BUFFER_LIMIT',
    'DEFAULT_HANDSHAKE_TIMEOUT_MS',
    'DEFAULT_HIGH_WATER_BYTES',
    'DEFAULT_KEEPALIVE_IDLE_MS',
    'DEFAULT_KEEPALIVE_TIMEOUT_MS',
    'DEFAULT_LISTEN_BACKLOG',
    'DEFAULT_LISTEN_RETRY',
    'DEFAULT_LOW_WATER_BYTES',
    'DEFAULT_MAX_PENDING_BYTES',
    'DEFAULT_MEMORY_HIGH_WATER_BYTES',
    'DEFAULT_MEMORY_WINDOW_BYTES',
    'DEFAULT_TLS_HANDSHAKE_TIMEOUT_MS',
    'Drained',
    'GroupError',
    'GroupUpdate',
    'Listening',
    'MAX_ROUND_TRIP_PROBES',
    'MeasureRoundTrip',
    'NOT_DELIVERED_BUFFER_FULL',
    'NOT_DELIVERED_MEMBER_ENDED',
    'NetError',
    'NoAddress',
    'NoRoundTrip',
    'NotConnected',
    'NotDelivered',
    'NotListening',
    'NotReady',
    'Ready',
    'RoundTrip',
    'StopListening',
    'UseAddress',
    'close',
    'connect',
    'connectTo',
    'connections',
    'createGroup',
    'createIdentity',
    'createMemoryNetwork',
    'disconnect',
    'formatPublicKey',
    'groupTable',
    'groups',
    'httpConnectTransport',
    'isGroupError',
    'listen',
    'listenAt',
    'loadIdentity',
    'parsePublicKey',
    'saveIdentity',
    'sessionOf',
    'stopListening',
    'tcpTransport',
    'tlsTransport',
    'transportError',
  ],
  '@herald/net/wire': [
    'ANONYMOUS_PEER',
    'AUTH_FLAG_STATIC_KEY',
    'ByteReader',
    'ByteWriter',
    'CHUNK_FLAG_FIRST',
    'CHUNK_FLAG_LAST',
    'CHUNK_PREFIX_BYTES',
    'CloseReason',
    'DEFAULT_FRAME_TIMEOUT_MS',
    'DEFAULT_KEEPALIVE_IDLE_MS',
    'DEFAULT_MAX_FRAME_BYTES',
    'DEFAULT_MAX_MESSAGE_BYTES',
    'DEFAULT_MAX_PROCESS_REASSEMBLY_BYTES',
    'DEFAULT_MAX_REASSEMBLY_BYTES',
    'DEFAULT_MIN_FRAME_BYTES_PER_SECOND',
    'DEFAULT_PARTIAL_MESSAGE_TIMEOUT_MS',
    'DIRECTION_ACCEPTOR',
    'DIRECTION_CONNECTOR',
    'FRAME_HEADER_BYTES',
    'FRAME_KIND_AUTH',
    'FRAME_KIND_READY',
    'FrameDecoder',
    'FrameKind',
    'FrameWriter',
    'HANDSHAKE_LABEL',
    'HELLO_FIXED_BYTES',
    'HELLO_FLAG_ENCRYPT',
    'Handshake',
    'HandshakeReader',
    'KEY_FILE_MODE',
    'MAX_BODY_MODE',
    'MAX_CLOSE_TEXT_BYTES',
    'MAX_HANDSHAKE_FRAME_BYTES',
    'MAX_HOPS',
    'MAX_MAX_FRAME_BYTES',
    'MAX_MESSAGE_HEADER_BYTES',
    'MAX_PARTIAL_MESSAGES',
    'MAX_RECORD_COUNTER',
    'MAX_SPACE_ENTRIES',
    'MAX_TYPE_NAMES',
    'MAX_TYPE_NAME_BYTES',
    'MESSAGE_FLAGS_RESERVED',
    'MESSAGE_FLAG_TRACE',
    'MIN_MAX_FRAME_BYTES',
    'NONCE_BYTES',
    'PARTIAL_MESSAGE_OVERHEAD_BYTES',
    'PREAMBLE_BYTES',
    'PREAMBLE_MAGIC',
    'PROTOCOL_VERSION',
    'PUBLIC_KEY_BYTES',
    'PUBLIC_KEY_PREFIX',
    'RETURNING_HOME',
    'ReassemblyBudget',
    'SEALED_STATIC_KEY_BYTES',
    'SEAL_OVERHEAD_BYTES',
    'SHARED_KEY_BYTES',
    'TLV_EPHEMERAL_KEY',
    'TRACE_CONTEXT_BYTES',
    'TypeTableDecoder',
    'TypeTableEncoder',
    'WIRE_ERROR_CLOSE_REASON',
    'WRITER_INITIAL_BUFFER_BYTES',
    'WRITER_SHRINK_AFTER_FLUSHES',
    'WireError',
    'WireSession',
    'checkDecoderOptions',
    'checkHandshakeOptions',
    'closeReasonName',
    'commitHeader',
    'concatBytes',
    'createIdentity',
    'decodeCloseBody',
    'decodeHelloBody',
    'decodeMessage',
    'defaultRandom',
    'directionOf',
    'encodeCloseBody',
    'encodeCloseFrame',
    'encodeFrame',
    'encodeHelloBody',
    'encodeMessage',
    'encodePreamble',
    'formatPublicKey',
    'identityFromSecret',
    'inboundAddress',
    'inboundTo',
    'isTraceparent',
    'isWireError',
    'loadCipherSuite',
    'loadIdentity',
    'makeNonce',
    'naclCipherSuite',
    'naclKeyAgreement',
    'nodeKeyAgreement',
    'normalizePublicKey',
    'outboundAddress',
    'outboundTo',
    'parsePublicKey',
    'prepareHeader',
    'readHeader',
    'saveIdentity',
    'sodiumCipherSuite',
    'tweetnaclCipherSuite',
    'varintSize',
    'writeFrame',
    'writeHeader',
    'writeNonce',
  ],
  '@herald/net/internal': [
    'Backoff',
    'DEFAULT_CLOSE_LINGER_MS',
    'DEFAULT_EAGER_FLUSH_BYTES',
    'DEFAULT_FLUSH_BUDGET_BYTES',
    'RESERVED_MEMBER_NAMES',
    'backoffFor',
    'groupMessages',
    'hostPort',
    'jitteredDelay',
    'networkOf',
    'scopeOf',
    'sessionMessages',
    'validateBackoffPolicy',
  ],
};

/** The subpaths each package.json `exports` map declares, and the file behind each. */
const ENTRY_FILES: Record<string, Record<string, string>> = {
  codec: { '.': './src/index.ts', './internal': './src/internal.ts' },
  runtime: { '.': './src/index.ts', './internal': './src/internal.ts' },
  net: {
    '.': './src/index.ts',
    './wire': './src/wire/index.ts',
    './internal': './src/internal.ts',
  },
};

describe('public API', () => {
  it.each(Object.keys(PINNED))('%s exports exactly its pinned names', async (specifier) => {
    const namespace = (await import(specifier)) as Record<string, unknown>;
    expect(Object.keys(namespace).sort()).toEqual(PINNED[specifier]);
  });

  it.each(Object.keys(ENTRY_FILES))(
    'the exports map of @herald/%s declares exactly its entry points, types first',
    (pkg) => {
      const manifest = JSON.parse(readFileSync(`${ROOT}/packages/${pkg}/package.json`, 'utf8')) as {
        exports: Record<string, Record<string, string>>;
      };
      const expected = ENTRY_FILES[pkg] ?? {};
      expect(Object.keys(manifest.exports)).toEqual(Object.keys(expected));
      for (const [subpath, file] of Object.entries(expected)) {
        expect(manifest.exports[subpath]).toEqual({ types: file, default: file });
        expect(Object.keys(manifest.exports[subpath] ?? {})[0]).toBe('types');
      }
    },
  );

  it.each(
    Object.entries(ENTRY_FILES).flatMap(([pkg, entries]) =>
      Object.values(entries).map((file) => `packages/${pkg}/${file.slice(2)}`),
    ),
  )('%s names every export (no export *)', (file) => {
    const text = readFileSync(`${ROOT}/${file}`, 'utf8');
    expect(text).not.toMatch(/^export \*/m);
  });

  it('internals stay out of the main entries', async () => {
    const runtime = (await import('@herald/runtime')) as Record<string, unknown>;
    const net = (await import('@herald/net')) as Record<string, unknown>;
    for (const name of ['unwrapBehavior', 'parseCommandLine', 'renderValue', 'Envelope']) {
      expect(runtime[name], name).toBeUndefined();
    }
    for (const name of ['networkOf', 'wire', 'scopeOf', 'Backoff', 'sessionMessages']) {
      expect(net[name], name).toBeUndefined();
    }
    // ...and stay reachable from the internal entries for Herald's own packages.
    const runtimeInternal = (await import('@herald/runtime/internal')) as Record<string, unknown>;
    const netInternal = (await import('@herald/net/internal')) as Record<string, unknown>;
    expect(typeof runtimeInternal['unwrapBehavior']).toBe('function');
    expect(typeof netInternal['networkOf']).toBe('function');
  });
});
