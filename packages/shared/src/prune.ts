import type pg from "pg";
import { type Clock, realClock } from "./clock.ts";
import type { Logger } from "./logger.ts";
import { Counter, type Registry } from "./metrics.ts";
import { startLoop } from "./poll-loop.ts";

/**
 * Rows of a table kept for a retention and then deleted. `expired` is an SQL condition on the
 * table's rows as `t`, with `$1` the cutoff (the clock's now minus the retention).
 */
export interface Retention {
  table: string;
  expired: string;
  retentionMs: number;
  /**
   * The clock the retention runs on: the service's (runtime.clock) for rows of simulated things
   * (Idempotency-Keys, ClientTokens), the real one (the default) for what follows real time.
   */
  clock?: Clock;
}

/**
 * processed_events rows outlive every redelivery: see PROCESSED_EVENTS_RETENTION. On the real
 * clock, as the EVENTS stream's max_age it follows is.
 */
export const processedEventsRetention = (schema: string, retentionMs: number): Retention => ({
  table: `${schema}.processed_events`,
  expired: "t.processed_at < $1",
  retentionMs,
});

/** Deletes at most `batch` expired rows of one table; how many it deleted. */
async function pruneBatch(pool: pg.Pool, retention: Retention, batch: number): Promise<number> {
  // By ctid, a batch at a time: short statements and short locks however much has expired.
  const result = await pool.query(
    `DELETE FROM ${retention.table} WHERE ctid IN (
       SELECT t.ctid FROM ${retention.table} t WHERE ${retention.expired} LIMIT $2)`,
    [new Date((retention.clock ?? realClock).now() - retention.retentionMs), batch],
  );
  return result.rowCount ?? 0;
}

/**
 * Every `intervalMs`, deletes the expired rows of each table, `batch` at a time (at once again
 * while a table had a full batch), and counts them in cloudsim_pruned_rows_total.
 */
export function startPruner(
  pool: pg.Pool,
  retentions: readonly Retention[],
  opts: { intervalMs: number; batch: number; registry: Registry; log: Logger },
) {
  const pruned = new Counter({
    name: "cloudsim_pruned_rows_total",
    help: "Rows deleted past their retention, by table",
    labelNames: ["table"],
    registers: [opts.registry],
  });
  for (const { table } of retentions) pruned.inc({ table }, 0);
  return startLoop(
    "pruner",
    async () => {
      let fullest = 0;
      for (const retention of retentions) {
        const count = await pruneBatch(pool, retention, opts.batch);
        pruned.inc({ table: retention.table }, count);
        fullest = Math.max(fullest, count);
      }
      return fullest;
    },
    opts,
  );
}
