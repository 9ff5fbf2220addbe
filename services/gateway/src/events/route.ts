import {
  ALL_TENANTS,
  AppError,
  type Bus,
  Counter,
  EventsQuery,
  eventTypes,
  type FeedClosed,
  type FeedSkipped,
  Gauge,
  openTail,
  type Registry,
  type StreamEvent,
} from "@cloudsim/shared";
import type { FastifyRequest } from "fastify";
import type { FastifyPluginAsyncZod } from "fastify-type-provider-zod";
import { z } from "zod";
import { scopeOf } from "../auth.ts";
import type { GatewayConfig } from "../config.ts";
import { Problem } from "../errors.ts";
import { type FeedScope, type ServerOwners, serverOwners } from "./owners.ts";
import { SseStream } from "./sse.ts";

type FeedConfig = Pick<
  GatewayConfig,
  "EVENTS_MAX_STREAMS_PER_TENANT" | "EVENTS_HEARTBEAT" | "EVENTS_CLIENT_BUFFER" | "EVENTS_SLOW_CLIENT_TIMEOUT"
>;

const lastEventId = z
  .string()
  .regex(/^\d{1,15}$/, "a sequence number, as the feed's `id:` lines give it")
  .optional();

/**
 * GET /events: the events of the caller's servers (every tenant's for the admin key) as
 * Server-Sent Events, each with its stream sequence as its id, from just after Last-Event-ID
 * or from now on. Each feed reads the stream through its own ordered consumer, pulling only as
 * fast as its client reads; one left unread too long is cut off with a last message saying so.
 */
export const eventRoutes =
  (bus: Bus, registry: Registry, config: FeedConfig): FastifyPluginAsyncZod =>
  async (app) => {
    const owners = serverOwners(bus);
    const feeds = new Set<SseStream>();
    const perTenant = new Map<string, number>();
    const open = new Gauge({
      name: "cloudsim_event_feeds_open",
      help: "GET /events feeds open on this gateway",
      registers: [registry],
    });
    const cut = new Counter({
      name: "cloudsim_event_feeds_cut_total",
      help: "GET /events feeds the gateway ended, by reason (too_slow, shutting_down)",
      labelNames: ["reason"],
      registers: [registry],
    });
    const closeAll = (reason: FeedClosed["reason"], message: string) => {
      for (const feed of feeds) {
        feed.end({ type: "feed.closed", reason, message } satisfies FeedClosed);
        cut.inc({ reason });
      }
    };
    app.addHook("preClose", async () => closeAll("shutting_down", "the gateway is stopping: reconnect"));

    app.get(
      "/events",
      {
        schema: {
          tags: ["events"],
          summary: "A live feed of your servers' events (Server-Sent Events), resumable with Last-Event-ID",
          description:
            "text/event-stream. Each message: `id: <stream sequence>` and `data: <event JSON>` whose `type` is server.state_changed, ipam.released, billing.started or billing.stopped; a `feed.skipped` first message when Last-Event-ID is older than the stream keeps, a `feed.closed` last one when the gateway ends the feed. Comments (`: heartbeat`) keep it open.",
          querystring: EventsQuery,
          headers: z.object({ "last-event-id": lastEventId }).passthrough(),
          response: {
            200: z.unknown().describe("text/event-stream"),
            400: Problem,
            429: Problem,
            503: Problem,
          },
        },
      },
      async (request, reply) => {
        const tenant = request.caller.tenantId ?? "(admin)";
        const count = perTenant.get(tenant) ?? 0;
        if (count >= config.EVENTS_MAX_STREAMS_PER_TENANT)
          throw new AppError(
            "RATE_LIMITED",
            `${count} event feeds are open for this tenant (EVENTS_MAX_STREAMS_PER_TENANT): close one first`,
            { limit: config.EVENTS_MAX_STREAMS_PER_TENANT, open: count, retry_after_seconds: 5 },
          );
        const after = request.headers["last-event-id"];
        const filter = request.query;
        const tail = await openTail(bus, after === undefined ? undefined : Number(after), filter.type).catch(
          (err: unknown) => {
            throw unavailable(err);
          },
        );
        const feed = new SseStream(config.EVENTS_CLIENT_BUFFER);
        feed.attach(() => reply.raw.writableLength);
        feeds.add(feed);
        perTenant.set(tenant, count + 1);
        open.inc();
        const heartbeat = setInterval(() => feed.comment("heartbeat"), config.EVENTS_HEARTBEAT);
        const finish = () => {
          if (!feeds.delete(feed)) return;
          clearInterval(heartbeat);
          open.dec();
          const left = (perTenant.get(tenant) ?? 1) - 1;
          if (left > 0) perTenant.set(tenant, left);
          else perTenant.delete(tenant);
          feed.end();
          void tail.stop();
        };
        request.raw.once("close", finish);
        feed.body.once("close", finish);
        // The headers go out with the first bytes: at once, not with the first event.
        feed.comment("feed open");
        if (tail.skipped) feed.message(skippedMessage(tail.skipped), tail.skipped.to);
        const deliver = visibleTo(scopeOf(request), filter, owners, request);
        const ready = async () => {
          if (await feed.drained(config.EVENTS_SLOW_CLIENT_TIMEOUT)) return;
          const message = `the client left ${feed.pending} bytes unread for ${config.EVENTS_SLOW_CLIENT_TIMEOUT} ms (EVENTS_SLOW_CLIENT_TIMEOUT): reconnect with Last-Event-ID to resume`;
          request.log.warn(
            { tenant_id: request.caller.tenantId, pending: feed.pending },
            "event feed cut off",
          );
          cut.inc({ reason: "too_slow" });
          feed.end({ type: "feed.closed", reason: "too_slow", message } satisfies FeedClosed);
          finish();
        };
        void tail
          .run(async (seq, data) => {
            const event = await deliver(data);
            if (event) feed.message(event, seq);
          }, ready)
          .catch((err: unknown) => {
            if (feeds.has(feed)) request.log.error({ err }, "event feed failed");
            finish();
          });
        return (
          reply
            .header("content-type", "text/event-stream; charset=utf-8")
            .header("cache-control", "no-cache, no-transform")
            .header("x-accel-buffering", "no")
            // Never reused: when the feed ends, so does its connection (a stopping gateway waits for none).
            .header("connection", "close")
            .send(feed.body)
        );
      },
    );
  };

const utf8 = new TextDecoder();
const feedTypes = new Set<string>(eventTypes);

/** The event in `data` when the scope sees it and it passes the filter; undefined otherwise. */
function visibleTo(scope: FeedScope, filter: EventsQuery, owners: ServerOwners, request: FastifyRequest) {
  return async (data: Uint8Array): Promise<StreamEvent | undefined> => {
    let event: StreamEvent;
    try {
      event = JSON.parse(utf8.decode(data)) as StreamEvent;
    } catch {
      request.log.warn("an event on the stream is not JSON; not sent");
      return undefined;
    }
    // The stream carries more than the servers' feed (volumes' events, for billing): those are not sent.
    if (!feedTypes.has(event.type)) return undefined;
    if (filter.server_id && event.server_id !== filter.server_id) return undefined;
    if (filter.type && !filter.type.includes(event.type)) return undefined;
    if (event.type === "server.state_changed") {
      owners.learn(event);
      if (scope !== ALL_TENANTS && event.tenant_id !== scope) return undefined;
      if (filter.region && event.server.region !== filter.region) return undefined;
      return event;
    }
    if (scope === ALL_TENANTS && !filter.region) return event;
    const region = await owners.regionIn(scope, event.server_id);
    return region && (!filter.region || region === filter.region) ? event : undefined;
  };
}

const skippedMessage = ({ from, to }: { from: number; to: number }): FeedSkipped => ({
  type: "feed.skipped",
  skipped_from: from,
  skipped_to: to,
  message: `events ${from} to ${to} are no longer in the events stream (it keeps 7 days): they were not sent`,
});

function unavailable(err: unknown): AppError {
  if (err instanceof AppError) return err;
  return new AppError(
    "UNAVAILABLE",
    "the events stream cannot be read now: try again shortly",
    {},
    { cause: err },
  );
}
