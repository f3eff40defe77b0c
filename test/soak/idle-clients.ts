/**
 * The client side of test/soak/idle-connections.ts: one runtime whose controller opens
 * HERALD_IDLE_CONNECTIONS Herald connections to 127.0.0.1:HERALD_IDLE_PORT, prints
 * `connected <n>` once all are open, then idles until stdin closes or SIGTERM.
 */
import { createLogger, createRuntime, type Self } from '@herald/runtime';
import { Connected, NotConnected, connect } from '@herald/net';

const COUNT = Number(process.env.HERALD_IDLE_CONNECTIONS ?? 5_000);
const PORT = Number(process.env.HERALD_IDLE_PORT);
/** Connects in flight at once (the listen backlog is 511). */
const IN_FLIGHT = 200;

const runtime = createRuntime({ name: 'idle-clients', logger: createLogger('warn') });
runtime.spawn(async function clients(self: Self) {
  let started = 0;
  let open = 0;
  let failed = 0;
  const dial = (): void => {
    started++;
    connect(self, { host: '127.0.0.1', port: PORT });
  };
  for (; started < Math.min(IN_FLIGHT, COUNT);) dial();
  while (open + failed < COUNT) {
    const m = await self.receive(Connected, NotConnected);
    if (Connected.is(m)) open++;
    else failed++;
    if (started < COUNT) dial();
  }
  process.stdout.write(`connected ${open} failed ${failed}\n`);
  await new Promise<void>((resolve) => {
    process.stdin.once('close', resolve);
    process.stdin.resume();
    process.once('SIGTERM', resolve);
  });
});
process.stdin.once('close', () => {
  void runtime.close({ timeoutMs: 2_000 }).then(() => process.exit(0));
});
