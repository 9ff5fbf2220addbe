import { AsyncLocalStorage } from "node:async_hooks";
import { type DestinationStream, type Logger, type LoggerOptions, pino } from "pino";
import { trace } from "./trace-context.ts";

export type { DestinationStream, Logger };

/**
 * pino-pretty, loaded only when stdout is a terminal (loading it costs a process start tens of
 * milliseconds), and as a stream in this thread, not as a worker transport: a bundle cannot load
 * a transport (its worker file and target are resolved from files the bundle does not have).
 */
const pretty =
  process.stdout.isTTY && process.env.LOG_PRETTY !== "false"
    ? (await import("pino-pretty")).default
    : undefined;

/** The request (or event) being handled, so every line logged while handling it names it. */
const requestScope = new AsyncLocalStorage<{ requestId: string | null }>();

/** Runs `fn` with `requestId` on every log line it writes, through any logger. */
export function withRequestId<T>(requestId: string | null, fn: () => T): T {
  return requestScope.run({ requestId }, fn);
}

/**
 * trace_id and span_id of the active span (when tracing runs) and request_id of the request in
 * hand, on every line. A logger bound to request_id already (fastify's request.log) keeps its
 * own: pino would write the key twice.
 */
export function logContext(_: object, __: number, logger?: Logger): Record<string, string> {
  const out: Record<string, string> = {};
  const sc = trace.getActiveSpan()?.spanContext();
  if (sc && sc.traceId !== "00000000000000000000000000000000") {
    out.trace_id = sc.traceId;
    out.span_id = sc.spanId;
  }
  const requestId = requestScope.getStore()?.requestId;
  if (requestId && !(logger && "request_id" in logger.bindings())) out.request_id = requestId;
  return out;
}

/**
 * JSON logs with the service name on every line; secrets never reach the output. Pretty
 * (pino-pretty) only when writing to a terminal and no destination is given.
 */
export function createLogger(service: string, level: string, destination?: DestinationStream): Logger {
  const options: LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    mixin: logContext as LoggerOptions["mixin"],
    redact: {
      // API keys: the Authorization header wherever a request or its headers are logged, and any
      // field named key or admin_api_key (the gateway never logs them; this is the safety net).
      paths: [
        "authorization",
        "*.authorization",
        "headers.authorization",
        "*.headers.authorization",
        "req.headers.authorization",
        "request.headers.authorization",
        "key",
        "*.key",
        "api_key",
        "*.api_key",
        "ADMIN_API_KEY",
        "*.ADMIN_API_KEY",
        "password",
        "*.password",
      ],
      censor: "[redacted]",
    },
  };
  if (destination) return pino(options, destination);
  if (pretty)
    return pino(options, pretty({ translateTime: "SYS:HH:MM:ss.l", ignore: "pid,hostname", sync: true }));
  return pino(options);
}
