import { type Clock, clockDate, type Db, type Region, timeSql } from "@cloudsim/shared";
import { type Cidr, formatCidr, intToIp, usableRange } from "@cloudsim/shared/cidr";
import { sql } from "drizzle-orm";
import type { PoolSpec } from "../domain/pools.ts";

/** A pool to create: its id, what it is, its region (none: the public pool) and range. */
export interface NewPool {
  id: string;
  kind: "region" | "subnet" | "public";
  region: Region | null;
  cidr: Cidr;
  /** The first usable address's offset from the network address (a subnet's is 4). */
  firstOffset: number;
}

/** A pool's counts: size, addresses in use, addresses in their reuse cooldown, and free ones. */
export interface PoolUsage {
  id: string;
  kind: NewPool["kind"];
  region: Region | null;
  cidr: string;
  size: number;
  used: number;
  cooling_down: number;
  free: number;
}

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
export async function ensurePools(db: Db, specs: PoolSpec[], publicCidr: Cidr, clock: Clock): Promise<void> {
  const wanted: NewPool[] = [
    ...specs.map(({ region, cidr }) => ({
      id: region,
      kind: "region" as const,
      region,
      cidr,
      firstOffset: 2,
    })),
    { id: PUBLIC_POOL, kind: "public", region: null, cidr: publicCidr, firstOffset: 2 },
  ];
  const changed = await db.transaction(async (tx) => {
    await tx.execute(sql`SELECT pg_advisory_xact_lock(hashtext('ipam:pools'))`);
    let changed = false;
    const now = clockDate(clock);
    for (const spec of wanted) changed = (await ensurePool(tx, spec, now)) || changed;
    return changed;
  });
  // Fresh rows have no statistics yet; without them the planner scans every address per allocation.
  if (changed) await db.execute(sql`ANALYZE ipam.addresses`);
}

/** The id of the pool Elastic IPs come from (IPAM_PUBLIC_POOL), shared by every region. */
export const PUBLIC_POOL = "public";

/**
 * Pools' size, addresses in use and addresses in their reuse cooldown (on the clock); an
 * address without a row yet is free. Of one kind, or the one pool `id`.
 */
export async function poolUsage(
  db: Db,
  cooldownMs: number,
  clock: Clock,
  which: { kind: NewPool["kind"] } | { id: string },
): Promise<PoolUsage[]> {
  const now = clockDate(clock);
  const rows = await db.execute<Omit<PoolUsage, "free">>(sql`
    SELECT p.id, p.kind, p.region, p.cidr, p.size,
           count(a.server_id)::int AS used,
           count(*) FILTER (WHERE a.server_id IS NULL AND a.released_at IS NOT NULL
             AND a.released_at > ${timeSql(now)} - make_interval(secs => ${cooldownMs / 1000}))::int AS cooling_down
    FROM ipam.pools p LEFT JOIN ipam.addresses a ON a.pool_id = p.id
    WHERE ${"id" in which ? sql`p.id = ${which.id}` : sql`p.kind = ${which.kind}`}
    GROUP BY p.id ORDER BY p.id`);
  return rows.rows.map((r) => ({ ...r, free: r.size - r.used - r.cooling_down }));
}

async function ensurePool(tx: Executor, spec: NewPool, now: Date) {
  const cidr = formatCidr(spec.cidr);
  // The row's lock keeps a concurrent extendPool from adding old-range rows while it is replaced.
  const existing = await tx.execute<{ cidr: string }>(
    sql`SELECT cidr FROM ipam.pools WHERE id = ${spec.id} FOR UPDATE`,
  );
  if (existing.rows[0]?.cidr === cidr) return;
  if (existing.rows[0]) {
    const used = await tx.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM ipam.addresses WHERE pool_id = ${spec.id} AND server_id IS NOT NULL`,
    );
    if ((used.rows[0]?.n ?? 0) > 0) {
      const variable = spec.kind === "public" ? "IPAM_PUBLIC_POOL" : `IPAM_POOLS: ${spec.id}`;
      throw new Error(
        `${variable} is ${existing.rows[0].cidr} with ${used.rows[0]?.n} addresses in use; it cannot become ${cidr} until they are released`,
      );
    }
    await tx.execute(sql`DELETE FROM ipam.addresses WHERE pool_id = ${spec.id}`);
    await tx.execute(sql`DELETE FROM ipam.pools WHERE id = ${spec.id}`);
  }
  await createPool(tx, spec, now);
  return true;
}

/** A database or a transaction: what runs a statement. */
export type Executor = Pick<Db, "execute">;

/** A new pool with its first chunk of addresses (extendPool adds the rest when needed). */
export async function createPool(tx: Executor, spec: NewPool, now: Date): Promise<void> {
  const range = usableRange(spec.cidr, spec.firstOffset);
  const first = Math.min(range.size, FIRST_CHUNK);
  await tx.execute(sql`
    INSERT INTO ipam.pools (id, kind, region, cidr, size, first_offset, materialised, created_at)
    VALUES (${spec.id}, ${spec.kind}, ${spec.region}, ${formatCidr(spec.cidr)}, ${range.size},
            ${spec.firstOffset}, ${first}, ${timeSql(now)})`);
  await tx.execute(sql`
    INSERT INTO ipam.addresses (pool_id, address)
    SELECT ${spec.id}, ${intToIp(range.first)}::inet + g FROM generate_series(0, ${first}::int - 1) AS g`);
}

/**
 * The next chunk of pool `poolId`'s addresses, if the pool still has `seen` rows (what the claim
 * that found none free saw): of two callers that saw the same count, the second waits on the
 * pool's row, then finds the count moved and adds nothing. Returns how many rows it added.
 */
export async function extendPool(db: Db, poolId: string, seen: number): Promise<number> {
  const added = await db.execute(sql`
    WITH grown AS (
      UPDATE ipam.pools
      SET materialised = LEAST(size, materialised + GREATEST(${FIRST_CHUNK}::int, LEAST(materialised, ${MAX_CHUNK}::int)))
      WHERE id = ${poolId} AND materialised = ${seen} AND materialised < size
      RETURNING id, cidr, first_offset, materialised)
    INSERT INTO ipam.addresses (pool_id, address)
    SELECT g.id, set_masklen(network(g.cidr::inet), 32) + g.first_offset + n
    FROM grown g, generate_series(${seen}::int, g.materialised - 1) AS n`);
  return added.rowCount ?? 0;
}
