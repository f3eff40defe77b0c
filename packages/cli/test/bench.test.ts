/**
 * `herald bench` as a real process against `herald listen`.
 */
import { killAll } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';
import { finished, herald, listening } from './support.js';

afterEach(killAll);

interface BenchReport {
  handshakeUs: number;
  oneWay?: { messages: number; dropped: number; perSecond: number; ms: number };
  roundTrip?: { count: number; minUs: number; p50Us: number; p99Us: number };
}

describe('herald bench', () => {
  it('measures one-way msgs/s and round trips against herald listen (--json)', async () => {
    const { target } = await listening();
    const result = await finished(
      herald('bench', target, '--count', '3000', '--size', '64', '--round-trips', '50', '--json'),
    );
    expect(result.code).toBe(0);
    const report = JSON.parse(result.stdout.join('\n')) as BenchReport;
    expect(report.oneWay).toMatchObject({ messages: 3000, dropped: 0 });
    expect(report.oneWay?.perSecond).toBeGreaterThan(0);
    const trip = report.roundTrip as NonNullable<BenchReport['roundTrip']>;
    expect(trip.count).toBe(50);
    expect(trip.minUs).toBeLessThanOrEqual(trip.p50Us);
    expect(trip.p50Us).toBeLessThanOrEqual(trip.p99Us);
  }, 60_000);

  it('stops each phase at --duration with what it measured, in text', async () => {
    const { target } = await listening();
    const result = await finished(
      herald('bench', target, '--count=100000000', '--round-trips=100000000', '--duration=300'),
    );
    expect(result.code).toBe(0);
    expect(result.stdout[0]).toMatch(/^handshake \d+ µs$/);
    const oneWay = /^one-way (\d+) msgs of 16 B in (\d+) ms: (\d+) msgs\/s/.exec(
      result.stdout[1] ?? '',
    );
    expect(oneWay).not.toBeNull();
    expect(Number(oneWay?.[1])).toBeGreaterThan(0);
    expect(Number(oneWay?.[1])).toBeLessThan(100_000_000);
    const trips = /^round-trip (\d+): min \d+ µs, p50 \d+ µs, p99 \d+ µs$/.exec(
      result.stdout[2] ?? '',
    );
    expect(Number(trips?.[1])).toBeGreaterThan(0);
    expect(Number(trips?.[1])).toBeLessThan(100_000_000);
  }, 60_000);

  it('exits 2 on a bad value and 1 when nothing listens', async () => {
    const batch = await finished(herald('bench', '127.0.0.1:1', '--batch=100000'));
    expect(batch.code).toBe(2);
    expect(batch.stderr).toMatch(/--batch must be 1 to 4096/);
    const { server, target } = await listening();
    server.kill('SIGTERM');
    await server.waitForExit();
    const refused = await finished(herald('bench', target));
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/ECONNREFUSED/);
  }, 60_000);
});
