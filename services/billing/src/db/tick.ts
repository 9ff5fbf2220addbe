import { type Clock, clockDate, type Db, timeSql } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { moneyFromDb } from "../domain/money.ts";
import { amountSql, msBetween, volumeAmountSql } from "./sql-arithmetic.ts";

export interface TickResult {
  accrued: number;
  billedMs: bigint;
  amount: bigint;
  open: number;
}

/**
 * The billing tick: accrues every open interval, and every volume being billed, up to the clock's
 * now, one ledger line each, once per `intervalMs` across replicas. The claim of the interval
 * (billing.ticks) is in the same statement, so a tick that fails leaves the interval to another
 * replica or the next tick. A clock that jumped ahead by days since the last tick gets one line
 * per server and volume for all of it.
 * `force` accrues even when this interval was claimed already (a simulated clock's catch-up).
 */
export async function accrueOpenIntervals(
  db: Db,
  clock: Clock,
  intervalMs: number,
  force = false,
): Promise<TickResult> {
  const now = clockDate(clock);
  const result = await db.execute<{
    accrued: number;
    billed_ms: string;
    amount: string;
    open: number;
  }>(sql`
    WITH now_ AS (
      SELECT t, date_bin(${intervalMs} * interval '1 millisecond', t, timestamptz 'epoch') AS interval_start
      FROM (SELECT ${timeSql(now)} AS t) n
    ),
    -- SKIP LOCKED: a replica does not wait for another's tick, it leaves the interval to it.
    free AS (
      SELECT k.id FROM billing.ticks k
      WHERE k.interval_start < (SELECT interval_start FROM now_)
      FOR UPDATE SKIP LOCKED
    ),
    tick AS (
      UPDATE billing.ticks k SET interval_start = (SELECT interval_start FROM now_)
      WHERE k.id IN (SELECT id FROM free)
      RETURNING k.id
    ),
    -- Rows an event holds are skipped: the next tick catches them up.
    claimed AS (
      SELECT s.server_id, s.rate, s.open_since, s.accrued_until FROM billing.servers s
      WHERE (EXISTS (SELECT FROM tick) OR ${force}) AND s.open_since IS NOT NULL AND s.accrued_until < (SELECT t FROM now_)
      FOR UPDATE SKIP LOCKED
    ),
    moved AS (
      SELECT c.server_id, c.rate, n.t AS at,
             ${msBetween(sql`c.accrued_until`, sql`n.t`)}::bigint AS billed_ms,
             ${amountSql(sql`c.rate`, msBetween(sql`c.open_since`, sql`n.t`))}
               - ${amountSql(sql`c.rate`, msBetween(sql`c.open_since`, sql`c.accrued_until`))} AS amount
      FROM claimed c CROSS JOIN now_ n
    ),
    updated AS (
      UPDATE billing.servers s
      SET accrued_until = m.at, billed_ms = s.billed_ms + m.billed_ms, amount = s.amount + m.amount, updated_at = m.at
      FROM moved m WHERE s.server_id = m.server_id
      RETURNING m.server_id, m.at, m.billed_ms, m.amount, m.rate
    ),
    -- Volumes billed now (created, not yet deleting), claimed as the servers are.
    claimed_volumes AS (
      SELECT v.volume_id, v.rate, v.size_gb, v.open_since, v.accrued_until FROM billing.volumes v
      WHERE (EXISTS (SELECT FROM tick) OR ${force}) AND v.open_since IS NOT NULL AND v.closed_at IS NULL
        AND v.accrued_until < (SELECT t FROM now_)
      FOR UPDATE SKIP LOCKED
    ),
    moved_volumes AS (
      SELECT c.volume_id, c.rate, n.t AS at,
             ${msBetween(sql`c.accrued_until`, sql`n.t`)}::bigint AS billed_ms,
             ${volumeAmountSql(sql`c.rate`, sql`c.size_gb`, msBetween(sql`c.open_since`, sql`n.t`))}
               - ${volumeAmountSql(sql`c.rate`, sql`c.size_gb`, msBetween(sql`c.open_since`, sql`c.accrued_until`))} AS amount
      FROM claimed_volumes c CROSS JOIN now_ n
    ),
    updated_volumes AS (
      UPDATE billing.volumes v
      SET accrued_until = m.at, billed_ms = v.billed_ms + m.billed_ms, amount = v.amount + m.amount, updated_at = m.at
      FROM moved_volumes m WHERE v.volume_id = m.volume_id
      RETURNING m.volume_id, m.at, m.billed_ms, m.amount, m.rate
    ),
    lines AS (
      INSERT INTO billing.ledger (server_id, volume_id, at, kind, billed_ms, amount, rate, recorded_at)
      SELECT server_id, NULL, at, 'accrual', billed_ms, amount, rate, at FROM updated
      UNION ALL
      SELECT NULL, volume_id, at, 'accrual', billed_ms, amount, rate, at FROM updated_volumes
      RETURNING billed_ms, amount
    )
    SELECT count(*)::int AS accrued, coalesce(sum(billed_ms), 0)::text AS billed_ms,
           coalesce(sum(amount), 0)::text AS amount,
           (SELECT count(*)::int FROM billing.servers WHERE open_since IS NOT NULL) AS open
    FROM lines`);
  const row = result.rows[0];
  return {
    accrued: row?.accrued ?? 0,
    billedMs: BigInt(row?.billed_ms ?? 0),
    amount: moneyFromDb(row?.amount ?? "0"),
    open: row?.open ?? 0,
  };
}
