import { bigint, jsonb, type PgSchema, text, timestamp, uuid } from "drizzle-orm/pg-core";

/**
 * The outbox every publishing service keeps in its own schema: events written in the same
 * transaction as the change they describe, published later by the relay (events.ts).
 * Kept free of runtime imports so drizzle-kit can load it.
 */
export const outboxTable = (schema: PgSchema) =>
  schema.table("outbox", {
    seq: bigint("seq", { mode: "number" }).primaryKey().generatedAlwaysAsIdentity(),
    eventId: uuid("event_id").notNull(),
    subject: text("subject").notNull(),
    /** Events with one key (a server id) are published in the order they were written. */
    orderingKey: text("ordering_key").notNull(),
    payload: jsonb("payload").notNull(),
    requestId: text("request_id"),
    createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
  });

/** Event ids a consumer has handled, so a redelivery changes nothing twice. */
export const processedEventsTable = (schema: PgSchema) =>
  schema.table("processed_events", {
    eventId: uuid("event_id").primaryKey(),
    processedAt: timestamp("processed_at", { withTimezone: true }).notNull().defaultNow(),
  });
