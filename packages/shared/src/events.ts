import {
  AckPolicy,
  DeliverPolicy,
  type JetStreamManager,
  type JsMsg,
  jetstreamManager,
  type StoredMsg,
  type StreamConfig,
} from "@nats-io/jetstream";
import { headers, type MsgHdrs } from "@nats-io/transport-node";
import { type SQL, sql } from "drizzle-orm";
import type pg from "pg";
import type { z } from "zod";
import { type EventsConfig, eventsConfig } from "./config.ts";
import { type Db, rowInserter } from "./db.ts";
import type { outboxTable, tracedOutboxTable } from "./event-tables.ts";
import { type Logger, withRequestId } from "./logger.ts";
import { Counter, type Registry } from "./metrics.ts";
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

const DUPLICATE_WINDOW_NS = 2 * 60_000 * NANOS_PER_MS;

/** A stream of this deployment: named after the subject prefix so deployments never share one. */
const streamName = (bus: Pick<Bus, "prefix">, name: string) =>
  `${bus.prefix.replace(/[^A-Za-z0-9_-]/g, "_")}${name}`;

/** One stream holds every event; its name follows the subject prefix so deployments never share it. */
export function eventStreamName(bus: Pick<Bus, "prefix">): string {
  return streamName(bus, "EVENTS");
}

/** The stream of the events a consumer gave up on (see consumeEvents), for an operator to inspect and replay. */
export function deadLetterStreamName(bus: Pick<Bus, "prefix">): string {
  return streamName(bus, "DEAD_LETTERS");
}

/** The subject (after the deployment prefix) a consumer's dead letters are stored under. */
export const deadLetterSubject = (durable: string) => `dead.${durable}`;

/** The headers a dead letter carries besides the event's own request id and trace context. */
export const DEAD_LETTER_HEADERS = {
  subject: "Cloudsim-Dead-Subject",
  consumer: "Cloudsim-Dead-Consumer",
  error: "Cloudsim-Dead-Error",
  deliveries: "Cloudsim-Dead-Deliveries",
  streamSequence: "Cloudsim-Dead-Stream-Sequence",
} as const;

/** Creates a stream when it is missing: another service may create it between our look and our add. */
async function ensureStream(jsm: JetStreamManager, config: Partial<StreamConfig> & { name: string }) {
  try {
    await jsm.streams.info(config.name);
  } catch {
    await jsm.streams.add(config).catch(async (err) => {
      await jsm.streams.info(config.name).catch(() => {
        throw err;
      });
    });
  }
}

/** Creates the events stream when it is missing; every service that publishes or consumes calls it. */
export async function ensureEventStream(bus: Bus): Promise<void> {
  await ensureStream(await jetstreamManager(bus.nc), {
    name: eventStreamName(bus),
    subjects: [`${bus.prefix}events.>`],
    duplicate_window: DUPLICATE_WINDOW_NS,
    max_age: 7 * 24 * 3_600_000 * NANOS_PER_MS,
  });
}

/** Bounded by age and size (the oldest go first), so a flood of poison cannot fill the disk. */
async function ensureDeadLetterStream(bus: Bus, config: EventsConfig): Promise<void> {
  await ensureStream(await jetstreamManager(bus.nc), {
    name: deadLetterStreamName(bus),
    subjects: [`${bus.prefix}dead.>`],
    duplicate_window: DUPLICATE_WINDOW_NS,
    max_age: config.DEAD_LETTER_MAX_AGE * NANOS_PER_MS,
    max_bytes: config.DEAD_LETTER_MAX_BYTES,
  });
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

/** The longest a failed event waits for its next delivery, however many it had. */
const MAX_RETRY_DELAY_MS = 5 * 60_000;

/** The most characters of an error a dead letter keeps. */
const MAX_ERROR_HEADER = 1_000;

/** How the event consumers of one service retry, and where they count what they gave up on. */
interface RetryPolicy {
  config: EventsConfig;
  deadLettered: Counter<"consumer">;
}

// Per bus, as every consumer of a service gets its bus: set by startRuntime (configureEventConsumers).
const retryPolicies = new WeakMap<Bus, RetryPolicy>();

/**
 * Sets how the event consumers on `bus` retry (EVENT_MAX_DELIVER, EVENT_RETRY_DELAY) and keep
 * their dead letters (DEAD_LETTER_*), and registers cloudsim_events_dead_lettered_total in
 * `registry`. Consumers on a bus never configured use the defaults and count in no registry.
 */
export function configureEventConsumers(bus: Bus, config: EventsConfig, registry: Registry): void {
  retryPolicies.set(bus, { config, deadLettered: deadLetteredCounter([registry]) });
}

const deadLetteredCounter = (registers: Registry[]) =>
  new Counter({
    name: "cloudsim_events_dead_lettered_total",
    help: "Events a consumer gave up on (failed EVENT_MAX_DELIVER times, or not matching their contract) and stored in the dead-letter stream",
    labelNames: ["consumer"],
    registers,
  });

function retryPolicyOf(bus: Bus): RetryPolicy {
  let policy = retryPolicies.get(bus);
  if (!policy) {
    policy = { config: eventsConfig.parse({}), deadLettered: deadLetteredCounter([]) };
    retryPolicies.set(bus, policy);
  }
  return policy;
}

/** The wait before delivery `deliveries + 1`: EVENT_RETRY_DELAY, doubling with each delivery, capped. */
const retryDelayMs = (config: EventsConfig, deliveries: number) =>
  Math.min(config.EVENT_RETRY_DELAY * 2 ** (deliveries - 1), MAX_RETRY_DELAY_MS);

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
 * `handleBatch` must be idempotent by event id (see processBatchOnce). A failed event is
 * redelivered after a growing delay, EVENT_MAX_DELIVER times at most; then, or at once when it
 * does not match its contract, it is stored in the dead-letter stream and acknowledged, so the
 * events after it go on.
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
  const policy = retryPolicyOf(bus);
  const { EVENT_MAX_DELIVER: maxDeliver } = policy.config;
  // At 0 from the start: Prometheus's increase() does not see the first dead letter of a new series.
  policy.deadLettered.inc({ consumer: durable }, 0);
  await ensureDeadLetterStream(bus, policy.config);
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
      // Delivered before and neither acknowledged nor refused: its handling hung or its process died.
      if (msg.info.deliveryCount > maxDeliver) {
        span.setStatus({ code: SpanStatusCode.ERROR, message: "event given up on" });
        await deadLetter(msg, `not handled in ${msg.info.deliveryCount - 1} deliveries`);
        continue;
      }
      const parsed = opts.schema.safeParse(jsonOf(msg));
      if (!parsed.success) {
        // Another delivery would not parse either.
        span.setStatus({ code: SpanStatusCode.ERROR, message: "invalid event" });
        const issues = parsed.error.issues.map((issue) => [...issue.path, issue.message].join(": "));
        await deadLetter(msg, `does not match its contract: ${issues.join("; ")}`);
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
      if (events.length === 1) for (const one of events) await failed(one, err);
      else {
        // One bad event must not hold back the others: each alone, only the failures redelivered.
        log.warn({ err, events: events.length }, "event batch failed; handling its events one by one");
        for (const one of events) {
          try {
            await handle([one]);
            one.msg.ack();
          } catch (err) {
            recordError(span, err);
            await failed(one, err);
          }
        }
      }
    }
  };
  const failed = async ({ msg, ctx }: Parsed, err: unknown) => {
    const deliveries = msg.info.deliveryCount;
    if (deliveries >= maxDeliver) return deadLetter(msg, (err as Error)?.message || String(err));
    const delayMs = retryDelayMs(policy.config, deliveries);
    ctx.log.error(
      { err, subject: msg.subject, deliveries, delay_ms: delayMs },
      "event handling failed; it will be redelivered",
    );
    msg.nak(delayMs);
  };
  /** Stores `msg` in the dead-letter stream, then acknowledges it; when that store fails, it comes back later. */
  const deadLetter = async (msg: JsMsg, error: string) => {
    const { deliveryCount: deliveries, streamSequence } = msg.info;
    const h = contextHeaders(msg.headers);
    h.set(DEAD_LETTER_HEADERS.subject, msg.subject);
    h.set(DEAD_LETTER_HEADERS.consumer, durable);
    // A header is one line, and a few of them must fit in a message.
    h.set(DEAD_LETTER_HEADERS.error, error.replace(/\s+/g, " ").slice(0, MAX_ERROR_HEADER));
    h.set(DEAD_LETTER_HEADERS.deliveries, String(deliveries));
    h.set(DEAD_LETTER_HEADERS.streamSequence, String(streamSequence));
    try {
      // Its id makes a store whose acknowledgement was lost, tried again, one dead letter.
      await bus.js.publish(bus.prefix + deadLetterSubject(durable), msg.data, {
        headers: h,
        msgID: `${durable}:${streamSequence}`,
      });
    } catch (err) {
      log.error(
        { err, subject: msg.subject, deliveries },
        "event could not be dead-lettered; it will be redelivered",
      );
      msg.nak(retryDelayMs(policy.config, deliveries));
      return;
    }
    policy.deadLettered.inc({ consumer: durable });
    log.error(
      { subject: msg.subject, consumer: durable, deliveries, stream_sequence: streamSequence, error },
      `event dead-lettered to ${deadLetterStreamName(bus)}; see docs/runbook.md#eventsdeadlettered`,
    );
    msg.ack();
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

/** New headers with the request id and trace context of `from`, which a dead letter and its replay keep. */
function contextHeaders(from: MsgHdrs | undefined): MsgHdrs {
  const h = headers();
  for (const name of [REQUEST_ID_HEADER, TRACEPARENT_HEADER]) {
    const value = from?.get(name);
    if (value) h.set(name, value);
  }
  return h;
}

/** A dead letter as stored: the event's payload, and where, why and after how many deliveries it was given up on. */
export interface DeadLetter {
  seq: number;
  storedAt: Date;
  subject: string;
  consumer: string;
  error: string;
  deliveries: number;
  payload: string;
}

const deadLetterOf = (stored: StoredMsg): DeadLetter => ({
  seq: stored.seq,
  storedAt: stored.time,
  subject: stored.header.get(DEAD_LETTER_HEADERS.subject),
  consumer: stored.header.get(DEAD_LETTER_HEADERS.consumer),
  error: stored.header.get(DEAD_LETTER_HEADERS.error),
  deliveries: Number(stored.header.get(DEAD_LETTER_HEADERS.deliveries)),
  payload: stored.string(),
});

/** The dead letters of this deployment, oldest first (`limit` at most); of one consumer when it is named. */
export async function listDeadLetters(
  bus: Bus,
  opts: { consumer?: string; limit: number },
): Promise<DeadLetter[]> {
  const jsm = await jetstreamManager(bus.nc);
  const stream = deadLetterStreamName(bus);
  const { state } = await jsm.streams.info(stream);
  const letters: DeadLetter[] = [];
  // Sequences between first and last may have been deleted (replayed), and answer null.
  for (let seq = state.first_seq; seq <= state.last_seq && letters.length < opts.limit; seq++) {
    const stored = state.messages > 0 ? await jsm.streams.getMessage(stream, { seq }) : null;
    if (stored && (!opts.consumer || stored.subject === bus.prefix + deadLetterSubject(opts.consumer)))
      letters.push(deadLetterOf(stored));
  }
  return letters;
}

/**
 * Publishes dead letter `seq` again on the subject it came from, then deletes it. Every consumer
 * of that subject gets it again; those that handled it before skip it by its event id.
 */
export async function replayDeadLetter(bus: Bus, seq: number): Promise<DeadLetter> {
  const jsm = await jetstreamManager(bus.nc);
  const stream = deadLetterStreamName(bus);
  const stored = await jsm.streams.getMessage(stream, { seq });
  if (!stored) throw new Error(`${stream} holds no dead letter ${seq}`);
  const letter = deadLetterOf(stored);
  const h = contextHeaders(stored.header);
  // Not the event's own id: the events stream would drop it within its duplicate window.
  h.set(MSG_ID_HEADER, `replay:${stream}:${seq}`);
  await bus.js.publish(letter.subject, stored.data, { headers: h });
  await jsm.streams.deleteMessage(stream, seq);
  return letter;
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
