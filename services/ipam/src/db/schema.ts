import { processedEventsTable, tracedOutboxTable } from "@cloudsim/shared/event-tables";
import { sql } from "drizzle-orm";
import {
  index,
  inet,
  integer,
  pgSchema,
  primaryKey,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const ipamSchema = pgSchema("ipam");

/** One pool per region, as configured by IPAM_POOLS. */
export const pools = ipamSchema.table("pools", {
  region: text("region").primaryKey(),
  cidr: text("cidr").notNull(),
  size: integer("size").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * Every usable address of every pool, one row each, created with the pool. A row with a
 * server_id is allocated; allocation claims the lowest free row with FOR UPDATE SKIP LOCKED.
 */
export const addresses = ipamSchema.table(
  "addresses",
  {
    // No foreign key to pools: its check on each of a new pool's 65,534 rows was most of the
    // time a first start took; a pool's addresses go with it in ensurePool.
    region: text("region").notNull(),
    address: inet("address").notNull(),
    serverId: uuid("server_id"),
    allocatedAt: timestamp("allocated_at", { withTimezone: true }),
    /** Set when lifecycle's event shows the server exists; until then the allocation is a reservation. */
    confirmedAt: timestamp("confirmed_at", { withTimezone: true }),
    releasedAt: timestamp("released_at", { withTimezone: true }),
  },
  (t) => [
    primaryKey({ columns: [t.region, t.address] }),
    uniqueIndex("addresses_server_id_key").on(t.serverId),
    index("addresses_free_idx").on(t.region, t.address).where(sql`${t.serverId} IS NULL`),
    index("addresses_unconfirmed_idx")
      .on(t.allocatedAt)
      .where(sql`${t.serverId} IS NOT NULL AND ${t.confirmedAt} IS NULL`),
  ],
);

export const outbox = tracedOutboxTable(ipamSchema);
export const processedEvents = processedEventsTable(ipamSchema);
