import { sql } from "drizzle-orm";
import { bigint, jsonb, type PgSchema, text, timestamp, uuid } from "drizzle-orm/pg-core";
import { currentTraceId } from "./trace-context.ts";

/**
 * The outbox every publishing service keeps in its own schema: events written in the same
 * transaction as the change they describe, published later by the relay (outbox-relay.ts).
 * Kept free of runtime imports (but the OpenTelemetry API) so drizzle-kit can load it.
 */
const outboxColumns = () => ({
  seq: bigint("seq", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
  eventId: uuid("event_id").notNull(),
  subject: text("subject").notNull(),
  /** Events with one key (a server id) are published in the order they were written. */
  orderingKey: text("ordering_key").notNull(),
  payload: jsonb("payload").notNull(),
  requestId: text("request_id"),
  /** Real time (the column's default): when the relay's lag started, cloudsim_outbox_lag_seconds. */
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

export const outboxTable = (schema: PgSchema) => schema.table("outbox", outboxColumns());

/**
 * The outbox with a `traceparent` column: the W3C trace context of the change each event
 * describes (outboxRow fills it from the active span), published as the event's
 * `traceparent` header so its consumers' spans link back to the request. A service moves to
 * it by using this instead of outboxTable and generating the migration that adds the column.
 */
export const tracedOutboxTable = (schema: PgSchema) =>
  schema.table("outbox", { ...outboxColumns(), traceparent: text("traceparent") });

/** Event ids a consumer has handled, so a redelivery changes nothing twice. */
export const processedEventsTable = (schema: PgSchema) =>
  schema.table("processed_events", {
    eventId: uuid("event_id").primaryKey(),
    /** Real time (the column's default): pruned after PROCESSED_EVENTS_RETENTION, as the stream's max_age. */
    processedAt: timestamp("processed_at", { withTimezone: true }).notNull().defaultNow(),
  });

/** A `trace_id` column filled, when an insert leaves it out, with the trace of the active span. */
export const traceIdColumn = (name = "trace_id") =>
  text(name).$defaultFn(() => currentTraceId() ?? sql`NULL`);
