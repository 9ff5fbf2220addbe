import type { SQL } from "drizzle-orm";
import { rowInserter } from "./db.ts";
import type { outboxTable, tracedOutboxTable } from "./event-tables.ts";
import { currentTraceparent } from "./trace-context.ts";

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
