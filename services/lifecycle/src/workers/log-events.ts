import {
  AddressReleased,
  BillingEvent,
  type Bus,
  consumeEvents,
  currentTraceId,
  type Db,
  type DurableConsumer,
  type Logger,
  natsRoles,
} from "@cloudsim/shared";
import type { z } from "zod";
import { addLogEntriesFromEvents, type NewLogEntry } from "../db/log-entries.ts";

/**
 * Writes what another service did to a server into that server's log, once per event (the
 * log's unique event_id), at the time the event says it happened.
 */
function consumeIntoLog<S extends z.ZodType<{ id: string; server_id: string; occurred_at: string }>>(
  bus: Bus,
  db: Db,
  log: Logger,
  opts: DurableConsumer & { schema: S; entry: (event: z.infer<S>) => NewLogEntry },
) {
  return consumeEvents({
    bus,
    durable: opts.durable,
    filter: opts.filter,
    schema: opts.schema,
    log,
    handleBatch: (events) =>
      addLogEntriesFromEvents(
        db,
        events.map(({ event }) => ({
          ...opts.entry(event),
          serverId: event.server_id,
          eventId: event.id,
          at: new Date(event.occurred_at),
          // The consumer span's trace, as the column's default would have it.
          traceId: currentTraceId(),
        })),
      ),
  });
}

/** ip.released entries from ipam's events. */
export function consumeIpamEvents(bus: Bus, db: Db, log: Logger) {
  return consumeIntoLog(bus, db, log, {
    ...natsRoles.lifecycle.consumers.ipamLog,
    schema: AddressReleased,
    entry: (event) => ({
      type: "ip.released",
      message: `address ${event.address} released`,
      actor: "system",
      requestId: event.request_id,
    }),
  });
}

/** billing.started and billing.stopped entries from billing's events. */
export function consumeBillingEvents(bus: Bus, db: Db, log: Logger) {
  return consumeIntoLog(bus, db, log, {
    ...natsRoles.lifecycle.consumers.billingLog,
    schema: BillingEvent,
    entry: (event) => ({
      type: event.type,
      message:
        event.type === "billing.started"
          ? `billing started at ${event.rate} ${event.currency}/min`
          : `billing stopped: ${event.amount} ${event.currency} for ${event.billable_seconds} s at ${event.rate} ${event.currency}/min`,
      actor: "system",
      requestId: event.request_id,
    }),
  });
}
