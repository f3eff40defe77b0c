/**
 * The inspector's HTTP face and its feed: the token is required everywhere (query, cookie
 * or bearer), a rebinding Host and a foreign Origin are refused, and the WebSocket feed is
 * bounded: at most `updatesPerSecond` messages a second per browser on the runtime's
 * clock, a slow browser is sent nothing until it has read, then one snapshot.
 */
import { defineMessage, t } from '@herald/codec';
import { TestClock, withOptions, type Self } from '@herald/runtime';
import { closeTestRuntimes, testRuntime, waitFor } from '@herald/testing';
import { request } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { Activity } from '../src/activity.js';
import {
  InspectorFeed,
  type FeedClient,
  type InspectorSnapshot,
  type InspectorUpdate,
} from '../src/inspector-feed.js';
import { openManagement, type ManagementEndpoint } from '../src/index.js';

const endpoints: ManagementEndpoint[] = [];
const activities: Activity[] = [];
afterEach(async () => {
  for (const e of endpoints.splice(0)) await e.close();
  for (const a of activities.splice(0)) a.close();
  await closeTestRuntimes();
});

const Tick = defineMessage('test.Tick', { n: t.int() });

/** A GET with full control of the headers (fetch would not let the test set Host). */
function get(url: string, headers: Record<string, string> = {}) {
  return new Promise<{ status: number; headers: Record<string, unknown>; body: string }>(
    (resolve, reject) => {
      const req = request(url, { headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (chunk: string) => (body += chunk));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      });
      req.on('error', reject);
      req.end();
    },
  );
}

/** Opens a WebSocket and resolves with its first message, or rejects with the refusal status. */
function firstMessage(url: string, headers: Record<string, string> = {}) {
  return new Promise<unknown>((resolve, reject) => {
    const ws = new WebSocket(url, { headers });
    ws.once('message', (data) => {
      resolve(JSON.parse(String(data)));
      ws.close();
    });
    ws.once('unexpected-response', (_req, res) => reject(new Error(`refused ${res.statusCode}`)));
    ws.once('error', reject);
  });
}

async function endpoint(options: Parameters<typeof openManagement>[1] = {}) {
  const rt = testRuntime({ name: 'inspected' });
  const e = await openManagement(rt, options);
  endpoints.push(e);
  const url = new URL(e.url!);
  return { rt, e, base: `http://${url.host}`, host: url.host };
}

describe('inspector HTTP', () => {
  it('serves the page only with the token, and sets it as a per-port HttpOnly SameSite cookie', async () => {
    const { e, base, host } = await endpoint();
    expect(e.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/\?token=[0-9a-f]{48}$/);
    expect((await get(`${base}/`)).status).toBe(401);
    expect((await get(`${base}/?token=${'0'.repeat(48)}`)).status).toBe(401);
    const page = await get(e.url!);
    expect(page.status).toBe(200);
    expect(page.body).toContain('<title>Herald inspector</title>');
    expect(page.body).not.toMatch(/https?:\/\/(?!www\.w3\.org)/); // nothing from elsewhere
    const port = host.split(':')[1];
    const cookie = String((page.headers['set-cookie'] as string[])[0]);
    expect(cookie).toBe(`herald_inspector_${port}=${e.token}; HttpOnly; SameSite=Strict; Path=/`);
    expect(String(page.headers['content-security-policy'])).toContain("default-src 'none'");
    const script = await get(`${base}/inspector.js`, {
      cookie: `herald_inspector_${port}=${e.token}`,
    });
    expect(script.status).toBe(200);
    expect(script.body).toContain('new WebSocket(');
    expect(
      (await get(`${base}/inspector.js`, { cookie: `herald_inspector_1=${e.token}` })).status,
    ).toBe(401);
  });

  it('answers /api/snapshot with a bearer token and refuses a Host that is not loopback', async () => {
    const { rt, e, base } = await endpoint();
    rt.spawn(async function sleeper(self: Self) {
      await self.receive(Tick);
    });
    const snapshot = await get(`${base}/api/snapshot`, { authorization: `Bearer ${e.token}` });
    expect(snapshot.status).toBe(200);
    const body = JSON.parse(snapshot.body) as { actors: { name: string }[] };
    expect(body.actors.map((a) => a.name)).toContain('sleeper');
    const rebound = await get(`${base}/api/snapshot`, {
      authorization: `Bearer ${e.token}`,
      host: 'attacker.example:80',
    });
    expect(rebound.status).toBe(403);
    expect((await get(`${base}/metrics`, { authorization: `Bearer ${e.token}` })).status).toBe(404);
  });

  it('opens the WebSocket with the token and refuses it without, or from another origin', async () => {
    const { e, host } = await endpoint();
    const port = host.split(':')[1];
    const ws = `ws://${host}/ws`;
    await expect(firstMessage(ws)).rejects.toThrow('refused 401');
    await expect(
      firstMessage(ws, {
        cookie: `herald_inspector_${port}=${e.token}`,
        origin: 'http://evil.example',
      }),
    ).rejects.toThrow('refused 403');
    const first = (await firstMessage(ws, {
      cookie: `herald_inspector_${port}=${e.token}`,
      origin: `http://${host}`,
    })) as InspectorSnapshot;
    expect(first.type).toBe('snapshot');
    expect(first.status.name).toBe('inspected');
    expect(first.actors.some((a) => a.name === 'management')).toBe(true);
  });

  it('holds at most maxClients browsers', async () => {
    const { e, host } = await endpoint({ maxClients: 1 });
    const url = `ws://${host}/ws?token=${e.token}`;
    const one = new WebSocket(url);
    await new Promise((resolve) => one.once('message', resolve));
    await expect(firstMessage(url)).rejects.toThrow('refused 503');
    one.close();
  });
});

/** A browser stand-in: records what it is sent, with a settable unread byte count. */
class FakeBrowser implements FeedClient {
  readonly received: (InspectorSnapshot | InspectorUpdate)[] = [];
  bufferedAmount = 0;
  send(text: string): void {
    this.received.push(JSON.parse(text) as InspectorSnapshot | InspectorUpdate);
  }
}

function feedOn(updatesPerSecond: number, maxEvents = 500) {
  const clock = new TestClock();
  const rt = testRuntime({ name: 'fed', clock });
  const activity = new Activity(rt);
  activities.push(activity);
  const feed = new InspectorFeed(rt, activity, {
    clock,
    updatesPerSecond,
    maxBufferedBytes: 10_000,
    maxEvents,
    history: 50,
  });
  return { rt, clock, feed };
}

describe('inspector feed', () => {
  it('sends at most updatesPerSecond messages a second, first a snapshot then increments', async () => {
    const { rt, clock, feed } = feedOn(4);
    const browser = new FakeBrowser();
    const remove = feed.add(browser);
    const worker = rt.spawn(
      withOptions(
        async (self: Self) => {
          for (;;) await self.receive(Tick);
        },
        { name: 'worker' },
      ),
    );
    for (let n = 0; n < 1_000; n++) rt.send(worker, Tick({ n }));
    await waitFor(() => rt.actors().find((a) => a.name === 'worker')?.mailbox === 0, {
      what: 'the worker to drain',
    });
    clock.advance(1_000);
    expect(browser.received).toHaveLength(4);
    expect(browser.received.map((m) => m.type)).toEqual(['snapshot', 'update', 'update', 'update']);
    const snapshot = browser.received[0] as InspectorSnapshot;
    expect(snapshot.actors.map((a) => a.name)).toContain('worker');
    expect(snapshot.rates[worker.toString()]).toBe(4_000); // 1,000 messages in a quarter second

    const child = rt.spawn(async function late(self: Self) {
      await self.receive(Tick);
    });
    clock.advance(250);
    const update = browser.received[4] as InspectorUpdate;
    expect(update.type).toBe('update');
    expect(update.actors.added.map((a) => a.address)).toEqual([child.toString()]);
    rt.stop(child);
    await waitFor(() => !rt.isAlive(child), { what: 'the late actor to end' });
    clock.advance(250);
    expect((browser.received[5] as InspectorUpdate).actors.removed).toEqual([child.toString()]);
    remove();
    clock.advance(10_000);
    expect(browser.received).toHaveLength(6);
    expect(clock.pending).toBe(0);
  });

  it('sends a slow browser nothing while it has too much unread, then one snapshot', async () => {
    const { rt, clock, feed } = feedOn(10);
    const slow = new FakeBrowser();
    const quick = new FakeBrowser();
    feed.add(slow);
    feed.add(quick);
    clock.advance(100);
    expect(slow.received.map((m) => m.type)).toEqual(['snapshot']);
    slow.bufferedAmount = 50_000;
    rt.spawn(async function busy(self: Self) {
      await self.receive(Tick);
    });
    clock.advance(1_000);
    expect(slow.received).toHaveLength(1); // nothing queued for it
    expect(quick.received).toHaveLength(11);
    slow.bufferedAmount = 0;
    clock.advance(100);
    expect(slow.received.map((m) => m.type)).toEqual(['snapshot', 'snapshot']);
    expect((slow.received[1] as InspectorSnapshot).actors.map((a) => a.name)).toContain('busy');
    clock.advance(100);
    expect(slow.received[2]?.type).toBe('update');
  });

  it('gives up on increments after maxEvents and sends everyone a snapshot', async () => {
    const { rt, clock, feed } = feedOn(10, 5);
    const browser = new FakeBrowser();
    feed.add(browser);
    clock.advance(100);
    for (let n = 0; n < 6; n++)
      rt.send(
        rt.spawn(async function gone() {}),
        Tick({ n }),
      ); // dead letters
    await waitFor(() => rt.deadLetterCount >= 6, { what: 'six dead letters' });
    clock.advance(100);
    expect(browser.received.map((m) => m.type)).toEqual(['snapshot', 'snapshot']);
    clock.advance(100);
    expect(browser.received[2]?.type).toBe('update');
  });
});
