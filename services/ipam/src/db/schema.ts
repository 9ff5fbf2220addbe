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
  /**
   * How many of the pool's addresses, from its first, have a row: the rest are free and get
   * theirs a chunk at a time when allocation finds no free row (size: all of them).
   */
  materialised: integer("materialised").notNull(),
  createdAt: timestamp("created_at", { withTimezone: true }).notNull().defaultNow(),
});

/**
 * The usable addresses of every pool that have been needed so far (pools.materialised of them,
 * from the first), one row each. A row with a server_id is allocated; allocation claims a free
 * row from a random point onwards with FOR UPDATE SKIP LOCKED.
 */
export const addresses = ipamSchema.table(
  "addresses",
  {
    // No foreign key to pools: its check on each new row was most of the time a first start
    // took; a pool's addresses go with it in ensurePool.
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
