/**
 * One request through three real processes is one trace: A asks B, B asks C, and the
 * answers come back. Each process traces with @herald/management's openTelemetryTracing
 * and prints its finished spans as JSON (packages/management/test/fixtures/trace-hop.ts).
 * The trace context crosses each connection in the MESSAGE header (wire-protocol.md), so
 * every span must carry A's trace id, and each hop's span must be the child of the span
 * that sent to it: A Go → B Order → C Quote → B Price → A Priced.
 */
import { fileURLToPath } from 'node:url';
import { killAll, spawnScript, type SpawnedChild } from '@herald/testing';
import { afterEach, describe, expect, it } from 'vitest';

const HOP = fileURLToPath(
  new URL('../packages/management/test/fixtures/trace-hop.ts', import.meta.url),
);

interface SpanLine {
  process: string;
  name: string;
  kind: number;
  traceId: string;
  spanId: string;
  parentSpanId: string | null;
  attributes: Record<string, unknown>;
}

afterEach(() => killAll());

function spans(child: SpawnedChild): SpanLine[] {
  return child.stdout
    .filter((line) => line.startsWith('SPAN '))
    .map((line) => JSON.parse(line.slice('SPAN '.length)) as SpanLine);
}

async function started(child: SpawnedChild): Promise<number> {
  const [, port] = await child.waitForLine(/^LISTENING (\d+)$/, 20_000);
  return Number(port);
}

describe('tracing across three processes', () => {
  it('makes one request A → B → C and back one trace, each hop the child of the last', async () => {
    const c = spawnScript(HOP, ['c']);
    const cPort = await started(c);
    const b = spawnScript(HOP, ['b', `--upstream=${cPort}`]);
    const bPort = await started(b);
    const a = spawnScript(HOP, ['a', `--upstream=${bPort}`]);
    const exit = await a.waitForExit(30_000);
    expect(exit.code, a.stderr.join('\n')).toBe(0);
    expect(a.stdout.join('\n')).toContain('priced book 1234');
    // B and C end their actors on SIGTERM, which ends (and exports) their last spans.
    b.kill('SIGTERM');
    c.kill('SIGTERM');
    await Promise.all([b.waitForExit(20_000), c.waitForExit(20_000)]);

    const all = [...spans(a), ...spans(b), ...spans(c)];
    const find = (process: string, type: string, actor?: string) => {
      const found = all.filter(
        (s) =>
          s.process === process &&
          s.attributes['herald.message.type'] === type &&
          (actor === undefined
            ? s.attributes['herald.actor.name'] !== 'SocketProxy'
            : s.attributes['herald.actor.name'] === actor),
      );
      expect(found, `${process} ${type} in ${JSON.stringify(all, null, 1)}`).toHaveLength(1);
      return found[0]!;
    };
    const go = find('a', 'trace.Go');
    const order = find('b', 'trace.Order');
    const quote = find('c', 'trace.Quote');
    const price = find('b', 'trace.Price');
    const priced = find('a', 'trace.Priced');

    expect(go.parentSpanId).toBeNull(); // the root
    expect(new Set([go, order, quote, price, priced].map((s) => s.traceId))).toEqual(
      new Set([go.traceId]),
    );
    expect(go.traceId).toMatch(/^[0-9a-f]{32}$/);
    expect(order.parentSpanId).toBe(go.spanId);
    expect(quote.parentSpanId).toBe(order.spanId);
    expect(price.parentSpanId).toBe(quote.spanId);
    expect(priced.parentSpanId).toBe(price.spanId);
    // The network hops: each proxy's handling of the outgoing message is a PRODUCER span,
    // a child of the sending actor's span (SpanKind.PRODUCER = 3, CONSUMER = 4).
    expect(go.kind).toBe(4);
    expect(find('a', 'trace.Order', 'SocketProxy')).toMatchObject({
      kind: 3,
      parentSpanId: go.spanId,
    });
    expect(find('b', 'trace.Quote', 'SocketProxy')).toMatchObject({
      kind: 3,
      parentSpanId: order.spanId,
    });
    // Nothing untraced was traced: every span belongs to this one trace.
    expect(all.every((s) => s.traceId === go.traceId)).toBe(true);
  });
});
