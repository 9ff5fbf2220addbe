import { outboxTable, processedEventsTable } from "@cloudsim/shared/event-tables";
import { pgSchema } from "drizzle-orm/pg-core";

export const billingSchema = pgSchema("billing");

export const outbox = outboxTable(billingSchema);
export const processedEvents = processedEventsTable(billingSchema);
