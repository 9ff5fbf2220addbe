import { sql } from "drizzle-orm";
import { boolean, index, integer, pgSchema, primaryKey, text, timestamp, uuid } from "drizzle-orm/pg-core";

export const reaperSchema = pgSchema("reaper");

const time = (name: string) => timestamp(name, { withTimezone: true });

/** Every server's state as the events tell it, newest event wins. */
export const watched = reaperSchema.table(
  "watched",
  {
    serverId: uuid("server_id").primaryKey(),
    tenantId: text("tenant_id").notNull().default("default"),
    state: text("state").notNull(),
    /** When the server entered its state: for a stopped server, when it went idle. */
    stateSince: time("state_since").notNull(),
    exempt: boolean("exempt").notNull().default(false),
    /** Set once the reaper has decided about this stop (terminated, or found changed). */
    decidedAt: time("decided_at"),
    /** reaped or spared, once decided. */
    outcome: text("outcome"),
  },
  (t) => [
    index("watched_idle_idx").on(t.stateSince).where(sql`${t.state} = 'stopped' AND ${t.decidedAt} IS NULL`),
  ],
);

/** What a sweep found and decided: the idle servers, and what became of each. */
const sweepFigures = {
  candidates: integer("candidates").notNull(),
  reaped: integer("reaped").notNull(),
  spared: integer("spared").notNull(),
  errors: integer("errors").notNull(),
};

/** One row per sweep, for GET /reaper/status. Its times are the service's clock, as decided_at is. */
export const sweeps = reaperSchema.table("sweeps", {
  id: integer("id").primaryKey().generatedAlwaysAsIdentity(),
  startedAt: time("started_at").notNull(),
  finishedAt: time("finished_at").notNull(),
  dryRun: boolean("dry_run").notNull(),
  ...sweepFigures,
  note: text("note"),
});

/** A sweep's figures for each tenant it found idle servers of (none found: no row). */
export const sweepTenants = reaperSchema.table(
  "sweep_tenants",
  {
    sweepId: integer("sweep_id")
      .notNull()
      .references(() => sweeps.id, { onDelete: "cascade" }),
    tenantId: text("tenant_id").notNull(),
    ...sweepFigures,
  },
  (t) => [primaryKey({ columns: [t.sweepId, t.tenantId] })],
);
