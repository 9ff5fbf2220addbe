import { AckPolicy, DeliverPolicy, type JsMsg, jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { type SQL, sql } from "drizzle-orm";
import type pg from "pg";
import type { z } from "zod";
import { type Db, rowInserter } from "./db.ts";
import type { outboxTable, tracedOutboxTable } from "./event-tables.ts";
import { type Logger, withRequestId } from "./logger.ts";
import { type Bus, REQUEST_ID_HEADER } from "./nats.ts";
import {
  currentTraceparent,
  parseTraceparent,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  tracer,
} from "./trace-context.ts";

/** The header that carries the W3C trace context of the change an event describes. */
export const TRACEPARENT_HEADER = "traceparent";

/** JetStream drops a message whose id it stored within the stream's duplicate window. */
const MSG_ID_HEADER = "Nats-Msg-Id";

const NANOS_PER_MS = 1_000_000;

/** One stream holds every event; its name follows the subject prefix so deployments never share it. */
export function eventStreamName(bus: Pick<Bus, "prefix">): string {
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

type Outbox = ReturnType<typeof outboxTable> | ReturnType<typeof tracedOutboxTable>;

/** Inserts events into a service's outbox (with their trace context where it keeps one): one statement, see rowInserter. */
export function outboxInserter(table: Outbox): (events: readonly OutboxEvent[]) => SQL {
  const columns = ["eventId", "subject", "orderingKey", "payload", "requestId"] as const;
  const insert = rowInserter(
    table as ReturnType<typeof tracedOutboxTable>,
    "traceparent" in table ? [...columns, "traceparent"] : columns,
  );
  return (events) => insert(events.map(outboxRow));
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
      h.set(MSG_ID_HEADER, row.event_id);
      return bus
        .publishToStream(bus.prefix + row.subject, JSON.stringify(row.payload), h)
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
 * The context of one event. Its logger is made when first used: pino serializes a child's
 * bindings as it makes it, and most events are handled without a line logged.
 */
class LazyEventContext implements EventContext {
  #log: Logger | undefined;

  constructor(
    private readonly parent: Logger,
    private readonly subject: string,
    readonly requestId: string | null,
  ) {}

  get log(): Logger {
    this.#log ??= this.parent.child(
      this.requestId ? { event: this.subject, request_id: this.requestId } : { event: this.subject },
    );
    return this.#log;
  }
}

/** The most events handed over as one batch (as many as the consumer pulls at a time). */
const MAX_BATCH = 200;

/** A message's JSON payload; undefined when it is not JSON (the schema then rejects it). */
function jsonOf(msg: JsMsg): unknown {
  try {
    return msg.json();
  } catch {
    return undefined;
  }
}

/**
 * A durable JetStream consumer shared by the replicas of a service: each event goes to one of
 * them. Events are handed over in batches of what arrived while the previous batch was being
 * handled: one event under light load (no waiting to fill a batch), many under load, so a
 * handler pays its round trips and commit once per batch rather than once per event.
 * `handleBatch` must be idempotent by event id (see processBatchOnce); a failure is redelivered.
 */
export async function consumeEvents<S extends z.ZodType>(opts: {
  bus: Bus;
  durable: string;
  filter: string;
  schema: S;
  log: Logger;
  handleBatch: (events: Array<{ event: z.infer<S>; ctx: EventContext }>) => Promise<void>;
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
  const messages = await consumer.consume({ max_messages: MAX_BATCH });
  bus.consumers.push({ stream, durable });

  type Parsed = { msg: JsMsg; event: z.infer<S>; ctx: EventContext };
  /** Hands `events` over; a single event runs in its request's scope, so its log lines name it. */
  const handle = (events: Parsed[]) =>
    withRequestId(events.length === 1 ? (events[0]?.ctx.requestId ?? null) : null, () =>
      opts.handleBatch(events.map(({ event, ctx }) => ({ event, ctx }))),
    );
  const recordError = (span: Span, err: unknown) => {
    if (err instanceof Error) span.recordException(err);
    span.setStatus({ code: SpanStatusCode.ERROR, message: (err as Error)?.message });
  };

  // Each batch in a consumer span of its own trace, linked to the change behind each event.
  const handleBatch = (batch: JsMsg[]) => {
    const subjects = new Set(batch.map((msg) => msg.subject));
    const origins = batch.map((msg) => parseTraceparent(msg.headers?.get(TRACEPARENT_HEADER)));
    return tracer().startActiveSpan(
      `${opts.filter} process`,
      {
        kind: SpanKind.CONSUMER,
        root: true,
        links: origins.filter((origin) => origin !== undefined).map((origin) => ({ context: origin })),
        attributes: {
          "messaging.system": "nats",
          "messaging.destination.name": subjects.size === 1 ? [...subjects][0] : bus.prefix + opts.filter,
          "messaging.operation.type": "process",
          "messaging.consumer.group.name": durable,
          "messaging.batch.message_count": batch.length,
          // A message id names one message; a batch has many.
          ...(batch.length === 1
            ? { "messaging.message.id": batch[0]?.headers?.get("Nats-Msg-Id") || "" }
            : {}),
        },
      },
      ROOT_CONTEXT,
      async (span) => {
        try {
          await handleInSpan(span, batch);
        } finally {
          span.end();
        }
      },
    );
  };
  const handleInSpan = async (span: Span, batch: JsMsg[]) => {
    const events: Parsed[] = [];
    for (const msg of batch) {
      const parsed = opts.schema.safeParse(jsonOf(msg));
      if (!parsed.success) {
        log.error(
          { subject: msg.subject, issues: parsed.error.issues },
          "event does not match its contract; dropped",
        );
        span.setStatus({ code: SpanStatusCode.ERROR, message: "invalid event" });
        msg.term();
        continue;
      }
      const requestId = msg.headers?.get(REQUEST_ID_HEADER) || null;
      events.push({ msg, event: parsed.data, ctx: new LazyEventContext(log, msg.subject, requestId) });
    }
    if (events.length === 0) return;
    try {
      await handle(events);
      for (const { msg } of events) msg.ack();
    } catch (err) {
      recordError(span, err);
      if (events.length === 1) for (const one of events) failed(one, err);
      else {
        // One bad event must not hold back the others: each alone, only the failures redelivered.
        log.warn({ err, events: events.length }, "event batch failed; handling its events one by one");
        for (const one of events) {
          try {
            await handle([one]);
            one.msg.ack();
          } catch (err) {
            recordError(span, err);
            failed(one, err);
          }
        }
      }
    }
  };
  const failed = (one: Parsed, err: unknown) => {
    one.ctx.log.error({ err, subject: one.msg.subject }, "event handling failed; it will be redelivered");
    one.msg.nak(1_000);
  };

  // The reader only buffers; the worker takes all that is buffered as the next batch, and
  // waits for a message only when nothing is (so a lone event is handled at once).
  const buffer: JsMsg[] = [];
  let wake = () => {};
  let readerDone = false;
  let stopping = false;
  const reader = (async () => {
    try {
      for await (const msg of messages) {
        buffer.push(msg);
        wake();
      }
    } finally {
      readerDone = true;
      wake();
    }
  })();
  const worker = (async () => {
    while (!stopping) {
      if (buffer.length > 0) await handleBatch(buffer.splice(0, MAX_BATCH));
      else if (readerDone) return;
      else
        await new Promise<void>((resolve) => {
          wake = resolve;
        });
    }
  })();
  return {
    async stop() {
      const i = bus.consumers.findIndex((c) => c.stream === stream && c.durable === durable);
      if (i >= 0) bus.consumers.splice(i, 1);
      // The batch in hand finishes; no other starts.
      stopping = true;
      await messages.close();
      wake();
      await Promise.all([worker, reader]);
      // Sooner than ack_wait: what was buffered but not started goes back to the stream now.
      for (const msg of buffer.splice(0)) msg.nak();
    },
  };
}

/**
 * Runs `apply` in one transaction with the ids of `eventIds` this service never processed,
 * recording them all in `<schema>.processed_events` in the same transaction, in one statement.
 * `apply` is not called when every id was processed already.
 */
export async function processBatchOnce(
  db: Db,
  schema: string,
  eventIds: readonly string[],
  apply: (tx: Db, freshIds: Set<string>) => Promise<void>,
): Promise<void> {
  if (eventIds.length === 0) return;
  await db.transaction(async (tx) => {
    const inserted = await tx.execute<{ event_id: string }>(
      sql`INSERT INTO ${sql.identifier(schema)}.processed_events (event_id)
          SELECT unnest(${sql.param(eventIds)}::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id`,
    );
    // Postgres prints uuids in lower case; the fresh ids are handed back as the caller wrote them.
    const fresh = new Set(inserted.rows.map((r) => r.event_id));
    const freshIds = new Set(eventIds.filter((id) => fresh.has(id.toLowerCase())));
    if (freshIds.size > 0) await apply(tx as unknown as Db, freshIds);
  });
}
