import { type Clock, clockDate, type Db, mapConcurrent, realClock, timeSql } from "@cloudsim/shared";
import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import { PgDialect } from "drizzle-orm/pg-core";
import type pg from "pg";
import { type Decision, figuresOf, noFigures, type SweepFigures } from "../domain/sweep-figures.ts";
import { type StateWrite, statesToWrite, type WatchedEvent } from "../domain/watched-states.ts";
import { isIdleSql } from "./idle-sql.ts";
import { sweeps, sweepTenants, watched } from "./schema.ts";

export interface Candidate {
  serverId: string;
  tenantId: string;
  stateSince: Date;
  exempt: boolean;
}

export interface SweepResult extends SweepFigures {
  startedAt: Date;
  finishedAt: Date;
  dryRun: boolean;
}

const dialect = new PgDialect();

/**
 * reaper's own tables, and nothing else. Idle time, decisions and sweeps are on the clock (the
 * runtime's in the service), as the events' times the states were entered at are.
 */
export class ReaperRepository {
  constructor(
    private readonly db: Db,
    private readonly pool: pg.Pool,
    private readonly clock: Clock = realClock,
  ) {}

  /** The newest event about each server wins; a late or repeated one changes nothing. */
  async recordStates(events: readonly WatchedEvent[]): Promise<void> {
    for (const writes of statesToWrite(events)) await this.upsertStates(writes);
  }

  /** At most one event per server: a row that is older takes its state. */
  private async upsertStates(writes: StateWrite[]): Promise<void> {
    const rows = writes.map((e) => ({
      server_id: e.serverId,
      state: e.state,
      state_since: e.at,
      exempt: e.exempt,
      tenant_id: e.tenantId,
      reaped: e.reaped,
    }));
    // A termination the reaper asked for records the decision even when the sweep that asked
    // never did (it was stopped while lifecycle answered, or found the server changed after).
    const now = clockDate(this.clock);
    await this.db.execute(sql`
      WITH t AS (
        SELECT * FROM jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS t(server_id uuid, state text,
          state_since timestamptz, exempt boolean, tenant_id text, reaped boolean)
      )
      INSERT INTO reaper.watched AS w (server_id, state, state_since, exempt, tenant_id)
      SELECT server_id, state, state_since, exempt, tenant_id FROM t
      ON CONFLICT (server_id) DO UPDATE SET
        state = excluded.state, state_since = excluded.state_since, exempt = excluded.exempt,
        tenant_id = excluded.tenant_id,
        -- A new stop needs a new decision; any other state keeps the last one (for the counts).
        decided_at = CASE WHEN excluded.state = 'stopped' THEN NULL
          WHEN (SELECT reaped FROM t WHERE t.server_id = excluded.server_id) THEN coalesce(w.decided_at, ${timeSql(now)})
          ELSE w.decided_at END,
        outcome = CASE WHEN excluded.state = 'stopped' THEN NULL
          WHEN (SELECT reaped FROM t WHERE t.server_id = excluded.server_id) THEN 'reaped'
          ELSE w.outcome END
      WHERE w.state_since < excluded.state_since`);
  }

  /**
   * One sweep (undefined when another replica holds the sweep's advisory lock): `reap` acts on
   * each idle server, and each decision is recorded as it is taken, outside any transaction, so
   * a sweep stopped half way leaves the rest to the next. The sweep's row comes last.
   */
  async sweep(
    opts: { idleMs: number; batch: number; dryRun: boolean; concurrency: number },
    reap: (candidate: Candidate) => Promise<Decision>,
  ): Promise<SweepResult | undefined> {
    const lockHolder = await this.pool.connect();
    try {
      const lock = await lockHolder.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_lock(hashtext('reaper:sweep')) AS locked",
      );
      if (!lock.rows[0]?.locked) return undefined;
      return await this.sweepLocked(opts, reap);
    } finally {
      // Closed rather than returned to the pool: the session lock ends with it, whatever failed.
      lockHolder.release(true);
    }
  }

  private async sweepLocked(
    opts: { idleMs: number; batch: number; dryRun: boolean; concurrency: number },
    reap: (candidate: Candidate) => Promise<Decision>,
  ): Promise<SweepResult> {
    // The sweep starts when it reads its candidates, at the clock's time they are idle at.
    const startedAt = clockDate(this.clock);
    const candidates = dialect.sqlToQuery(sql`
      SELECT server_id, state_since, exempt, tenant_id FROM reaper.watched
      WHERE ${isIdleSql(watched.state, watched.stateSince, timeSql(startedAt), opts.idleMs)} AND decided_at IS NULL
      ORDER BY state_since LIMIT ${opts.batch}`);
    // On the pool rather than drizzle, whose driver leaves timestamps as text.
    const { rows } = await this.pool.query<{
      server_id: string;
      state_since: Date;
      exempt: boolean;
      tenant_id: string;
    }>(candidates.sql, candidates.params);
    const decisions = await mapConcurrent(rows, opts.concurrency, async (r) => {
      const candidate = {
        serverId: r.server_id,
        tenantId: r.tenant_id,
        stateSince: r.state_since,
        exempt: r.exempt,
      };
      const decision = await reap(candidate);
      if (!opts.dryRun && decision !== "error") await this.recordDecision(candidate.serverId, decision);
      return { ...candidate, decision };
    });
    const { figures, byTenant } = figuresOf(decisions);
    const tenantRows = [...byTenant].map(([tenant_id, f]) => ({ tenant_id, ...f }));
    // Started when its candidates were read, finished now: on the clock decided_at is on.
    const sweep = await this.pool.query<{ started_at: Date; finished_at: Date }>(
      `WITH sweep AS (
         INSERT INTO reaper.sweeps (started_at, finished_at, dry_run, candidates, reaped, spared, errors)
         VALUES ($1::timestamptz, $8::timestamptz, $2, $3, $4, $5, $6)
         RETURNING id, started_at, finished_at
       ), tenants AS (
         INSERT INTO reaper.sweep_tenants (sweep_id, tenant_id, candidates, reaped, spared, errors)
         SELECT sweep.id, t.* FROM sweep, jsonb_to_recordset($7::jsonb)
           AS t(tenant_id text, candidates int, reaped int, spared int, errors int)
       )
       SELECT started_at, finished_at FROM sweep`,
      [
        startedAt.toISOString(),
        opts.dryRun,
        figures.candidates,
        figures.reaped,
        figures.spared,
        figures.errors,
        JSON.stringify(tenantRows),
        clockDate(this.clock).toISOString(),
      ],
    );
    const times = sweep.rows[0];
    if (!times) throw new Error("the sweep's row was not written");
    return { startedAt: times.started_at, finishedAt: times.finished_at, dryRun: opts.dryRun, ...figures };
  }

  /** One decision, in one statement: recorded whole or not at all. */
  private async recordDecision(serverId: string, outcome: Exclude<Decision, "error">): Promise<void> {
    // Only while it is still the stop the sweep decided on: the event of a termination the
    // reaper asked for (maybe a stopped sweep's) may have recorded it already.
    await this.pool.query(
      `UPDATE reaper.watched SET decided_at = $3::timestamptz, outcome = $2
       WHERE server_id = $1 AND state = 'stopped' AND decided_at IS NULL`,
      [serverId, outcome, clockDate(this.clock).toISOString()],
    );
  }

  /** The last sweep; for one tenant, its times with that tenant's figures. */
  async lastSweep(tenantId: string | null) {
    const [row] = await this.db.select().from(sweeps).orderBy(desc(sweeps.id)).limit(1);
    if (!row || tenantId === null) return row;
    const [mine] = await this.db
      .select({
        candidates: sweepTenants.candidates,
        reaped: sweepTenants.reaped,
        spared: sweepTenants.spared,
        errors: sweepTenants.errors,
      })
      .from(sweepTenants)
      .where(and(eq(sweepTenants.sweepId, row.id), eq(sweepTenants.tenantId, tenantId)));
    return { ...row, ...(mine ?? noFigures()) };
  }

  /** Sweeps run, and servers reaped and spared (of one tenant, or of all). */
  async totals(tenantId: string | null) {
    const [sweepCount] = await this.db.select({ sweeps: count() }).from(sweeps);
    const [row] = await this.db
      .select({
        reaped: sql<number>`count(*) FILTER (WHERE ${watched.outcome} = 'reaped')::int`,
        spared: sql<number>`count(*) FILTER (WHERE ${watched.outcome} = 'spared')::int`,
      })
      .from(watched)
      .where(tenantId === null ? undefined : eq(watched.tenantId, tenantId));
    return { sweeps: sweepCount?.sweeps ?? 0, reaped: row?.reaped ?? 0, spared: row?.spared ?? 0 };
  }

  async watching(idleMs: number, tenantId: string | null) {
    const [row] = await this.db
      .select({
        stopped: count(),
        idle: sql<number>`count(*) FILTER (WHERE ${isIdleSql(watched.state, watched.stateSince, timeSql(clockDate(this.clock)), idleMs)})::int`,
      })
      .from(watched)
      .where(
        and(
          eq(watched.state, "stopped"),
          isNull(watched.decidedAt),
          tenantId === null ? undefined : eq(watched.tenantId, tenantId),
        ),
      );
    return { stopped: row?.stopped ?? 0, idle: row?.idle ?? 0 };
  }

  /**
   * The earliest time a stopped server not yet decided on becomes idle (isIdleSql: stopped for
   * longer than `idleMs`, so a millisecond past it), or null: when a simulated clock's catch-up
   * must stop for the reaper.
   */
  async nextIdleDue(idleMs: number): Promise<Date | null> {
    const { rows } = await this.pool.query<{ since: Date | null }>(
      "SELECT min(state_since) AS since FROM reaper.watched WHERE state = 'stopped' AND decided_at IS NULL",
    );
    const since = rows[0]?.since;
    return since ? new Date(since.getTime() + idleMs + 1) : null;
  }
}
