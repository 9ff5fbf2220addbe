import { type Db, mapConcurrent } from "@cloudsim/shared";
import { and, count, desc, eq, isNull, sql } from "drizzle-orm";
import type pg from "pg";
import { sweeps, watched } from "./schema.ts";

export interface Candidate {
  serverId: string;
  stateSince: Date;
  exempt: boolean;
}

export type Decision = "reaped" | "spared" | "error";

export interface SweepResult {
  startedAt: Date;
  finishedAt: Date;
  dryRun: boolean;
  candidates: number;
  reaped: number;
  spared: number;
  errors: number;
}

/** reaper's own tables, and nothing else. */
export class ReaperRepository {
  constructor(
    private readonly db: Db,
    private readonly pool: pg.Pool,
  ) {}

  /** The newest event about a server wins; a late or repeated one changes nothing. */
  async recordState(
    serverId: string,
    state: string,
    at: Date,
    exempt: boolean,
    tenantId: string,
  ): Promise<void> {
    await this.db
      .insert(watched)
      .values({ serverId, state, stateSince: at, exempt, tenantId })
      .onConflictDoUpdate({
        target: watched.serverId,
        // A new stop needs a new decision; any other state keeps the last one (for the counts).
        set: {
          state,
          stateSince: at,
          exempt,
          tenantId,
          decidedAt: state === "stopped" ? null : sql`${watched.decidedAt}`,
          outcome: state === "stopped" ? null : sql`${watched.outcome}`,
        },
        setWhere: sql`${watched.stateSince} < ${at.toISOString()}::timestamptz`,
      });
  }

  /**
   * One sweep, by one replica at a time (an advisory lock held for the sweep's transaction):
   * finds servers stopped for longer than `idleMs`, lets `decide` act on each, and records
   * the decisions and the sweep. Returns undefined when another replica is sweeping.
   */
  async sweep(
    opts: { idleMs: number; batch: number; dryRun: boolean; concurrency: number },
    decide: (candidate: Candidate) => Promise<Decision>,
  ): Promise<SweepResult | undefined> {
    const client = await this.pool.connect();
    try {
      await client.query("BEGIN");
      const lock = await client.query<{ locked: boolean }>(
        "SELECT pg_try_advisory_xact_lock(hashtext('reaper:sweep')) AS locked",
      );
      if (!lock.rows[0]?.locked) {
        await client.query("COMMIT");
        return undefined;
      }
      const startedAt = new Date();
      const { rows } = await client.query<{ server_id: string; state_since: Date; exempt: boolean }>(
        `SELECT server_id, state_since, exempt FROM reaper.watched
         WHERE state = 'stopped' AND decided_at IS NULL AND state_since < now() - make_interval(secs => $1)
         ORDER BY state_since LIMIT $2`,
        [opts.idleMs / 1000, opts.batch],
      );
      const decisions = await mapConcurrent(rows, opts.concurrency, async (r) => ({
        serverId: r.server_id,
        decision: await decide({ serverId: r.server_id, stateSince: r.state_since, exempt: r.exempt }),
      }));
      for (const outcome of opts.dryRun ? [] : (["reaped", "spared"] as const)) {
        const decided = decisions.filter((d) => d.decision === outcome).map((d) => d.serverId);
        if (decided.length === 0) continue;
        await client.query(
          "UPDATE reaper.watched SET decided_at = now(), outcome = $2 WHERE server_id = ANY($1)",
          [decided, outcome],
        );
      }
      const tally = (d: Decision) => decisions.filter((x) => x.decision === d).length;
      const result: SweepResult = {
        startedAt,
        finishedAt: new Date(),
        dryRun: opts.dryRun,
        candidates: rows.length,
        reaped: tally("reaped"),
        spared: tally("spared"),
        errors: tally("error"),
      };
      await client.query(
        `INSERT INTO reaper.sweeps (started_at, finished_at, dry_run, candidates, reaped, spared, errors)
         VALUES ($1, $2, $3, $4, $5, $6, $7)`,
        [
          result.startedAt,
          result.finishedAt,
          result.dryRun,
          result.candidates,
          result.reaped,
          result.spared,
          result.errors,
        ],
      );
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch(() => {});
      throw err;
    } finally {
      client.release();
    }
  }

  /** The last sweep; for one tenant, its times with that tenant's decisions in it. */
  async lastSweep(tenantId: string | null, idleMs: number) {
    const [row] = await this.db.select().from(sweeps).orderBy(desc(sweeps.id)).limit(1);
    if (!row || tenantId === null) return row;
    if (row.dryRun) {
      // A dry run decides nothing: what it would reap of this tenant is what is idle now.
      const [idle] = await this.db
        .select({
          reaped: sql<number>`count(*) FILTER (WHERE NOT ${watched.exempt})::int`,
          spared: sql<number>`count(*) FILTER (WHERE ${watched.exempt})::int`,
        })
        .from(watched)
        .where(
          and(
            eq(watched.tenantId, tenantId),
            eq(watched.state, "stopped"),
            isNull(watched.decidedAt),
            sql`${watched.stateSince} < now() - make_interval(secs => ${idleMs / 1000})`,
          ),
        );
      const reaped = idle?.reaped ?? 0;
      const spared = idle?.spared ?? 0;
      return { ...row, candidates: reaped + spared, reaped, spared, errors: 0 };
    }
    const [mine] = await this.db
      .select({
        reaped: sql<number>`count(*) FILTER (WHERE ${watched.outcome} = 'reaped')::int`,
        spared: sql<number>`count(*) FILTER (WHERE ${watched.outcome} = 'spared')::int`,
      })
      .from(watched)
      .where(
        and(
          eq(watched.tenantId, tenantId),
          sql`${watched.decidedAt} BETWEEN ${row.startedAt} AND ${row.finishedAt}`,
        ),
      );
    const reaped = mine?.reaped ?? 0;
    const spared = mine?.spared ?? 0;
    return { ...row, candidates: reaped + spared, reaped, spared, errors: 0 };
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
        idle: sql<number>`count(*) FILTER (WHERE ${watched.stateSince} < now() - make_interval(secs => ${idleMs / 1000}))::int`,
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
}
