import { AckPolicy, DeliverPolicy, type JsMsg, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { sql } from "drizzle-orm";
import type pg from "pg";
import type { z } from "zod";
import type { Db } from "./db.ts";
import { type Logger, withRequestId } from "./logger.ts";
import { type Bus, REQUEST_ID_HEADER } from "./nats.ts";
import {
  context,
  currentTraceparent,
  parseTraceparent,
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  trace,
  tracer,
} from "./trace-context.ts";

/** The header that carries the W3C trace context of the change an event describes. */
export const TRACEPARENT_HEADER = "traceparent";

const NANOS_PER_MS = 1_000_000;

/** One stream holds every event; its name follows the subject prefix so deployments never share it. */
export function eventStreamName(bus: Bus): string {
  return `${bus.prefix.replace(/[^A-Za-z0-9_-]/g, "_")}EVENTS`;
}

/** Creates the events stream when it is missing; every service that publishes or consumes calls it. */
export async function ensureEventStream(bus: Bus): Promise<void> {
  const jsm = await jetstreamManager(bus.nc);
  const name = eventStreamName(bus);
  const config = {
    name,
    subjects: [`${bus.prefix}events.>`],
    duplicate_window: 2 * 60_000 * NANOS_PER_MS,
    max_age: 7 * 24 * 3_600_000 * NANOS_PER_MS,
  };
  try {
    await jsm.streams.info(name);
  } catch {
    // Another service may create it between our look and our add.
    await jsm.streams.add(config).catch(async (err) => {
      await jsm.streams.info(name).catch(() => {
        throw err;
      });
    });
  }
}

/** What a service puts in its outbox: the relay publishes it on `subject` with Nats-Msg-Id = payload.id. */
export interface OutboxEvent {
  subject: string;
  orderingKey: string;
  payload: { id: string } & Record<string, unknown>;
  requestId: string | null;
}

/**
 * The row for `<schema>.outbox`. `traceparent` is the active span (the request or event that
 * made the change); outboxes without that column (tracedOutboxTable) ignore it.
 */
export function outboxRow(event: OutboxEvent) {
  return {
    eventId: event.payload.id,
    subject: event.subject,
    orderingKey: event.orderingKey,
    payload: event.payload,
    requestId: event.requestId,
    traceparent: currentTraceparent(),
  };
}

interface OutboxRow {
  seq: string;
  event_id: string;
  subject: string;
  ordering_key: string;
  payload: unknown;
  request_id: string | null;
  /** Only in outboxes made with tracedOutboxTable. */
  traceparent?: string | null;
}

/**
 * Publishes one batch from `<schema>.outbox`. One relay at a time holds the advisory lock, so
 * events of one key go out in the order written; different keys are published in parallel.
 * Rows whose publish was acknowledged are deleted; the rest wait for the next round (a
 * re-publish is dropped by the stream's duplicate window and by consumers' event ids).
 */
export async function relayOutboxBatch(
  pool: pg.Pool,
  schema: string,
  bus: Bus,
  batch: number,
): Promise<number> {
  if (!/^[a-z_]+$/.test(schema) || !Number.isInteger(batch)) throw new Error(`bad outbox ${schema}/${batch}`);
  const client = await pool.connect();
  try {
    // Round trips are what this loop costs, so BEGIN, the lock and the read travel together;
    // while another replica holds the lock the read is skipped altogether (a one-time filter).
    const [, read] = (await client.query(
      `BEGIN;
       SELECT o.* FROM (SELECT pg_try_advisory_xact_lock(hashtext('outbox:${schema}')) AS locked) AS l
       CROSS JOIN LATERAL (SELECT * FROM ${schema}.outbox WHERE l.locked ORDER BY seq LIMIT ${batch}) AS o`,
    )) as unknown as [pg.QueryResult, pg.QueryResult<OutboxRow>];
    const published = read.rows.length > 0 ? await publishInKeyOrder(bus, read.rows) : [];
    const seqs = published.map(Number).filter(Number.isSafeInteger);
    await client.query(
      seqs.length > 0 ? `DELETE FROM ${schema}.outbox WHERE seq IN (${seqs.join(",")}); COMMIT` : "COMMIT",
    );
    return published.length;
  } catch (err) {
    await client.query("ROLLBACK").catch(() => {});
    throw err;
  } finally {
    client.release();
  }
}

async function publishInKeyOrder(bus: Bus, rows: OutboxRow[]): Promise<string[]> {
  const lastOfKey = new Map<string, Promise<boolean>>();
  const outcomes = rows.map((row) => {
    const previous = lastOfKey.get(row.ordering_key) ?? Promise.resolve(true);
    // A failed publish stops the rest of its key, so a later event never overtakes it.
    const outcome = previous.then(async (ok) => {
      if (!ok) return false;
      const h = headers();
      if (row.request_id) h.set(REQUEST_ID_HEADER, row.request_id);
      if (row.traceparent) h.set(TRACEPARENT_HEADER, row.traceparent);
      return bus.js
        .publish(bus.prefix + row.subject, JSON.stringify(row.payload), { msgID: row.event_id, headers: h })
        .then(() => true)
        .catch(() => false);
    });
    lastOfKey.set(row.ordering_key, outcome);
    return outcome;
  });
  const done = await Promise.all(outcomes);
  return rows.filter((_, i) => done[i]).map((row) => row.seq);
}

/** A loop that runs `tick` every `intervalMs`, at once again while it reports a full batch. */
export function startLoop(
  name: string,
  tick: () => Promise<number>,
  opts: { intervalMs: number; batch: number; log: Logger },
) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const run = async () => {
    let done = 0;
    try {
      done = await tick();
    } catch (err) {
      opts.log.error({ err }, `${name} failed`);
    }
    if (!stopped) timer = setTimeout(schedule, done >= opts.batch ? 0 : opts.intervalMs);
  };
  const schedule = () => {
    running = run();
  };
  schedule();
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}

export function startOutboxRelay(opts: {
  pool: pg.Pool;
  schema: string;
  bus: Bus;
  intervalMs: number;
  batch: number;
  log: Logger;
}) {
  return startLoop(
    "outbox relay",
    () => relayOutboxBatch(opts.pool, opts.schema, opts.bus, opts.batch),
    opts,
  );
}

export interface EventContext {
  requestId: string | null;
  log: Logger;
}

/**
 * A durable JetStream consumer shared by the replicas of a service: each event goes to one of
 * them. `handle` must be idempotent by event id (see processOnce); a failure is redelivered.
 */
export async function consumeEvents<S extends z.ZodType>(opts: {
  bus: Bus;
  durable: string;
  filter: string;
  schema: S;
  log: Logger;
  handle: (event: z.infer<S>, ctx: EventContext) => Promise<void>;
}): Promise<{ stop(): Promise<void> }> {
  const { bus, durable, log } = opts;
  const stream = eventStreamName(bus);
  const jsm = await jetstreamManager(bus.nc);
  await jsm.consumers
    .add(stream, {
      durable_name: durable,
      ack_policy: AckPolicy.Explicit,
      deliver_policy: DeliverPolicy.All,
      filter_subject: bus.prefix + opts.filter,
      ack_wait: 30_000 * NANOS_PER_MS,
      max_ack_pending: 1_000,
    })
    .catch(async (err) => {
      // Replicas add the same durable; it existing already is what we want.
      await jsm.consumers.info(stream, durable).catch(() => {
        throw err;
      });
    });
  const consumer = await bus.js.consumers.get(stream, durable);
  const messages = await consumer.consume({ max_messages: 200 });
  bus.consumers.push({ stream, durable });
  // Each event in a consumer span of its own trace, linked to the change that wrote it.
  const handleOne = (msg: JsMsg) => {
    const requestId = msg.headers?.get(REQUEST_ID_HEADER) || null;
    const origin = parseTraceparent(msg.headers?.get(TRACEPARENT_HEADER));
    return withRequestId(requestId, () =>
      tracer().startActiveSpan(
        `${opts.filter} process`,
        {
          kind: SpanKind.CONSUMER,
          root: true,
          links: origin ? [{ context: origin }] : [],
          attributes: {
            "messaging.system": "nats",
            "messaging.destination.name": msg.subject,
            "messaging.operation.type": "process",
            "messaging.consumer.group.name": durable,
            "messaging.message.id": msg.headers?.get("Nats-Msg-Id") || "",
          },
        },
        ROOT_CONTEXT,
        async (span) => {
          try {
            await handleInSpan(msg, requestId);
          } finally {
            span.end();
          }
        },
      ),
    );
  };
  const handleInSpan = async (msg: JsMsg, requestId: string | null) => {
    const parsed = opts.schema.safeParse(msg.json());
    if (!parsed.success) {
      log.error(
        { subject: msg.subject, issues: parsed.error.issues },
        "event does not match its contract; dropped",
      );
      trace.getSpan(context.active())?.setStatus({ code: SpanStatusCode.ERROR, message: "invalid event" });
      msg.term();
      return;
    }
    try {
      await opts.handle(parsed.data, {
        requestId,
        log: log.child({ event: msg.subject }),
      });
      msg.ack();
    } catch (err) {
      const span = trace.getSpan(context.active());
      if (err instanceof Error) span?.recordException(err);
      span?.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
      log.error({ err, subject: msg.subject }, "event handling failed; it will be redelivered");
      msg.nak(1_000);
    }
  };
  const loop = (async () => {
    for await (const msg of messages) await handleOne(msg);
  })();
  return {
    async stop() {
      const i = bus.consumers.findIndex((c) => c.stream === stream && c.durable === durable);
      if (i >= 0) bus.consumers.splice(i, 1);
      await messages.close();
      await loop;
    },
  };
}

/**
 * Runs `apply` in a transaction only if `eventId` was never processed by this service,
 * recording it in `<schema>.processed_events` in the same transaction.
 */
export async function processOnce(
  db: Db,
  schema: string,
  eventId: string,
  apply: (tx: Db) => Promise<void>,
): Promise<boolean> {
  return db.transaction(async (tx) => {
    const inserted = await tx.execute(
      sql`INSERT INTO ${sql.identifier(schema)}.processed_events (event_id) VALUES (${eventId}) ON CONFLICT DO NOTHING`,
    );
    if (inserted.rowCount === 0) return false;
    await apply(tx as unknown as Db);
    return true;
  });
}
