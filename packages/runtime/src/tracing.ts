/**
 * The tracing hook (docs/observability.md): `runtime.setTracing(tracing)` lets a tracer
 * (OpenTelemetry through @herald/management's adapter, or anything else) open a span each
 * time an actor handles a message. Sends made while handling carry the span's traceparent,
 * so one request through many actors and processes is one trace. Without a hook, sends made
 * while handling a traced message carry that message's traceparent unchanged.
 */
import type { Address } from '@herald/codec';

/** What the runtime tells the hook when an actor is about to handle a message. */
export interface TraceEvent {
  readonly actor: Address;
  readonly actorName: string;
  /** The return address of the message (who sent it, as this process sees it). */
  readonly from: Address;
  readonly messageType: string;
  /** The traceparent the message carries, if any. */
  readonly traceparent: string | undefined;
}

export interface Tracing {
  /** An actor is about to handle a message; return the span for this handling (or undefined). */
  received(event: TraceEvent): TraceSpan | undefined;
}

export interface TraceSpan {
  /** The traceparent sends made while handling carry (this span as their parent). */
  readonly traceparent: string;
  /**
   * Called when the handling is over: for handler and machine actors when their handling
   * of the message returns; for function actors when they take their next message (or
   * their receive times out); for every actor when it ends (with the fault, if it failed).
   */
  end(error?: unknown): void;
}

/** W3C traceparent: version, 32-hex trace id, 16-hex parent id, flags (lowercase hex). */
const TRACEPARENT = /^([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-[0-9a-f]{2}$/;
const ZERO_TRACE_ID = '0'.repeat(32);
const ZERO_SPAN_ID = '0'.repeat(16);

/**
 * Whether `value` is a traceparent Herald carries (W3C Trace Context: lowercase hex, version
 * other than `ff`, trace id and parent id not all zero).
 */
export function isTraceparent(value: unknown): value is string {
  if (typeof value !== 'string') return false;
  const m = TRACEPARENT.exec(value);
  return m !== null && m[1] !== 'ff' && m[2] !== ZERO_TRACE_ID && m[3] !== ZERO_SPAN_ID;
}
