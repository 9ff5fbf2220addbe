import type { Command } from "./contracts/command.ts";
import { AppError } from "./errors.ts";
import { type Context, type Span, SpanStatusCode, trace } from "./trace-context.ts";

/** Messaging attributes of a NATS span (OpenTelemetry semantic conventions). */
export function natsAttributes(subject: string, command: Command, operation: "send" | "process") {
  return {
    "messaging.system": "nats",
    "messaging.destination.name": subject,
    "messaging.operation.type": operation,
    "rpc.service": command.service,
  };
}

/**
 * Marks the span (or the active span of `where`) as failed: an error code on every failure,
 * the error status only for the ones that are the server's fault.
 */
export function recordError(where: Span | Context, err: unknown, code?: string) {
  const span = "spanContext" in where ? where : trace.getSpan(where);
  if (!span) return;
  const errorCode = code ?? (err instanceof AppError ? err.code : "INTERNAL");
  span.setAttribute("cloudsim.error_code", errorCode);
  if (errorCode === "INTERNAL" || errorCode === "UNAVAILABLE") {
    if (err instanceof Error) span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
}
