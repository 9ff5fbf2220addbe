import { processedEventsTable } from "@cloudsim/shared/event-tables";
import { pgSchema } from "drizzle-orm/pg-core";

export const reaperSchema = pgSchema("reaper");

export const processedEvents = processedEventsTable(reaperSchema);
