/**
 * Semantics a user relies on, with real processes and real sockets (issue 10): correlated
 * asks across connections and relays, asks that fail at once when their connection is
 * lost, and watches through a relay that end when the far side goes (killed, stopped, or
 * the relay's connection closed). The far processes are test/fixtures/relay-node.ts.
 */
import { fileURLToPath } from 'node:url';
import type { Address } from '@herald/codec';
import { Abandoned, Connected, NotConnected, connect } from '@herald/net';
import { Terminated, TimedOut, Unanswered, type Self } from '@herald/runtime';
import {
  killAll,
  spawnScript,
  testRuntime,
  closeTestRuntimes,
  type SpawnedChild,
} from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import {
  Answer,
  CloseTarget,
  Question,
  TargetIs,
  WhereIsTarget,
  relayMessages,
} from './fixtures/relay-messages.js';

const NODE = fileURLToPath(new URL('./fixtures/relay-node.ts', import.meta.url));
/** Start-up of a tsx child can take a few seconds on a loaded machine. */
const START_MS = 20_000;
/** Bound on every wait for an event (a lost connection is noticed well within it). */
const WAIT_MS = 10_000;

afterEach(async () => {
  await closeTestRuntimes();
  await killAll();
});

async function start(args: string[]): Promise<{ child: SpawnedChild; port: number }> {
  const child = spawnScript(NODE, args);
  const match = await child.waitForLine(/^listening on .*:(\d+)$/, START_MS);
  return { child, port: Number(match[1]) };
}

/** C, then B connected to C. */
async function relayChain(targetArgs: string[] = []) {
  const c = await start(['--mode=target', ...targetArgs]);
  const b = await start(['--mode=relay', `--target-port=${c.port}`]);
  return { c, b };
}

function client() {
  return testRuntime({ name: 'A', messages: relayMessages });
}

/** A connects to B and learns C's actor's address through B. */
async function reachThroughRelay(self: Self, port: number): Promise<Address> {
  connect(self, { host: '127.0.0.1', port });
  const c = await self.receive(Connected, NotConnected, { timeout: WAIT_MS });
  if (!Connected.is(c)) throw new Error(`not connected: ${c.type}`);
  const where = await self.ask(c.remote, WhereIsTarget(), TargetIs, { timeout: WAIT_MS });
  if (!TargetIs.is(where)) throw new Error(`no target: ${where.type}`);
  return where.address;
}

describe('correlated asks across connections', () => {
  it('semantics - answers through a relay are matched by correlation; a late answer is a late-reply dead letter, never the next ask’s', async () => {
    const { b } = await relayChain(['--hold=true']);
    const a = client();
    const value = await a.run(async (self: Self) => {
      const target = await reachThroughRelay(self, b.port);
      // C holds question 8 until question 9 arrives, then answers 8 (late) and 9.
      const eight = await self.ask(target, Question({ id: 8 }), Answer, { timeout: 300 });
      const nine = await self.ask(target, Question({ id: 9 }), Answer, { timeout: WAIT_MS });
      return [eight.type, nine];
    });
    expect(value).toEqual([TimedOut.type, { type: Answer.type, id: 9 }]);
    const late = await a.deadLetters.next((d) => d.reason === 'late-reply', { timeoutMs: WAIT_MS });
    expect(late.message).toEqual({ type: Answer.type, id: 8 });
  });

  it('semantics - an ask whose server is killed ends at once with Unanswered (the connection’s Abandoned as its value)', async () => {
    const { child, port } = await start(['--mode=target', '--hold=true']);
    const a = client();
    let asked!: () => void;
    const asking = new Promise<void>((resolve) => (asked = resolve));
    const done = a.run(async (self: Self) => {
      connect(self, { host: '127.0.0.1', port });
      const c = await self.receive(Connected, NotConnected, { timeout: WAIT_MS });
      if (!Connected.is(c)) return c;
      const pending = self.ask(c.remote, Question({ id: 1 }), Answer); // no timeout
      asked();
      return pending;
    });
    await asking;
    child.kill('SIGKILL');
    const answer = (await done) as Unanswered;
    expect(answer.type).toBe(Unanswered.type);
    expect(Abandoned.is(answer.value)).toBe(true);
  });
});

describe('asks through a relay that is lost', () => {
  it('semantics - an ask through B to C ends at once with Unanswered when the B–C connection closes', async () => {
    const { b } = await relayChain(['--hold=true']); // C never answers a lone question
    const a = client();
    let asking!: (bRemote: Address) => void;
    const asked = new Promise<Address>((resolve) => (asking = resolve));
    const done = a.run(async (self: Self) => {
      connect(self, { host: '127.0.0.1', port: b.port });
      const c = await self.receive(Connected, NotConnected, { timeout: WAIT_MS });
      if (!Connected.is(c)) return c;
      const where = await self.ask(c.remote, WhereIsTarget(), TargetIs, { timeout: WAIT_MS });
      if (!TargetIs.is(where)) return where;
      const pending = self.ask(where.address, Question({ id: 1 }), Answer); // no timeout
      asking(c.remote);
      return pending;
    });
    a.send(await asked, CloseTarget());
    const answer = (await done) as Unanswered;
    expect(answer.type).toBe(Unanswered.type);
  });
});

describe('watches through a relay', () => {
  /** A watches C's actor through B; `act` ends C's side; A must be told Terminated. */
  async function watchedThroughRelay(act: (chain: Awaited<ReturnType<typeof relayChain>>) => void) {
    const chain = await relayChain();
    const a = client();
    let watching!: () => void;
    const ready = new Promise<void>((resolve) => (watching = resolve));
    const done = a.run(async (self: Self) => {
      const target = await reachThroughRelay(self, chain.b.port);
      self.watch(target);
      // An answer proves the Watch went ahead of it all the way to C.
      const answer = await self.ask(target, Question({ id: 1 }), Answer, { timeout: WAIT_MS });
      if (!Answer.is(answer)) return answer;
      watching();
      const ended = await self.receive(Terminated, { timeout: WAIT_MS });
      return TimedOut.is(ended)
        ? ended
        : { target: ended.address.equals(target), value: ended.value };
    });
    await ready;
    act(chain);
    return (await done) as { target: boolean; value: unknown } | TimedOut;
  }

  it('semantics - C killed: A is told Terminated', async () => {
    const result = await watchedThroughRelay(({ c }) => c.child.kill('SIGKILL'));
    expect(result).toMatchObject({ target: true });
  });

  it('semantics - C stopped (Ctrl-C): A is told Terminated with C’s value', async () => {
    const result = await watchedThroughRelay(({ c }) => c.child.kill('SIGINT'));
    expect(result).toMatchObject({ target: true, value: 'stopped' });
  });

  it('semantics - the B–C connection closed: A is told Terminated', async () => {
    const a = client();
    const chain = await relayChain();
    const value = await a.run(async (self: Self) => {
      connect(self, { host: '127.0.0.1', port: chain.b.port });
      const c = await self.receive(Connected, NotConnected, { timeout: WAIT_MS });
      if (!Connected.is(c)) return c;
      const where = await self.ask(c.remote, WhereIsTarget(), TargetIs, { timeout: WAIT_MS });
      if (!TargetIs.is(where)) return where;
      self.watch(where.address);
      const answer = await self.ask(where.address, Question({ id: 1 }), Answer, {
        timeout: WAIT_MS,
      });
      if (!Answer.is(answer)) return answer;
      self.send(c.remote, CloseTarget());
      const ended = await self.receive(Terminated, { timeout: WAIT_MS });
      return TimedOut.is(ended) ? ended.type : ended.address.equals(where.address);
    });
    expect(value).toBe(true);
  });
});
