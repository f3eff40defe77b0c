/**
 * The inspector in a real headless Chromium (the Debian `chromium` package, driven by
 * playwright-core): a runtime with an actor tree, a state machine, traffic, a dead letter
 * and two connections (one accepted, one it made) opens its inspector; the page must show
 * the tree and the connections. A screenshot is kept in test-artifacts/inspector.png;
 * with HERALD_DOCS_SCREENSHOT=1 it also replaces docs/images/inspector.png.
 *
 * Without /usr/bin/chromium the test is skipped with a printed note, except under CI=true,
 * where a missing browser is a failure (.ci/run installs it).
 */
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { defineMessage, t } from '@herald/codec';
import { Connected, connect } from '@herald/net';
import { withOptions, type Behavior, type Runtime, type Self } from '@herald/runtime';
import {
  Hello,
  Welcome,
  testMessages,
  closeTestRuntimes,
  testRuntime,
  welcomingServer,
} from '@herald/testing';
import { chromium, type BrowserContext } from 'playwright-core';
import { afterEach, describe, expect, it } from 'vitest';
import { openManagement, type ManagementEndpoint } from '../src/index.js';

/** Debian's chromium; HERALD_CHROMIUM names another binary (or a missing one, to see the skip). */
const CHROMIUM = process.env['HERALD_CHROMIUM'] ?? '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const ROOT = fileURLToPath(new URL('../../../', import.meta.url));
const ARTIFACTS = join(ROOT, 'test-artifacts');
const DOCS_IMAGE = join(ROOT, 'docs', 'images', 'inspector.png');

const haveChromium = existsSync(CHROMIUM);
const underCi = process.env['CI'] === 'true';
if (!haveChromium && !underCi)
  console.warn(
    `NOTE: ${CHROMIUM} is missing: the browser inspector test is SKIPPED (apt-get install chromium)`,
  );

const Tick = defineMessage('demo.Tick', { n: t.int() });
const Open = defineMessage('demo.Open', {});

let context: BrowserContext | undefined;
let profile: string | undefined;
const endpoints: ManagementEndpoint[] = [];
afterEach(async () => {
  await context?.close();
  context = undefined;
  if (profile !== undefined) rmSync(profile, { recursive: true, force: true });
  for (const e of endpoints.splice(0)) await e.close();
  await closeTestRuntimes();
});

/**
 * xstate, resolved from @herald/runtime (which depends on it); this package does not, and
 * needs only `createMachine` to give the picture a machine actor.
 */
function createMachine(config: object): Behavior {
  const require = createRequire(join(ROOT, 'packages', 'runtime', 'package.json'));
  const xstate = require('xstate') as { createMachine(config: object): unknown };
  return xstate.createMachine(config) as Behavior;
}

const named = (name: string, fn: (self: Self) => Promise<unknown>) => withOptions(fn, { name });

/** A process worth looking at: a tree, a machine, traffic, a dead letter, two connections. */
async function scene() {
  const rt = testRuntime({ name: 'orders-service', messages: [Tick, Open, ...testMessages] });
  const other = testRuntime({ name: 'billing', messages: [Tick, ...testMessages] });
  const upstream = await welcomingServer(other);
  const { port } = await welcomingServer(rt); // accepts the client below
  const client = testRuntime({ name: 'web-frontend' });
  client.spawn(
    named('frontend', async (self) => {
      connect(self, { host: '127.0.0.1', port });
      const { remote } = await self.receive(Connected);
      for (let i = 0; i < 3; i++) await self.ask(remote, Hello({ myName: 'web' }), Welcome);
      await self.receive(Tick);
    }),
  );
  let worker: ReturnType<Runtime['spawn']> | undefined;
  rt.spawn(
    named('orders', async (self) => {
      worker = self.spawn(
        named('order-worker', async (w) => {
          for (;;) await w.receive(Tick);
        }),
      );
      self.spawn(named('order-audit', async (w) => w.receive(Open)));
      connect(self, { host: '127.0.0.1', port: upstream.port });
      const { remote } = await self.receive(Connected);
      await self.ask(remote, Hello({ myName: 'orders' }), Welcome);
      await self.receive(Open);
    }),
  );
  const door = rt.spawn(
    withOptions(
      createMachine({
        id: 'door',
        initial: 'closed',
        states: { closed: { on: { 'demo.Open': 'open' } }, open: {} },
      }),
      { name: 'door' },
    ),
  );
  rt.send(rt.spawn(named('gone', async () => undefined)), Tick({ n: 0 })); // a dead letter, perhaps
  return { rt, door, worker: () => worker };
}

describe.skipIf(!haveChromium && !underCi)('inspector in headless Chromium', () => {
  it('shows the actor tree and the live connections, and keeps a screenshot', async () => {
    expect(haveChromium, `${CHROMIUM} is required under CI`).toBe(true);
    const { rt, door, worker } = await scene();
    const endpoint = await openManagement(rt, { updatesPerSecond: 10 });
    endpoints.push(endpoint);
    let n = 0;
    const traffic = setInterval(() => {
      const to = worker();
      if (to !== undefined) for (let i = 0; i < 20; i++) rt.send(to, Tick({ n: n++ }));
    }, 20);
    try {
      profile = mkdtempSync(join(tmpdir(), 'herald-chromium-'));
      context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: CHROMIUM_ARGS,
        viewport: { width: 1360, height: 860 },
      });
      const page = context.pages()[0] ?? (await context.newPage());
      const problems: string[] = [];
      page.on('pageerror', (error) => problems.push(error.message));
      page.on('console', (m) => {
        if (m.type() === 'error') problems.push(m.text());
      });
      await page.goto(endpoint.url!);
      await page
        .locator('[data-testid="link-state"]', { hasText: 'live' })
        .waitFor({ timeout: 15_000 });
      const tree = page.locator('[data-testid="actor-tree"]');
      await tree.locator('li[data-name="order-worker"]').waitFor({ timeout: 15_000 });
      // order-worker is drawn inside its parent's list item: a tree, not a flat list.
      expect(
        await tree.locator('li[data-name="orders"] li[data-name="order-worker"]').count(),
      ).toBe(1);
      expect(await tree.locator('li[data-name="management"]').count()).toBe(1);
      await page
        .locator('[data-testid="machines"] li', { hasText: 'closed' })
        .waitFor({ timeout: 15_000 });
      // xstate inspection events, forwarded while the browser watches: the door opens.
      rt.send(door, Open());
      await page
        .locator('[data-testid="machines"] li', { hasText: 'open' })
        .waitFor({ timeout: 15_000 });
      await page
        .locator('[data-testid="xstate-events"] li', { hasText: '@xstate.snapshot open' })
        .waitFor({ timeout: 15_000 });
      await page
        .locator('[data-testid="xstate-events"] li', { hasText: '@xstate.event demo.Open' })
        .waitFor({ timeout: 15_000 });
      const rows = page.locator('[data-testid="connections"] tbody tr[data-address]');
      await expect.poll(() => rows.count(), { timeout: 15_000 }).toBe(2);
      const roles = await rows.locator('td:nth-child(2)').allTextContents();
      expect(roles.sort()).toEqual(['acceptor', 'connector']);
      expect(await page.locator('[data-testid="peer-node"]').count()).toBe(2);
      await page.locator('.badge.rate').first().waitFor({ timeout: 15_000 }); // message rates
      // the token left the address bar once the cookie held it
      expect(page.url()).not.toContain('token=');
      expect(problems).toEqual([]);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'inspector.png') });
      if (process.env['HERALD_DOCS_SCREENSHOT'] === '1') {
        mkdirSync(join(ROOT, 'docs', 'images'), { recursive: true });
        await page.screenshot({ path: DOCS_IMAGE });
      }
    } finally {
      clearInterval(traffic);
    }
  });
});
