/**
 * Handshake benchmark: full authenticated (mutual, pinned) handshakes (wire version 3; the handshake is unchanged since version 2) per second
 * on one core, two WireSessions in memory, with X25519 in node:crypto (the default suite)
 * and in tweetnacl alone; the acceptor's share of the CPU; an anonymous encrypted
 * handshake; what a bare connect costs an acceptor; bytes and round trips per handshake.
 * Stops by itself in about 15 s.
 *
 *   node --import tsx bench/handshake.ts
 */
import { pathToFileURL } from 'node:url';
import {
  type CipherSuite,
  WireSession,
  type WireSessionOptions,
  createIdentity,
  naclCipherSuite,
  tweetnaclCipherSuite,
} from '@herald/net/wire';
import { formatResults, type BenchResult } from './result.js';

/** CPU seconds since `since` (user + system) of this process. */
function cpuSeconds(since?: NodeJS.CpuUsage): number {
  const u = process.cpuUsage(since);
  return (u.user + u.system) / 1e6;
}

/** Time per measured round (ms), and rounds per case (median taken). */
const ROUND_MS = 1000;
const ROUNDS = 3;

const serverId = createIdentity();
const clientId = createIdentity();

interface Run {
  /** Seconds spent inside the acceptor's calls. */
  acceptorSeconds: number;
  bytes: number;
  /** Flights: maximal runs of bytes in one direction (2 flights = 1 round trip). */
  flights: number;
}

/** One whole handshake, both sides in this thread, until both are established. */
function handshake(a: Partial<WireSessionOptions>, b: Partial<WireSessionOptions>): Run {
  const run: Run = { acceptorSeconds: 0, bytes: 0, flights: 0 };
  let t = process.cpuUsage();
  const B = new WireSession({ role: 'acceptor', ...b });
  const startB = B.start();
  run.acceptorSeconds += cpuSeconds(t);
  const A = new WireSession({ role: 'connector', ...a });
  let toB: Uint8Array | null = A.start();
  let toA: Uint8Array | null = startB;
  let openA = false;
  let openB = false;
  let lastDir = '';
  const count = (dir: string, bytes: Uint8Array) => {
    run.bytes += bytes.length;
    if (dir !== lastDir) run.flights++;
    lastDir = dir;
  };
  // The connector's opening and the acceptor's preamble cross: one flight each way.
  for (let i = 0; i < 8 && !(openA && openB); i++) {
    if (toB !== null) {
      count('AtoB', toB);
      t = process.cpuUsage();
      for (const e of B.receive(toB)) {
        if (e.type === 'established') openB = true;
        else if (e.type !== 'message') throw new Error(`acceptor: ${e.type}`);
      }
      toA = concatOrNull(toA, B.flush());
      run.acceptorSeconds += cpuSeconds(t);
      toB = null;
    }
    if (toA !== null) {
      count('BtoA', toA);
      for (const e of A.receive(toA)) {
        if (e.type === 'established') openA = true;
        else throw new Error(`connector: ${e.type}`);
      }
      toB = A.flush();
      toA = null;
    }
  }
  if (!openA || !openB) throw new Error('handshake did not complete');
  return run;
}

function concatOrNull(a: Uint8Array | null, b: Uint8Array | null): Uint8Array | null {
  if (a === null) return b;
  if (b === null) return a;
  const out = new Uint8Array(a.length + b.length);
  out.set(a, 0);
  out.set(b, a.length);
  return out;
}

interface Case {
  readonly name: string;
  readonly a: Partial<WireSessionOptions>;
  readonly b: Partial<WireSessionOptions>;
}

function authenticated(suite: CipherSuite): Case {
  return {
    name: `mutual authenticated handshake, X25519 in ${suite === naclCipherSuite ? 'node:crypto' : 'tweetnacl'}`,
    a: { identity: clientId, peerKey: serverId.publicKey, cipherSuite: suite },
    b: { identity: serverId, allowedPeerKeys: [clientId.publicKey], cipherSuite: suite },
  };
}

/**
 * Handshakes per CPU second (process user + system time, so other load on a shared machine
 * does not count), per wall-clock second, and per CPU second of the acceptor's calls alone.
 */
function measure(c: Case): {
  perCpuSecond: number;
  perWallSecond: number;
  acceptorPerSecond: number;
  last: Run;
} {
  let n = 0;
  let acceptor = 0;
  let last: Run | null = null;
  const cpu = process.cpuUsage();
  const start = performance.now();
  let now = start;
  while (now - start < ROUND_MS) {
    last = handshake(c.a, c.b);
    acceptor += last.acceptorSeconds;
    n++;
    now = performance.now();
  }
  return {
    perCpuSecond: n / cpuSeconds(cpu),
    perWallSecond: n / ((now - start) / 1000),
    acceptorPerSecond: n / acceptor,
    last: last as Run,
  };
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[xs.length >> 1] ?? 0;

export async function runHandshakeBench(): Promise<BenchResult[]> {
  const cases: Case[] = [
    authenticated(naclCipherSuite),
    authenticated(tweetnaclCipherSuite),
    {
      name: 'anonymous encrypted handshake, X25519 in node:crypto',
      a: { encrypt: true },
      b: { encrypt: true },
    },
    { name: 'clear handshake (no crypto)', a: {}, b: {} },
  ];
  for (const c of cases) for (let i = 0; i < 30; i++) handshake(c.a, c.b);
  const full = cases.map(() => [] as number[]);
  const wall = cases.map(() => [] as number[]);
  const acceptor = cases.map(() => [] as number[]);
  const lasts: Run[] = [];
  for (let round = 0; round < ROUNDS; round++) {
    cases.forEach((c, i) => {
      const m = measure(c);
      full[i]?.push(m.perCpuSecond);
      wall[i]?.push(m.perWallSecond);
      acceptor[i]?.push(m.acceptorPerSecond);
      lasts[i] = m.last;
    });
    await new Promise((resolve) => setImmediate(resolve));
  }

  // A bare connect that sends nothing: what the acceptor does at TCP accept.
  const bare = (() => {
    const n = 20_000;
    const t = process.cpuUsage();
    for (let i = 0; i < n; i++) {
      new WireSession({ role: 'acceptor', identity: serverId }).start();
    }
    return (cpuSeconds(t) * 1e6) / n;
  })();

  const results: BenchResult[] = [];
  const nodeFull = median(full[0] ?? []);
  const nodeAcceptor = median(acceptor[0] ?? []);
  cases.forEach((c, i) => {
    const f = Math.round(median(full[i] ?? []));
    const acc = Math.round(median(acceptor[i] ?? []));
    const base = i === 0 ? {} : { baseline: 'node:crypto mutual', ratio: f / nodeFull };
    results.push({
      name: `${c.name}: both sides, per CPU second`,
      value: f,
      unit: 'handshakes/s',
      ...base,
      ...(i === 0 ? { aim: '>= 5,000/s' } : {}),
    });
    results.push({
      name: `${c.name}: both sides, per wall-clock second`,
      value: Math.round(median(wall[i] ?? [])),
      unit: 'handshakes/s',
    });
    results.push({
      name: `${c.name}: acceptor's CPU only`,
      value: acc,
      unit: 'handshakes/s',
      ...(i === 0 ? {} : { baseline: 'node:crypto mutual', ratio: acc / nodeAcceptor }),
    });
  });
  const auth = lasts[0] as Run;
  const anon = lasts[2] as Run;
  const clear = lasts[3] as Run;
  results.push(
    {
      name: 'mutual handshake: bytes, both directions',
      value: auth.bytes,
      unit: 'B',
      better: 'lower',
    },
    {
      name: 'mutual handshake: round trips before data',
      value: auth.flights / 2,
      unit: 'RTT',
      better: 'lower',
    },
    { name: 'anonymous handshake: bytes', value: anon.bytes, unit: 'B', better: 'lower' },
    {
      name: 'anonymous handshake: round trips',
      value: anon.flights / 2,
      unit: 'RTT',
      better: 'lower',
    },
    { name: 'clear handshake: bytes', value: clear.bytes, unit: 'B', better: 'lower' },
    {
      name: 'clear handshake: round trips',
      value: clear.flights / 2,
      unit: 'RTT',
      better: 'lower',
    },
    {
      name: 'acceptor cost of a bare connect (encrypted, identity)',
      value: bare,
      unit: 'µs CPU',
      better: 'lower',
      aim: 'no public-key work',
    },
  );
  return results;
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  console.log(
    formatResults('handshake (wire version 3, in memory, one core)', await runHandshakeBench()),
  );
}
