import {
  type Clock,
  clockDate,
  type Db,
  inTransaction,
  type Pool,
  type Region,
  timeSql,
} from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import type pg from "pg";
import { formatCidr, intToIp, usableRange } from "../domain/cidr.ts";
import type { PoolSpec } from "../domain/pools.ts";

/**
 * Rows a pool is created with; each extension then adds as many as it has (doubling), at most
 * MAX_CHUNK. Small first so a fresh start inserts a few thousand rows rather than every address;
 * doubling so a busy /16 extends ten times, not 63; capped because the allocation
 * that finds no free row waits for the insert (8192 rows: about 35 ms).
 */
export const FIRST_CHUNK = 1024;
export const MAX_CHUNK = 8192;

/**
 * Creates each configured pool with its first chunk of addresses (extendPool adds the rest when
 * needed). Changing the CIDR of a pool is allowed only while none of its addresses is in use;
 * replicas take turns on an advisory lock.
 */
export async function ensurePools(pool: pg.Pool, specs: PoolSpec[], clock: Clock): Promise<void> {
  const changed = await inTransaction(pool, async (client) => {
    await client.query("SELECT pg_advisory_xact_lock(hashtext('ipam:pools'))");
    let changed = false;
    const now = clockDate(clock);
    for (const spec of specs) changed = (await ensurePool(client, spec, now)) || changed;
    return changed;
  });
  // Fresh rows have no statistics yet; without them the planner scans every address per allocation.
  if (changed) await pool.query("ANALYZE ipam.addresses");
}

/**
 * Each pool's size, addresses in use and addresses in their reuse cooldown (on the clock); an
 * address without a row yet is free.
 */
export async function poolUsage(db: Db, cooldownMs: number, clock: Clock, region?: Region): Promise<Pool[]> {
  const now = clockDate(clock);
  const rows = await db.execute<{
    region: Region;
    cidr: string;
    size: number;
    used: number;
    cooling_down: number;
  }>(sql`
    SELECT p.region, p.cidr, p.size,
           count(a.server_id)::int AS used,
           count(*) FILTER (WHERE a.server_id IS NULL AND a.released_at IS NOT NULL
             AND a.released_at > ${timeSql(now)} - make_interval(secs => ${cooldownMs / 1000}))::int AS cooling_down
    FROM ipam.pools p LEFT JOIN ipam.addresses a ON a.region = p.region
    ${region ? sql`WHERE p.region = ${region}` : sql``}
    GROUP BY p.region ORDER BY p.region`);
  return rows.rows.map((r) => ({ ...r, free: r.size - r.used - r.cooling_down }));
}

async function ensurePool(client: pg.PoolClient, spec: PoolSpec, now: Date) {
  const cidr = formatCidr(spec.cidr);
  // The row's lock keeps a concurrent extendPool from adding old-range rows while it is replaced.
  const existing = await client.query<{ cidr: string }>(
    "SELECT cidr FROM ipam.pools WHERE region = $1 FOR UPDATE",
    [spec.region],
  );
  if (existing.rows[0]?.cidr === cidr) return;
  if (existing.rows[0]) {
    const used = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM ipam.addresses WHERE region = $1 AND server_id IS NOT NULL",
      [spec.region],
    );
    if ((used.rows[0]?.n ?? 0) > 0) {
      throw new Error(
        `IPAM_POOLS: ${spec.region} is ${existing.rows[0].cidr} with ${used.rows[0]?.n} addresses in use; it cannot become ${cidr} until they are released`,
      );
    }
    await client.query("DELETE FROM ipam.addresses WHERE region = $1", [spec.region]);
    await client.query("DELETE FROM ipam.pools WHERE region = $1", [spec.region]);
  }
  const range = usableRange(spec.cidr);
  const first = Math.min(range.size, FIRST_CHUNK);
  await client.query(
    "INSERT INTO ipam.pools (region, cidr, size, materialised, created_at) VALUES ($1, $2, $3, $4, $5::timestamptz)",
    [spec.region, cidr, range.size, first, now.toISOString()],
  );
  await client.query(
    `INSERT INTO ipam.addresses (region, address)
     SELECT $1, $2::inet + g FROM generate_series(0, $3::int - 1) AS g`,
    [spec.region, intToIp(range.first), first],
  );
  return true;
}

/**
 * The next chunk of `region`'s addresses, if the pool still has `seen` rows (what the claim
 * that found none free saw): of two callers that saw the same count, the second waits on the
 * pool's row, then finds the count moved and adds nothing. Returns how many rows it added.
 */
export async function extendPool(db: Db, region: Region, seen: number): Promise<number> {
  const added = await db.execute(sql`
    WITH grown AS (
      UPDATE ipam.pools
      SET materialised = LEAST(size, materialised + GREATEST(${FIRST_CHUNK}::int, LEAST(materialised, ${MAX_CHUNK}::int)))
      WHERE region = ${region} AND materialised = ${seen} AND materialised < size
      RETURNING region, cidr, materialised)
    INSERT INTO ipam.addresses (region, address)
    SELECT g.region, set_masklen(network(g.cidr::inet), 32) + 2 + n
    FROM grown g, generate_series(${seen}::int, g.materialised - 1) AS n`);
  return added.rowCount ?? 0;
}
