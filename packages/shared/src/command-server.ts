import { randomUUID } from "node:crypto";
import { headers } from "@nats-io/transport-node";
import type { z } from "zod";
import type { IncomingRequest } from "./bus-local.ts";
import { natsAttributes, recordError } from "./bus-spans.ts";
import type { Command, ReplyOf, RequestOf } from "./contracts/command.ts";
import { databaseLimitError } from "./db.ts";
import { DEADLINE_HEADER, deadlineMargin, deadlinePassed, parseDeadline, withDeadline } from "./deadline.ts";
import { AppError, toAppError } from "./errors.ts";
import { type Logger, withRequestId } from "./logger.ts";
import type { HandlerMetrics } from "./metrics.ts";
import { type Context, context, extractContext, SpanKind, tracer } from "./trace-context.ts";

export const REQUEST_ID_HEADER = "X-Request-Id";
const ERROR_CODE_HEADER = "Nats-Service-Error-Code";

/** What a handler knows about the request it serves. */
export interface HandlerContext {
  requestId: string;
  log: Logger;
  /** When the handler must be done (Unix ms): its caller gives up soon after. */
  deadline: number;
}

export type Handler<C extends Command> = (request: RequestOf<C>, ctx: HandlerContext) => Promise<ReplyOf<C>>;

/** The serving side of a Bus: runs handlers, at most maxInFlight at once, and answers each request. */
export class CommandServer {
  /** The requests being handled, which close() waits for. */
  readonly inflight = new Set<Promise<void>>();

  constructor(
    private readonly options: { name: string; maxInFlight: number; requestTimeoutMs: number; log: Logger },
    /** Throws TOO_LARGE when a reply would not fit NATS' max_payload. */
    private readonly checkSize: (body: string, what: string) => void,
  ) {}

  /** The subscription callback for `command`: each message handled, or refused when too many are. */
  callback<C extends Command>(command: C, handler: Handler<C>, metrics: HandlerMetrics) {
    // One logger per command, not per request (pino serializes a child's bindings when it is made).
    const log = this.options.log.child({ subject: command.subject });
    return (err: Error | null, msg: IncomingRequest) => {
      if (err) {
        this.options.log.error({ err }, `subscription to ${command.subject} failed`);
        return;
      }
      if (this.inflight.size >= this.options.maxInFlight) {
        this.refuse(command, metrics, msg);
        return;
      }
      const done = this.handle(command, handler, metrics, log, msg).finally(() => this.inflight.delete(done));
      this.inflight.add(done);
    };
  }

  /** Answers at once, without handling: this process has maxInFlight requests in hand already. */
  private refuse(command: Command, metrics: HandlerMetrics, msg: IncomingRequest) {
    const limit = this.options.maxInFlight;
    const error = new AppError(
      "UNAVAILABLE",
      `${this.options.name} is handling ${limit} requests (MAX_IN_FLIGHT): try again shortly`,
      { reason: "overloaded", limit, retry_after_seconds: 1 },
    );
    const h = headers();
    h.set(ERROR_CODE_HEADER, error.code);
    msg.respond(JSON.stringify({ ok: false, error: error.toWire() }), { headers: h });
    metrics.requests.inc({ subject: command.subject, outcome: "OVERLOADED" });
  }

  /** One request: in a server span continuing the caller's trace, with its request id on every log line. */
  private handle<C extends Command>(
    command: C,
    handler: Handler<C>,
    metrics: HandlerMetrics,
    log: Logger,
    msg: IncomingRequest,
  ) {
    const requestId = msg.headers?.get(REQUEST_ID_HEADER) || randomUUID();
    const parent: Context = extractContext(msg.headers);
    // real time: a request's deadline is a real wait.
    const now = Date.now();
    const callerDeadline =
      parseDeadline(msg.headers?.get(DEADLINE_HEADER)) ?? now + this.options.requestTimeoutMs;
    const deadline = callerDeadline - deadlineMargin(callerDeadline - now);
    return withDeadline(deadline, () =>
      withRequestId(requestId, () =>
        tracer().startActiveSpan(
          command.subject,
          { kind: SpanKind.SERVER, attributes: natsAttributes(msg.subject, command, "process") },
          parent,
          async (span) => {
            span.setAttribute("cloudsim.request_id", requestId);
            try {
              await this.respond(command, handler, metrics, msg, { requestId, log, deadline });
            } finally {
              span.end();
            }
          },
        ),
      ),
    );
  }

  private async respond<C extends Command>(
    command: C,
    handler: Handler<C>,
    metrics: HandlerMetrics,
    msg: IncomingRequest,
    ctx: HandlerContext,
  ) {
    const stopTimer = metrics.duration.startTimer({ subject: command.subject });
    let outcome = "ok";
    const { log } = ctx;
    try {
      // Its caller gave up already (it waited in a queue, or the clocks disagree): nothing to do.
      // real time: a request's deadline is a real wait.
      if (Date.now() >= ctx.deadline) throw deadlinePassed(`${command.subject} not handled`, ctx.deadline);
      const request = parseRequest(command, msg);
      const data = await handler(request, ctx);
      const reply = JSON.stringify({ ok: true, data });
      this.checkSize(reply, `the answer to ${command.subject}`);
      msg.respond(reply);
    } catch (err) {
      // A database limit or outage is a 503 naming it; only what nothing explains is INTERNAL.
      const error = databaseLimitError(err) ?? toAppError(err);
      outcome = error.code;
      recordError(context.active(), err, error.code);
      if (error.code === "INTERNAL") log.error({ err }, "handler failed");
      const h = headers();
      h.set(ERROR_CODE_HEADER, error.code);
      msg.respond(JSON.stringify({ ok: false, error: error.toWire() }), { headers: h });
    } finally {
      metrics.requests.inc({ subject: command.subject, outcome });
      stopTimer();
    }
  }
}

function parseRequest<C extends Command>(command: C, msg: IncomingRequest): RequestOf<C> {
  let body: unknown;
  try {
    body = msg.json();
  } catch {
    throw new AppError("VALIDATION", "request body is not JSON");
  }
  const result = command.request.safeParse(body);
  if (!result.success) throw validationError(result.error);
  return result.data as RequestOf<C>;
}

/** A zod failure as a VALIDATION error whose details name each field. */
export function validationError(error: z.ZodError, prefix: string[] = []): AppError {
  const fields = error.issues.map((issue) => ({
    field: [...prefix, ...issue.path].join(".") || "(body)",
    message: issue.message,
  }));
  const summary = fields.map((f) => `${f.field}: ${f.message}`).join("; ");
  return new AppError("VALIDATION", summary, { fields });
}
