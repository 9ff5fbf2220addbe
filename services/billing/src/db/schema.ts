import { outboxTable, processedEventsTable } from "@cloudsim/shared/event-tables";
import { sql } from "drizzle-orm";
import {
  bigint,
  boolean,
  check,
  index,
  integer,
  numeric,
  pgSchema,
  text,
  timestamp,
  uniqueIndex,
  uuid,
} from "drizzle-orm/pg-core";

export const billingSchema = pgSchema("billing");

/** Amounts and rates: exact decimals, never floats. */
const money = (name: string) => numeric(name, { precision: 24, scale: 9 });

/** Every server event billing has seen, once per event id: the facts every total is computed from. */
export const transitions = billingSchema.table(
  "transitions",
  {
    eventId: uuid("event_id").primaryKey(),
    serverId: uuid("server_id").notNull(),
    /** The event's own occurred_at. */
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull(),
    toState: text("to_state").notNull(),
    /** Price per minute of the server's type when the event was recorded. */
    rate: money("rate").notNull(),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [index("transitions_server_idx").on(t.serverId, t.at)],
);

/**
 * One row per server: its open interval (open_since, rate) and what the ledger holds for it.
 * accrued_until is the usage time the ledger has been brought up to; the billing tick moves it.
 */
export const servers = billingSchema.table(
  "servers",
  {
    serverId: uuid("server_id").primaryKey(),
    /** The owner, from the server's events (rows from before tenancy: `default`). */
    tenantId: text("tenant_id").notNull().default("default"),
    type: text("type").notNull(),
    region: text("region").notNull(),
    /** The open interval's rate, else the type's rate when last seen. */
    rate: money("rate").notNull(),
    openSince: timestamp("open_since", { withTimezone: true, precision: 3 }),
    accruedUntil: timestamp("accrued_until", { withTimezone: true, precision: 3 }),
    billedMs: bigint("billed_ms", { mode: "bigint" }).notNull().default(sql`0`),
    amount: money("amount").notNull().default("0"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("servers_open_idx").on(t.serverId).where(sql`${t.openSince} IS NOT NULL`),
    index("servers_tenant_idx").on(t.tenantId),
  ],
);

/**
 * One row per EBS volume: its billed period, [open_since, closed_at), from its events (the
 * earliest billable one, the earliest that ended it), and what the ledger holds for it. The
 * rate (per GB-month) and size are those of its first event.
 */
export const volumes = billingSchema.table(
  "volumes",
  {
    volumeId: uuid("volume_id").primaryKey(),
    /** The EC2 id, vol-…. */
    ec2Id: text("ec2_id").notNull(),
    tenantId: text("tenant_id").notNull(),
    region: text("region").notNull(),
    volumeType: text("volume_type").notNull(),
    sizeGb: integer("size_gb").notNull(),
    rate: money("rate").notNull(),
    openSince: timestamp("open_since", { withTimezone: true, precision: 3 }),
    closedAt: timestamp("closed_at", { withTimezone: true, precision: 3 }),
    accruedUntil: timestamp("accrued_until", { withTimezone: true, precision: 3 }).notNull(),
    billedMs: bigint("billed_ms", { mode: "bigint" }).notNull().default(sql`0`),
    amount: money("amount").notNull().default("0"),
    updatedAt: timestamp("updated_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    uniqueIndex("volumes_ec2_id_idx").on(t.ec2Id),
    index("volumes_open_idx").on(t.volumeId).where(sql`${t.openSince} IS NOT NULL AND ${t.closedAt} IS NULL`),
    index("volumes_tenant_idx").on(t.tenantId),
  ],
);

/**
 * Append-only: every change of a server's or a volume's total, with corrections as lines of
 * their own. A volume's line has its rate per GB-month, a server's its rate per minute.
 */
export const ledger = billingSchema.table(
  "ledger",
  {
    id: bigint("id", { mode: "bigint" }).primaryKey().generatedAlwaysAsIdentity(),
    serverId: uuid("server_id"),
    volumeId: uuid("volume_id"),
    /** The usage time up to which this line brings the server's total. */
    at: timestamp("at", { withTimezone: true, precision: 3 }).notNull(),
    kind: text("kind").notNull(),
    billedMs: bigint("billed_ms", { mode: "bigint" }).notNull(),
    amount: money("amount").notNull(),
    rate: money("rate"),
    eventId: uuid("event_id"),
    recordedAt: timestamp("recorded_at", { withTimezone: true }).notNull().defaultNow(),
  },
  (t) => [
    index("ledger_server_idx").on(t.serverId, t.id),
    index("ledger_volume_idx").on(t.volumeId, t.id).where(sql`${t.volumeId} IS NOT NULL`),
    index("ledger_at_idx").on(t.at),
    check("ledger_one_owner", sql`num_nonnulls(${t.serverId}, ${t.volumeId}) = 1`),
  ],
);

/**
 * One row: the interval of BILLING_INTERVAL (counted from the epoch) the last tick accrued in. A
 * replica's tick claims the interval it runs in by moving this, in the tick's own statement, so
 * each interval is accrued once across replicas, and a tick that fails leaves it unclaimed.
 */
export const ticks = billingSchema.table(
  "ticks",
  {
    id: boolean("id").primaryKey().default(true),
    intervalStart: timestamp("interval_start", { withTimezone: true, precision: 3 }).notNull(),
  },
  (t) => [check("ticks_one_row", sql`${t.id}`)],
);

export const outbox = outboxTable(billingSchema);
export const processedEvents = processedEventsTable(billingSchema);
