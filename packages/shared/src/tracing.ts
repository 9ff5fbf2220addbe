/**
 * OpenTelemetry for a service process, preloaded (`node --import …/tracing`) so http and pg are
 * patched before first import. Set up by the standard OTEL_* variables (see the README).
 * With no exporter, spans carry trace context only and http, fastify and pg are not
 * instrumented: nothing would read their spans. The gateway then continues the caller's
 * traceparent itself (services/gateway/src/trace.ts).
 */
import { register } from "node:module";
import { basename, dirname } from "node:path";
import { FastifyOtelInstrumentation } from "@fastify/otel";
import { HttpInstrumentation } from "@opentelemetry/instrumentation-http";
import { PgInstrumentation } from "@opentelemetry/instrumentation-pg";
import { RuntimeNodeInstrumentation } from "@opentelemetry/instrumentation-runtime-node";
import { NodeSDK } from "@opentelemetry/sdk-node";
import { AlwaysOffSampler, NoopSpanProcessor } from "@opentelemetry/sdk-trace-base";

const env = process.env;
/** Paths that are polled, not used: no spans for them. */
const quietPaths = new Set(["/healthz", "/readyz", "/metrics"]);

function serviceName(): string {
  if (env.OTEL_SERVICE_NAME) return env.OTEL_SERVICE_NAME;
  const main = process.argv[1] ?? "";
  // services/<name>/src/main.ts, or dist/<name>/main.js
  const dir = dirname(main);
  return basename(dir) === "src" ? basename(dirname(dir)) : basename(dir) || "cloudsim";
}

function startTracing(): NodeSDK | undefined {
  if (env.OTEL_SDK_DISABLED === "true") return undefined;
  const endpoint = env.OTEL_EXPORTER_OTLP_TRACES_ENDPOINT || env.OTEL_EXPORTER_OTLP_ENDPOINT;
  const exporters = (env.OTEL_TRACES_EXPORTER ?? "").trim();
  // No endpoint and no exporter named (or "none"): spans exist for context, and record nothing.
  const exportNothing = exporters === "none" || (!exporters && !endpoint);
  // ESM imports (`import pg from "pg"`) reach the instrumentations through this loader hook.
  if (!exportNothing) register("@opentelemetry/instrumentation/hook.mjs", import.meta.url);
  const sdk = new NodeSDK({
    serviceName: serviceName(),
    ...(exportNothing ? { spanProcessors: [new NoopSpanProcessor()], sampler: new AlwaysOffSampler() } : {}),
    ...(env.OTEL_METRICS_EXPORTER ? {} : { metricReaders: [] }),
    ...(env.OTEL_LOGS_EXPORTER ? {} : { logRecordProcessors: [] }),
    instrumentations: [
      ...(exportNothing ? [] : moduleInstrumentations()),
      // Runtime metrics (event loop, GC) are OpenTelemetry metrics: only where something reads them.
      ...(env.OTEL_METRICS_EXPORTER ? [new RuntimeNodeInstrumentation()] : []),
    ],
  });
  sdk.start();
  return sdk;
}

/** Spans of the HTTP server, fastify's hooks and every query. */
function moduleInstrumentations() {
  return [
    new HttpInstrumentation({
      ignoreIncomingRequestHook: (req) => quietPaths.has((req.url ?? "/").split("?")[0] ?? "/"),
    }),
    new FastifyOtelInstrumentation({
      registerOnInitialization: true,
      ignorePaths: (route) => quietPaths.has(route.url),
      // An anonymous plugin's "name" is its source text: name such spans by route instead.
      lifecycleHook: (span, { hookName, handler, request }) => {
        if (handler && handler.length <= 64 && !/[\s{(]/.test(handler)) return;
        const name = `${hookName} - ${request.method} ${request.routeOptions.url ?? "(unmatched)"}`;
        span.updateName(name);
        span.setAttribute("hook.name", name);
      },
    }),
    // Only queries inside a traced operation: the pollers (timers, outbox relay) stay quiet.
    new PgInstrumentation({ requireParentSpan: true }),
  ];
}

const sdk = startTracing();

/** Flushes what is buffered; runService calls it (through flushTracing) on the way out. */
export async function shutdownTracing(): Promise<void> {
  await sdk?.shutdown().catch(() => {});
}
(globalThis as Record<symbol, unknown>)[Symbol.for("cloudsim.tracing.shutdown")] = shutdownTracing;
