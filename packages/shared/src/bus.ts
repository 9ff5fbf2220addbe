import { type JetStreamClient, jetstream } from "@nats-io/jetstream";
import {
  connect,
  headers,
  type Msg,
  type MsgHdrs,
  type NatsConnection,
  PermissionViolationError,
  type Subscription,
} from "@nats-io/transport-node";
import type { z } from "zod";
import {
  type IncomingRequest,
  type LocalReply,
  localServer,
  requestLocally,
  serveLocally,
} from "./bus-local.ts";
import { NoResponders, PublishRefused, Replies } from "./bus-replies.ts";
import { natsAttributes, recordError } from "./bus-spans.ts";
import type { SimulatedClock } from "./clock.ts";
import { CommandServer, type Handler, REQUEST_ID_HEADER } from "./command-server.ts";
import type { baseConfig } from "./config.ts";
import type { Command, ReplyOf, RequestInputOf } from "./contracts/command.ts";
import { type NatsService, natsRoles } from "./contracts/nats-roles.ts";
import { currentDeadline, DEADLINE_HEADER, deadlinePassed } from "./deadline.ts";
import { AppError, type WireError } from "./errors.ts";
import type { Logger } from "./logger.ts";
import type { HandlerMetrics } from "./metrics.ts";
import { natsInboxPrefix } from "./nats-names.ts";
import { injectContext, SpanKind, tracer } from "./trace-context.ts";

export { natsInboxPrefix } from "./nats-names.ts";

/** The sender's simulated time on a command: the receiver's clock reads no earlier (clock.ts). */
export const CLOCK_HEADER = "Cloudsim-Clock";

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
  /**
   * Requests to a command served in this same process skip NATS (bus-local.ts): the same
   * bytes, headers, spans and deadline, without the round trip through nats-server.
   */
  localRequests: boolean;
  /** Copies of each stream this service makes (STREAM_REPLICAS). */
  streamReplicas: number;
  /** NATS_PING_INTERVAL; nats.js's own default (2 minutes) when not given. */
  pingIntervalMs?: number;
  /** NATS_CONNECT_TIMEOUT; nats.js's own default (20 s) when not given. */
  connectTimeoutMs?: number;
  log: Logger;
}

/** Request/reply over NATS with contracts: validated on both ends, errors carried by code. */
export class Bus {
  private readonly subscriptions: Subscription[] = [];
  /** Stops serving this process's own requests (serveLocally), for each command served. */
  private readonly localServes: (() => void)[] = [];
  readonly js: JetStreamClient;
  /**
   * The durable JetStream consumers this process reads (consumeEvents), for the pending gauge
   * and readiness; `unreadableSince` is set while one is being read again after it stopped.
   */
  readonly consumers: { stream: string; durable: string; unreadableSince?: number }[] = [];

  private readonly replies: Replies;
  private readonly server: CommandServer;
  /** The simulated clock whose time travels on commands, when the clock is simulated. */
  private clock?: SimulatedClock;
  /** False from a disconnect until the client is back on a server. */
  private linked = true;

  private constructor(
    readonly nc: NatsConnection,
    private readonly options: BusOptions,
  ) {
    this.js = jetstream(nc, { timeout: options.requestTimeoutMs });
    this.replies = new Replies(nc, options.user && natsInboxPrefix(options.user));
    this.server = new CommandServer(options, (body, what) => this.checkSize(body, what));
  }

  /** Copies JetStream keeps of each stream this service makes (STREAM_REPLICAS). */
  get streamReplicas(): number {
    return this.options.streamReplicas;
  }

  /** Whether the client is on a server now: false while it looks for another after losing one. */
  get connected(): boolean {
    return this.linked && !this.nc.isClosed();
  }

  /** The subject prefix of this deployment (empty, or tokens ending in a dot). */
  get prefix(): string {
    return this.options.subjectPrefix;
  }

  /** Sends this clock's time on every command, and observes the time of every command served. */
  followClock(clock: SimulatedClock): void {
    this.clock = clock;
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
      ...(options.pingIntervalMs && { pingInterval: options.pingIntervalMs, maxPingOut: 2 }),
      // A node cut off never refuses a connection: without this, a reconnect waits 20 s on it.
      ...(options.connectTimeoutMs && { timeout: options.connectTimeoutMs }),
      waitOnFirstConnect: true,
      // Otherwise every request builds two Errors up front for a stack shown only on failure;
      // our failures name the subject instead.
      noAsyncTraces: true,
    });
    const bus = new Bus(nc, options);
    void bus.watchStatus();
    return bus;
  }

  private async watchStatus() {
    for await (const s of this.nc.status()) {
      if (s.type === "disconnect" || s.type === "reconnect") {
        this.linked = s.type === "reconnect";
        this.options.log.warn({ nats: s.type, server: s.server }, `nats ${s.type}`);
      }
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
    /** `timeoutMs`: this request's own wait, for the rare command that takes longer than REQUEST_TIMEOUT. */
    ctx: { requestId?: string; timeoutMs?: number } = {},
  ): Promise<ReplyOf<C>> {
    const subject = this.subject(command);
    return tracer().startActiveSpan(
      `${command.subject} request`,
      { kind: SpanKind.CLIENT, attributes: natsAttributes(subject, command, "send") },
      async (span) => {
        try {
          const h = headers();
          if (ctx.requestId) h.set(REQUEST_ID_HEADER, ctx.requestId);
          if (this.clock) h.set(CLOCK_HEADER, String(this.clock.now()));
          injectContext(h);
          // The request in hand's deadline, or a new one: what is left of it goes along.
          // real time: a request's deadline and NATS timeout are real waits.
          const now = Date.now();
          const deadline = Math.min(
            currentDeadline() ?? Number.POSITIVE_INFINITY,
            now + (ctx.timeoutMs ?? this.options.requestTimeoutMs),
          );
          if (deadline <= now) throw deadlinePassed(`${command.subject} not sent`, deadline);
          h.set(DEADLINE_HEADER, String(deadline));
          const body = JSON.stringify(payload);
          this.checkSize(body, `the request of ${command.subject}`);
          let msg: Msg | LocalReply;
          try {
            const local = this.localServerOf(command, subject);
            msg = local
              ? await requestLocally(local, subject, body, h, deadline - now)
              : await this.replies.request(subject, body, h, deadline - now);
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

  /**
   * A server of `command` in this process, when local requests are on and NATS would let this
   * service send it (otherwise the request goes to NATS, which answers as it would anyway).
   */
  private localServerOf(command: Command, subject: string) {
    if (!this.options.localRequests) return undefined;
    const user = this.options.user;
    const sends: readonly Command[] | undefined = user ? natsRoles[user as NatsService]?.sends : undefined;
    if (user && !sends?.includes(command)) return undefined;
    return localServer(subject);
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
    const serveOne = this.server.callback(command, handler, metrics);
    const callback = (err: Error | null, msg: IncomingRequest) => {
      const sentAt = Number(msg?.headers?.get(CLOCK_HEADER));
      if (this.clock && sentAt > 0) this.clock.observe(sentAt);
      serveOne(err, msg);
    };
    const subject = this.subject(command);
    this.subscriptions.push(this.nc.subscribe(subject, { queue: command.service, callback }));
    if (this.options.localRequests) this.localServes.push(serveLocally(subject, callback));
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
    for (const stop of this.localServes) stop();
    await Promise.allSettled(this.subscriptions.map((s) => s.drain()));
    await Promise.allSettled([...this.server.inflight]);
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
    localRequests: config.LOCAL_REQUESTS,
    streamReplicas: config.STREAM_REPLICAS,
    pingIntervalMs: config.NATS_PING_INTERVAL,
    connectTimeoutMs: config.NATS_CONNECT_TIMEOUT,
    log,
  });
}
