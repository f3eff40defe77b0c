/**
 * @packageDocumentation
 * Test support for Herald programs, the same helpers Herald's own tests use:
 *
 * - property-test seeds: fixed under CI, a printed random seed locally (`property.ts`);
 * - bounded waits: `waitFor`, `withTimeout`, `Signal`, and `Recorder`, an awaitable list;
 * - a memory logger: pino into an array of parsed lines;
 * - `testRuntime()`: a runtime on a TestClock or the real clock with a memory logger and
 *   dead-letter capture, closed by `closeTestRuntimes` in `afterEach`;
 * - probes: actors that record what they receive and let a test await the next message;
 * - the test messages Hello and Welcome, and a server that answers them;
 * - the TCP fault relay: black hole, reset, refuse, delay, byte-by-byte, tampering;
 * - child processes: run a TypeScript script, await its output lines, kill it;
 * - `freePort()`;
 * - `TestingError`: what these helpers throw, with a stable `code` (docs/errors.md).
 *
 * Network helpers here use real sockets on 127.0.0.1; the simulated (in-memory) network
 * will sit beside them as its own module.
 */
export { CI_SEEDS, propertySeeds, propertyParameters } from './property.js';
export { TestingError, type TestingErrorCode } from './errors.js';
export {
  DEFAULT_WAIT_MS,
  Signal,
  waitFor,
  withTimeout,
  type Subscribe,
  type WaitOptions,
} from './wait.js';
export { Recorder, type RecorderWaitOptions } from './recorder.js';
export {
  DEFAULT_MEMORY_LOG_LEVEL,
  memoryLogger,
  type LogLine,
  type MemoryLogger,
} from './memory-logger.js';
export {
  TEST_RUNTIME_CLOSE_TIMEOUT_MS,
  closeTestRuntimes,
  testRuntime,
  type TestRuntime,
  type TestRuntimeOptions,
} from './test-runtime.js';
export { Probe, spawnProbe, type MessageGuard, type ProbeOptions, type Received } from './probe.js';
export {
  DEFAULT_GREETING,
  Hello,
  WELCOMING_SERVER_NAME,
  Welcome,
  testMessages,
  welcomingServer,
  type Greeting,
  type WelcomingServer,
  type WelcomingServerOptions,
} from './welcoming-server.js';
export {
  startFaultRelay,
  type FaultRelay,
  type FaultRelayEvent,
  type FaultRelayOptions,
  type RelayDirection,
} from './fault-relay.js';
export {
  DEFAULT_CHILD_WAIT_MS,
  killAll,
  spawnScript,
  type ExitStatus,
  type OutputStream,
  type SpawnScriptOptions,
  type SpawnedChild,
} from './child.js';
export { freePort } from './ports.js';
export {
  SimNetwork,
  createSimNetwork,
  seededRandom,
  type SimEvent,
  type SimFault,
  type SimFaultMode,
  type SimLatency,
  type SimNetworkOptions,
  type SimNode,
  type SimSegmentEvent,
  type SegmentRoute,
} from './simnet.js';
