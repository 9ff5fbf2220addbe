import { randomUUID } from "node:crypto";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import {
  connect,
  createInbox,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  type Subscription,
} from "@nats-io/transport-node";
import type { z } from "zod";
import type { Command, ReplyOf, RequestInputOf, RequestOf } from "./contracts/command.ts";
import { AppError, type WireError } from "./errors.ts";
import { type Logger, withRequestId } from "./logger.ts";
import type { HandlerMetrics } from "./metrics.ts";
import {
  type Context,
  context,
  extractContext,
  injectContext,
  type Span,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
} from "./trace-context.ts";

export const REQUEST_ID_HEADER = "X-Request-Id";
const ERROR_CODE_HEADER = "Nats-Service-Error-Code";

/** The wire envelope of every reply. */
type Envelope = { ok: true; data: unknown } | { ok: false; error: WireError };

export interface BusOptions {
  url: string;
  name: string;
  /** Prepended to every subject, so several deployments (or test files) can share one NATS. */
  subjectPrefix: string;
  requestTimeoutMs: number;
  log: Logger;
}

/** What a handler knows about the request it serves. */
export interface HandlerContext {
  requestId: string;
  log: Logger;
}

export type Handler<C extends Command> = (request: RequestOf<C>, ctx: HandlerContext) => Promise<ReplyOf<C>>;

/** Request/reply over NATS with contracts: validated on both ends, errors carried by code. */
export class Bus {
  private readonly inflight = new Set<Promise<void>>();
  private readonly subscriptions: Subscription[] = [];
  readonly js: JetStreamClient;
  /** The durable JetStream consumers this process reads (consumeEvents), for the pending gauge. */
  readonly consumers: { stream: string; durable: string }[] = [];

  private readonly replies: Replies;

  private constructor(
    readonly nc: NatsConnection,
    private readonly options: BusOptions,
  ) {
    this.js = jetstream(nc, { timeout: options.requestTimeoutMs });
    this.replies = new Replies(nc);
  }

  /** The subject prefix of this deployment (empty, or tokens ending in a dot). */
  get prefix(): string {
    return this.options.subjectPrefix;
  }

  /** Connects, retrying for ever while NATS is away (reconnects are the client's job after that). */
  static async connect(options: BusOptions): Promise<Bus> {
    const nc = await connect({
      servers: options.url.split(","),
      name: options.name,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      // Otherwise every request builds two Errors up front, for a stack it shows only on failure:
      // a tenth of the gateway's CPU under load. Our failures carry the subject instead.
      noAsyncTraces: true,
    });
    void (async () => {
      for await (const s of nc.status()) {
        if (s.type === "disconnect" || s.type === "reconnect")
          options.log.warn({ nats: s.type }, `nats ${s.type}`);
      }
    })();
    return new Bus(nc, options);
  }

  subject(command: Command): string {
    return this.prefix + command.subject;
  }

  /**
   * Sends a command and returns its validated reply; an AppError when the service said no.
   * A client span around it; its W3C trace context travels in the headers.
   */
  async request<C extends Command>(
    command: C,
    payload: RequestInputOf<C>,
    ctx: { requestId?: string } = {},
  ): Promise<ReplyOf<C>> {
    const subject = this.subject(command);
    return tracer().startActiveSpan(
      `${command.subject} request`,
      { kind: SpanKind.CLIENT, attributes: natsAttributes(subject, command, "send") },
      async (span) => {
        try {
          const h = headers();
          if (ctx.requestId) h.set(REQUEST_ID_HEADER, ctx.requestId);
          injectContext(h);
          let msg: Msg;
          try {
            msg = await this.replies.request(
              subject,
              JSON.stringify(payload),
              h,
              this.options.requestTimeoutMs,
            );
          } catch (cause) {
            const message =
              cause instanceof NoResponders
                ? `no ${command.service} is answering ${command.subject}`
                : `${command.service} did not answer ${command.subject} within ${this.options.requestTimeoutMs} ms`;
            throw new AppError("UNAVAILABLE", message, { service: command.service }, { cause });
          }
          const envelope = msg.json<Envelope>();
          if (!envelope.ok) throw AppError.fromWire(envelope.error);
          return (command.reply as z.ZodType<ReplyOf<C>>).parse(envelope.data);
        } catch (err) {
          recordError(span, err);
          throw err;
        } finally {
          span.end();
        }
      },
    );
  }

  /**
   * Publishes to a JetStream stream and resolves once the stream stored the message (or had it
   * already: its Nats-Msg-Id within the duplicate window). What js.publish does, on this bus's
   * inbox: the relays publish every event this way.
   */
  async publishToStream(subject: string, payload: string, h: MsgHdrs): Promise<void> {
    const ack = (await this.replies.request(subject, payload, h, this.options.requestTimeoutMs)).json<{
      error?: { description?: string };
    }>();
    if (ack.error) throw new Error(`the stream refused ${subject}: ${ack.error.description}`);
  }

  /** Answers a command in the queue group of its service, so replicas share the load. */
  serve<C extends Command>(command: C, handler: Handler<C>, metrics: HandlerMetrics): void {
    // One logger per command, not per request (pino serializes a child's bindings when it is made).
    const log = this.options.log.child({ subject: command.subject });
    const subscription = this.nc.subscribe(this.subject(command), {
      queue: command.service,
      callback: (err, msg) => {
        if (err) {
          this.options.log.error({ err }, `subscription to ${command.subject} failed`);
          return;
        }
        const done = this.handle(command, handler, metrics, log, msg).finally(() =>
          this.inflight.delete(done),
        );
        this.inflight.add(done);
      },
    });
    this.subscriptions.push(subscription);
  }

  /** One request: in a server span continuing the caller's trace, with its request id on every log line. */
  private handle<C extends Command>(
    command: C,
    handler: Handler<C>,
    metrics: HandlerMetrics,
    log: Logger,
    msg: Msg,
  ) {
    const requestId = msg.headers?.get(REQUEST_ID_HEADER) || randomUUID();
    const parent: Context = extractContext(msg.headers);
    return withRequestId(requestId, () =>
      tracer().startActiveSpan(
        command.subject,
        { kind: SpanKind.SERVER, attributes: natsAttributes(msg.subject, command, "process") },
        parent,
        async (span) => {
          span.setAttribute("cloudsim.request_id", requestId);
          try {
            await this.respond(command, handler, metrics, log, msg, requestId);
          } finally {
            span.end();
          }
        },
      ),
    );
  }

  private async respond<C extends Command>(
    command: C,
    handler: Handler<C>,
    metrics: HandlerMetrics,
    log: Logger,
    msg: Msg,
    requestId: string,
  ) {
    const stopTimer = metrics.duration.startTimer({ subject: command.subject });
    let outcome = "ok";
    try {
      const request = parseRequest(command, msg);
      const data = await handler(request, { requestId, log });
      msg.respond(JSON.stringify({ ok: true, data }));
    } catch (err) {
      const error =
        err instanceof AppError ? err : new AppError("INTERNAL", "internal error", {}, { cause: err });
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

  /** Resolves once the server has seen every subscription made so far. */
  async ping(): Promise<void> {
    await this.nc.flush();
  }

  /** Stops taking requests, finishes the ones in hand, then closes. */
  async close(): Promise<void> {
    if (this.nc.isClosed() || this.nc.isDraining()) {
      await this.nc.closed();
      return;
    }
    await Promise.allSettled(this.subscriptions.map((s) => s.drain()));
    await Promise.allSettled([...this.inflight]);
    await this.nc.drain();
  }
}

class NoResponders extends Error {}

/**
 * Requests whose replies come in on one inbox subscription, told apart by the last token of
 * the reply subject. (nats.js's own request() builds an Error for every request it completes,
 * a twentieth of the gateway's CPU; this builds one only for a request that fails.)
 */
class Replies {
  private readonly inbox = `${createInbox()}.`;
  private readonly waiting = new Map<string, Waiter>();
  private sequence = 0;

  constructor(private readonly nc: NatsConnection) {
    // Reconnects subscribe it again; an answer to a request that gave up is dropped.
    nc.subscribe(`${this.inbox}*`, {
      callback: (err, msg) => {
        if (!err) this.answer(msg);
      },
    });
  }

  request(subject: string, payload: string, h: MsgHdrs, timeoutMs: number): Promise<Msg> {
    const reply = this.inbox + (this.sequence++).toString(36);
    return new Promise<Msg>((resolve, reject) => {
      const timer = setTimeout(
        () => this.settle(reply, new Error(`no reply on ${subject} within ${timeoutMs} ms`)),
        timeoutMs,
      );
      this.waiting.set(reply, { resolve, reject, timer });
      try {
        this.nc.publish(subject, payload, { reply, headers: h });
      } catch (err) {
        this.settle(reply, err as Error);
      }
    });
  }

  private answer(msg: Msg) {
    // NATS answers a request nobody subscribes to with an empty 503 status message.
    this.settle(msg.subject, msg.data.length === 0 && msg.headers?.code === 503 ? new NoResponders() : msg);
  }

  private settle(reply: string, outcome: Msg | Error) {
    const waiter = this.waiting.get(reply);
    if (!waiter) return;
    this.waiting.delete(reply);
    clearTimeout(waiter.timer);
    if (outcome instanceof Error) waiter.reject(outcome);
    else waiter.resolve(outcome);
  }
}

interface Waiter {
  resolve(msg: Msg): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/** Messaging attributes of a NATS span (OpenTelemetry semantic conventions). */
function natsAttributes(subject: string, command: Command, operation: "send" | "process") {
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
function recordError(where: Span | Context, err: unknown, code?: string) {
  const span = "spanContext" in where ? where : trace.getSpan(where);
  if (!span) return;
  const errorCode = code ?? (err instanceof AppError ? err.code : "INTERNAL");
  span.setAttribute("cloudsim.error_code", errorCode);
  if (errorCode === "INTERNAL" || errorCode === "UNAVAILABLE") {
    if (err instanceof Error) span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : String(err) });
  }
}

function parseRequest<C extends Command>(command: C, msg: Msg): RequestOf<C> {
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
