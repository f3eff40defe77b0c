/**
 * The OpenTelemetry adapter in one process: a traced message makes a child span of its
 * traceparent and sends made while handling carry that span; untraced messages make no
 * span unless `root` says so; a failing actor's span records the error.
 */
import { defineMessage, t } from '@herald/codec';
import { withOptions, type Self } from '@herald/runtime';
import { closeTestRuntimes, testRuntime, waitFor } from '@herald/testing';
import { SpanStatusCode } from '@opentelemetry/api';
import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterEach, describe, expect, it } from 'vitest';
import { openTelemetryTracing, spanContextOf, traceparentOf } from '../src/index.js';

const Job = defineMessage('test.Job', { n: t.int() });
const Done = defineMessage('test.Done', { n: t.int() });

afterEach(() => closeTestRuntimes());

function traced(root?: boolean) {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  const rt = testRuntime({ name: 'traced', messages: [Job, Done] });
  rt.setTracing(
    openTelemetryTracing({
      tracer: provider.getTracer('test'),
      ...(root === undefined ? {} : { root }),
    }),
  );
  return { rt, exporter };
}

const PARENT = '00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01';

describe('openTelemetryTracing', () => {
  it('makes a child span of the message traceparent and stamps its own on sends', async () => {
    const { rt, exporter } = traced();
    const seen: (string | undefined)[] = [];
    const sink = rt.spawn(
      withOptions(
        async (self: Self) => {
          await self.receive(Done);
          seen.push('done');
        },
        { name: 'sink' },
      ),
    );
    const worker = rt.spawn(
      withOptions(
        async (self: Self) => {
          const job = await self.receive(Job);
          self.send(sink, Done({ n: job.n }));
          await self.receive(Job); // takes the next message: the first span ends
        },
        { name: 'worker' },
      ),
    );
    rt.send(worker, Job({ n: 1 }), undefined, { trace: PARENT });
    await waitFor(() => seen.length === 1, { what: 'the sink to get Done' });
    rt.send(worker, Job({ n: 2 }));
    await waitFor(() => exporter.getFinishedSpans().length >= 2, { what: 'two finished spans' });
    const spans = exporter.getFinishedSpans();
    const job = spans.find((s) => s.name === 'worker test.Job')!;
    const done = spans.find((s) => s.name === 'sink test.Done')!;
    expect(job.spanContext().traceId).toBe('0af7651916cd43dd8448eb211c80319c');
    expect(job.parentSpanContext?.spanId).toBe('b7ad6b7169203331');
    expect(done.spanContext().traceId).toBe(job.spanContext().traceId);
    expect(done.parentSpanContext?.spanId).toBe(job.spanContext().spanId);
    expect(job.attributes['herald.message.type']).toBe('test.Job');
    // Job 2 carried no traceparent (sent from outside, after the handling): no third span.
    expect(spans).toHaveLength(2);
  });

  it('starts a new trace for an untraced message only with root, and records a failure', async () => {
    const { rt, exporter } = traced(true);
    const failing = rt.spawn(
      withOptions(
        async (self: Self) => {
          await self.receive(Job);
          throw new Error('boom');
        },
        { name: 'failing' },
      ),
    );
    rt.send(failing, Job({ n: 1 }));
    await waitFor(() => exporter.getFinishedSpans().length === 1, { what: 'the span to end' });
    const [span] = exporter.getFinishedSpans();
    expect(span!.parentSpanContext).toBeUndefined();
    expect(span!.status.code).toBe(SpanStatusCode.ERROR);
    expect(span!.events.some((e) => e.name === 'exception')).toBe(true);
  });

  it('reads and writes W3C traceparents, refusing invalid ones', () => {
    const context = spanContextOf(PARENT)!;
    expect(context).toMatchObject({
      traceId: '0af7651916cd43dd8448eb211c80319c',
      traceFlags: 1,
      isRemote: true,
    });
    expect(traceparentOf(context)).toBe(PARENT);
    for (const bad of [
      'ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01',
      '00-00000000000000000000000000000000-b7ad6b7169203331-01',
      '00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01',
      '00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01',
      'nonsense',
    ])
      expect(spanContextOf(bad)).toBeUndefined();
  });
});
