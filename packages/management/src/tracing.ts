/**
 * OpenTelemetry for Herald: an implementation of the runtime's tracing hook
 * (`runtime.setTracing`, docs/observability.md) on `@opentelemetry/api` (an optional peer
 * dependency, loaded when this is called).
 *
 * Each time an actor handles a message that carries a W3C traceparent, a span starts as a
 * child of that traceparent (the remote parent travels in the wire header across
 * processes), and the runtime stamps sends made while handling with this span's own
 * traceparent. So a request through three processes is one trace: each hop's span is the
 * child of the span that sent to it. A message without a traceparent starts a new trace
 * only when `root` says so (by default it is not traced: unrelated traffic makes no spans).
 *
 * ```ts
 * runtime.setTracing(openTelemetryTracing({ tracer: provider.getTracer('orders') }));
 * ```
 */
import { createRequire } from 'node:module';
import type * as OtelApi from '@opentelemetry/api';
import type { TraceEvent, TraceSpan, Tracing } from '@herald/runtime';
import { ManagementError } from './errors.js';

/**
 * The OpenTelemetry span context Herald reads and writes, structurally (@opentelemetry/api's
 * `SpanContext` is one), so this package's declarations do not import the optional peer.
 */
export interface SpanContextLike {
  readonly traceId: string;
  readonly spanId: string;
  readonly traceFlags: number;
  readonly isRemote?: boolean;
}

/** An OpenTelemetry `Tracer`, structurally (@opentelemetry/api's `Tracer` is one). */
export interface TracerLike {
  startSpan(name: string, options?: object, context?: unknown): unknown;
}

export interface OpenTelemetryTracingOptions {
  /** The tracer spans come from. Default: `trace.getTracer('@herald/runtime')` (the global provider). */
  readonly tracer?: TracerLike;
  /**
   * Whether a message without a traceparent starts a new trace. Default false. A function
   * decides per message (e.g. `(e) => e.messageType === 'shop.Checkout'`).
   */
  readonly root?: boolean | ((event: TraceEvent) => boolean);
  /** The span name. Default `` `${event.actorName} ${event.messageType}` ``. */
  readonly spanName?: (event: TraceEvent) => string;
  /**
   * Trace the SocketProxy's handling of a message on its way to a peer, as a `PRODUCER`
   * span (the network hop; the far side's span is still the child of the sender's).
   * Default true; false leaves the proxies out.
   */
  readonly proxies?: boolean;
}

/** The actor name of a connection's proxy (@herald/net), whose handlings are sends to a peer. */
const PROXY_ACTOR_NAME = 'SocketProxy';

/** The tracer name used when no tracer is given. */
export const DEFAULT_TRACER_NAME = '@herald/runtime';

const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

function loadApi(): typeof OtelApi {
  try {
    return createRequire(import.meta.url)('@opentelemetry/api') as typeof OtelApi;
  } catch (error) {
    throw new ManagementError(
      'HERALD_ERR_MANAGEMENT_MISSING_PEER',
      'openTelemetryTracing needs @opentelemetry/api: npm install @opentelemetry/api',
      { cause: error },
    );
  }
}

/** The span context a traceparent names (a remote parent), or undefined when it is not one. */
export function spanContextOf(traceparent: string): SpanContextLike | undefined {
  const m = TRACEPARENT.exec(traceparent);
  if (m === null || m[1] === 'ff' || /^0+$/.test(m[2]!) || /^0+$/.test(m[3]!)) return undefined;
  return { traceId: m[2]!, spanId: m[3]!, traceFlags: parseInt(m[4]!, 16), isRemote: true };
}

/** The W3C traceparent of a span context (version 00). */
export function traceparentOf(context: SpanContextLike): string {
  return `00-${context.traceId}-${context.spanId}-${(context.traceFlags & 0xff).toString(16).padStart(2, '0')}`;
}

/** A Tracing for `runtime.setTracing` that opens an OpenTelemetry span per handled message. */
export function openTelemetryTracing(options: OpenTelemetryTracingOptions = {}): Tracing {
  const api = loadApi();
  const tracer =
    (options.tracer as OtelApi.Tracer | undefined) ?? api.trace.getTracer(DEFAULT_TRACER_NAME);
  const root = options.root ?? false;
  if (typeof root !== 'boolean' && typeof root !== 'function')
    throw new ManagementError('HERALD_ERR_BAD_OPTION', 'root must be a boolean or a function');
  const name = options.spanName ?? ((e: TraceEvent) => `${e.actorName} ${e.messageType}`);
  const proxies = options.proxies ?? true;
  return {
    received(event: TraceEvent): TraceSpan | undefined {
      const proxy = event.actorName === PROXY_ACTOR_NAME;
      if (proxy && !proxies) return undefined;
      const parent = event.traceparent === undefined ? undefined : spanContextOf(event.traceparent);
      // A proxy only carries a trace on; it never starts one.
      if (parent === undefined && (proxy || !(typeof root === 'function' ? root(event) : root)))
        return undefined;
      const context =
        parent === undefined
          ? api.ROOT_CONTEXT
          : api.trace.setSpanContext(api.ROOT_CONTEXT, parent);
      const span = tracer.startSpan(
        name(event),
        {
          kind: proxy ? api.SpanKind.PRODUCER : api.SpanKind.CONSUMER,
          root: parent === undefined,
          attributes: {
            'herald.actor': event.actor.toString(),
            'herald.actor.name': event.actorName,
            'herald.message.type': event.messageType,
            'herald.from': event.from.toString(),
          },
        },
        context,
      );
      return {
        traceparent: traceparentOf(span.spanContext()),
        end(error?: unknown) {
          if (error !== undefined) {
            span.recordException(error instanceof Error ? error : String(error));
            span.setStatus({
              code: api.SpanStatusCode.ERROR,
              message: error instanceof Error ? error.message : String(error),
            });
          }
          span.end();
        },
      };
    },
  };
}
