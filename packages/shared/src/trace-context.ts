/**
 * Small helpers over the OpenTelemetry API that the rest of the shared code uses: the active
 * trace for log lines and database rows, W3C trace context on NATS headers. Without a started
 * SDK (tests in one process, a service run without the preload) they see no span and do nothing.
 */
import {
  type Context,
  context,
  isSpanContextValid,
  propagation,
  ROOT_CONTEXT,
  type SpanContext,
  type TextMapGetter,
  type TextMapSetter,
  TraceFlags,
  trace,
} from "@opentelemetry/api";

import { RandomIdGenerator } from "@opentelemetry/sdk-trace-base";

export type { Context, Span, SpanContext } from "@opentelemetry/api";
export { context, ROOT_CONTEXT, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";

/** The tracer of cloudsim's own spans (NATS requests, handlers, event consumers). */
export const tracer = () => trace.getTracer("cloudsim");

function activeSpanContext(): SpanContext | undefined {
  const sc = trace.getActiveSpan()?.spanContext();
  return sc && isSpanContextValid(sc) ? sc : undefined;
}

/** The trace id of the active span, for a row or a log line; null outside a trace. */
export function currentTraceId(): string | null {
  return activeSpanContext()?.traceId ?? null;
}

/** The active span as a W3C traceparent (`00-<trace>-<span>-<flags>`); null outside a trace. */
export function currentTraceparent(): string | null {
  const sc = activeSpanContext();
  if (!sc) return null;
  const flags = (sc.traceFlags & 0xff).toString(16).padStart(2, "0");
  return `00-${sc.traceId}-${sc.spanId}-${flags}`;
}

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})$/;

/** A W3C traceparent as a remote span context (for a link); undefined when it is not one. */
export function parseTraceparent(value: string | null | undefined): SpanContext | undefined {
  const m = value ? TRACEPARENT.exec(value.trim()) : null;
  if (!m?.[1] || !m[2] || !m[3]) return undefined;
  const sc: SpanContext = {
    traceId: m[1],
    spanId: m[2],
    traceFlags: Number.parseInt(m[3], 16) & TraceFlags.SAMPLED,
    isRemote: true,
  };
  return isSpanContextValid(sc) ? sc : undefined;
}

/** What NATS headers look like to a propagator (MsgHdrs has get/set/keys). */
interface HeaderLike {
  get(key: string): string;
  set(key: string, value: string): void;
  keys(): string[];
}

const setter: TextMapSetter<HeaderLike> = { set: (h, key, value) => h.set(key, value) };
const getter: TextMapGetter<HeaderLike | undefined> = {
  get: (h, key) => h?.get(key) || undefined,
  keys: (h) => h?.keys() ?? [],
};

/** Writes the active context (traceparent, tracestate, baggage) into NATS headers. */
export function injectContext(headers: HeaderLike): void {
  propagation.inject(context.active(), headers, setter);
}

/** The context a NATS message carries in its headers (a fresh root context when none). */
export function extractContext(headers: HeaderLike | undefined) {
  return propagation.extract(ROOT_CONTEXT, headers, getter);
}

/** Ids as the SDK makes them (Math.random): crypto's are a syscall each, for ids that are no secret. */
const ids = new RandomIdGenerator();

/**
 * The trace of an HTTP request that nothing instruments: the caller's (traceparent, tracestate,
 * baggage), else a new one; as a context whose span records nothing and only names the trace.
 */
export function httpTraceContext(headers: Record<string, string | string[] | undefined>): Context {
  const parent = propagation.extract(ROOT_CONTEXT, headers);
  if (trace.getSpanContext(parent)) return parent;
  return trace.setSpanContext(parent, {
    traceId: ids.generateTraceId(),
    spanId: ids.generateSpanId(),
    traceFlags: TraceFlags.NONE,
  });
}

/** Exports the spans still buffered, when the tracing preload is loaded (see tracing.ts). */
export async function flushTracing(): Promise<void> {
  const shutdown = (globalThis as Record<symbol, unknown>)[Symbol.for("cloudsim.tracing.shutdown")];
  if (typeof shutdown === "function") await (shutdown as () => Promise<void>)();
}
