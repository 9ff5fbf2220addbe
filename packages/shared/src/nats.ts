import { randomUUID } from "node:crypto";
import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import {
  connect,
  createInbox,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  PermissionViolationError,
  type Subscription,
} from "@nats-io/transport-node";
import type { z } from "zod";
import type { baseConfig } from "./config.ts";
import type { Command, ReplyOf, RequestInputOf, RequestOf } from "./contracts/command.ts";
import { databaseLimitError } from "./db.ts";
import {
  currentDeadline,
  DEADLINE_HEADER,
  deadlineMargin,
  deadlinePassed,
  parseDeadline,
  withDeadline,
} from "./deadline.ts";
import { AppError, toAppError, type WireError } from "./errors.ts";
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

/**
 * The inbox prefix of a NATS user: the replies to its requests come in under it, and the
 * permissions (nats-permissions.ts) let it subscribe to no other inbox.
 */
export const natsInboxPrefix = (user: string) => `_INBOX_${user}`;

/** The wire envelope of every reply. */
type Envelope = { ok: true; data: unknown } | { ok: false; error: WireError };

export interface BusOptions {
  url: string;
  name: string;
  /** The NATS user (one per service, allowed only what its contracts name); none on a NATS without authorization. */
  user?: string;
  password?: string;
  /** Prepended to every subject, so several deployments (or test files) can share one NATS. */
  subjectPrefix: string;
  requestTimeoutMs: number;
  /** Requests a process handles at once; past it a request is refused at once (UNAVAILABLE, overloaded). */
  maxInFlight: number;
  log: Logger;
}

/** What a handler knows about the request it serves. */
export interface HandlerContext {
  requestId: string;
  log: Logger;
  /** When the handler must be done (Unix ms): its caller gives up soon after. */
  deadline: number;
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
    this.replies = new Replies(nc, options.user && natsInboxPrefix(options.user));
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
      ...(options.user && {
        user: options.user,
        pass: options.password,
        inboxPrefix: natsInboxPrefix(options.user),
      }),
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
      waitOnFirstConnect: true,
      // Otherwise every request builds two Errors up front, for a stack it shows only on failure:
      // a tenth of the gateway's CPU under load. Our failures carry the subject instead.
      noAsyncTraces: true,
    });
    const bus = new Bus(nc, options);
    void bus.watchStatus();
    return bus;
  }

  private async watchStatus() {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect")
        this.options.log.warn({ nats: s.type }, `nats ${s.type}`);
      if (s.type === "error") {
        // A refused permission is a deployment whose NATS permissions lack what this service does.
        this.options.log.error({ err: s.error }, "nats error");
        if (s.error instanceof PermissionViolationError && s.error.operation === "publish")
          this.replies.refused(s.error.subject);
      }
    }
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
          // The request in hand's deadline, or a new one: what is left of it goes along.
          const now = Date.now();
          const deadline = Math.min(
            currentDeadline() ?? Number.POSITIVE_INFINITY,
            now + this.options.requestTimeoutMs,
          );
          if (deadline <= now) throw deadlinePassed(`${command.subject} not sent`, deadline);
          h.set(DEADLINE_HEADER, String(deadline));
          const body = JSON.stringify(payload);
          this.checkSize(body, `the request of ${command.subject}`);
          let msg: Msg;
          try {
            msg = await this.replies.request(subject, body, h, deadline - now);
          } catch (cause) {
            throw this.failed(command, cause, deadline - now);
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

  /** Why a request got no answer: refused by NATS, nobody serving it, or no answer in time. */
  private failed(command: Command, cause: unknown, waitedMs: number): AppError {
    if (cause instanceof PublishRefused)
      return new AppError(
        "FORBIDDEN",
        `${this.options.name} may not send ${command.subject} (NATS permissions)`,
        { subject: command.subject },
        { cause },
      );
    if (cause instanceof NoResponders)
      return new AppError(
        "UNAVAILABLE",
        `no ${command.service} is answering ${command.subject}`,
        { service: command.service },
        { cause },
      );
    // The handler may still finish (it stops at its deadline, a little before now): unknown.
    return new AppError(
      "TIMEOUT",
      `${command.service} did not answer ${command.subject} within ${waitedMs} ms: the outcome is unknown`,
      { service: command.service, timeout_ms: waitedMs },
      { cause },
    );
  }

  /** TOO_LARGE when `body` would not fit the server's max_payload (nats-server refuses it). */
  private checkSize(body: string, what: string): void {
    const limit = this.nc.info?.max_payload;
    const size = Buffer.byteLength(body);
    if (limit !== undefined && size > limit)
      throw new AppError(
        "TOO_LARGE",
        `${what} is ${size} bytes, more than NATS' max_payload of ${limit}: ask for a smaller page (limit)`,
        {
          size_bytes: size,
          max_payload_bytes: limit,
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
        if (this.inflight.size >= this.options.maxInFlight) {
          this.refuse(command, metrics, msg);
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

  /** Answers at once, without handling: this process has maxInFlight requests in hand already. */
  private refuse(command: Command, metrics: HandlerMetrics, msg: Msg) {
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
    msg: Msg,
  ) {
    const requestId = msg.headers?.get(REQUEST_ID_HEADER) || randomUUID();
    const parent: Context = extractContext(msg.headers);
    const callerDeadline =
      parseDeadline(msg.headers?.get(DEADLINE_HEADER)) ?? Date.now() + this.options.requestTimeoutMs;
    const deadline = callerDeadline - deadlineMargin(callerDeadline - Date.now());
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
    msg: Msg,
    ctx: HandlerContext,
  ) {
    const stopTimer = metrics.duration.startTimer({ subject: command.subject });
    let outcome = "ok";
    const { log } = ctx;
    try {
      // Its caller gave up already (it waited in a queue, or the clocks disagree): nothing to do.
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

/** A service's bus, as its configuration says. */
export function connectBus(name: string, config: z.infer<typeof baseConfig>, log: Logger): Promise<Bus> {
  return Bus.connect({
    url: config.NATS_URL,
    name,
    user: config.NATS_USER,
    password: config.NATS_PASSWORD,
    subjectPrefix: config.NATS_SUBJECT_PREFIX,
    requestTimeoutMs: config.REQUEST_TIMEOUT,
    maxInFlight: config.MAX_IN_FLIGHT,
    log,
  });
}

class NoResponders extends Error {}
/** The server refused to let this connection publish the request. */
class PublishRefused extends Error {}

/**
 * Requests whose replies come in on one inbox subscription, told apart by the last token of
 * the reply subject. (nats.js's own request() builds an Error for every request it completes,
 * a twentieth of the gateway's CPU; this builds one only for a request that fails.)
 */
class Replies {
  private readonly inbox: string;
  private readonly waiting = new Map<string, Waiter>();
  private sequence = 0;

  constructor(
    private readonly nc: NatsConnection,
    inboxPrefix?: string,
  ) {
    this.inbox = `${createInbox(inboxPrefix)}.`;
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
      this.waiting.set(reply, { subject, resolve, reject, timer });
      try {
        this.nc.publish(subject, payload, { reply, headers: h });
      } catch (err) {
        this.settle(reply, err as Error);
      }
    });
  }

  /**
   * The server refused a publish to `subject`: the oldest request on it fails (the server
   * answers each refused publish in order, and every request on a refused subject is refused).
   */
  refused(subject: string) {
    for (const [reply, waiter] of this.waiting) {
      if (waiter.subject !== subject) continue;
      this.settle(reply, new PublishRefused(`the server refused a publish to ${subject}`));
      return;
    }
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
  subject: string;
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
