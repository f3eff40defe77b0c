/**
 * A runtime for one test: logs into memory, records its dead letters, knows the test
 * messages unless given others, and is closed by {@link closeTestRuntimes} (`afterEach(closeTestRuntimes)`).
 */
import {
  createRuntime,
  type Clock,
  type DeadLetter,
  type Runtime,
  type RuntimeOptions,
} from '@herald/runtime';
import { memoryLogger, DEFAULT_MEMORY_LOG_LEVEL, type MemoryLogger } from './memory-logger.js';
import { Recorder } from './recorder.js';
import { testMessages } from './welcoming-server.js';

/** How long {@link closeTestRuntimes} gives each runtime's actors to stop. */
export const TEST_RUNTIME_CLOSE_TIMEOUT_MS = 2_000;

export interface TestRuntimeOptions<C extends Clock = Clock> extends RuntimeOptions {
  /**
   * The time source: a `TestClock` to drive timers, keep-alive and backoff by hand, or the
   * real clock (the default). The runtime's `clock` has this type.
   */
  readonly clock?: C;
  /**
   * Level of the memory logger (default info). Ignored when `logger` is given, in which
   * case `log` stays empty.
   */
  readonly logLevel?: string;
}

/** A runtime plus what the test can inspect. */
export type TestRuntime<C extends Clock = Clock> = Runtime & {
  readonly clock: C;
  /** What the runtime logged (at `logLevel`, default info). */
  readonly log: MemoryLogger;
  /** Every dead letter the runtime reported, oldest first; awaitable. */
  readonly deadLetters: Recorder<DeadLetter>;
};

const live = new Set<Runtime>();

/**
 * Creates a runtime that logs into memory (`log`) and records dead letters
 * (`deadLetters`). Its catalogue holds `messages`, by default the test messages
 * ({@link testMessages}). Every runtime made here and not closed by the test is closed by
 * {@link closeTestRuntimes}.
 *
 * ```ts
 * afterEach(closeTestRuntimes);
 * const server = testRuntime({ clock: new TestClock() });
 * await server.clock.advanceAsync(5_000);
 * expect(server.deadLetters.entries).toEqual([]);
 * ```
 */
export function testRuntime<C extends Clock = Clock>(
  options: TestRuntimeOptions<C> = {},
): TestRuntime<C> {
  const { logLevel, ...rest } = options;
  const log = memoryLogger(logLevel ?? DEFAULT_MEMORY_LOG_LEVEL);
  const runtime = createRuntime({
    logger: log.logger,
    ...rest,
    messages: options.messages ?? testMessages,
  });
  const deadLetters = new Recorder<DeadLetter>(
    'dead letters',
    (d) => `${d.message.type} (${d.reason})`,
  );
  runtime.onDeadLetter((deadLetter) => deadLetters.record(deadLetter));
  live.add(runtime);
  runtime.onClose(() => {
    live.delete(runtime);
  });
  // The runtime object gains two read-only views; everything else is the runtime itself, so
  // it can be passed wherever a Runtime is expected.
  return Object.assign(runtime, { log, deadLetters }) as TestRuntime<C>;
}

/**
 * Closes every runtime {@link testRuntime} made and has not closed yet. Takes no arguments
 * so it can be passed straight to `afterEach(closeTestRuntimes)`.
 */
export async function closeTestRuntimes(): Promise<void> {
  const runtimes = [...live];
  live.clear();
  await Promise.all(
    runtimes.map((runtime) => runtime.close({ timeoutMs: TEST_RUNTIME_CLOSE_TIMEOUT_MS })),
  );
}
