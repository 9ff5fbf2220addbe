import {
  type AddressReleased,
  AppError,
  addressReleasedSubject,
  type Clock,
  clockDate,
  type Db,
  isUniqueViolation,
  outboxInserter,
  type Pool,
  processBatchOnce,
  type Region,
  realClock,
  timeSql,
  uuidv7,
} from "@cloudsim/shared";
import { type Cidr, parseCidr } from "@cloudsim/shared/cidr";
import { and, eq, isNotNull, isNull, sql } from "drizzle-orm";
import { DEFAULT_PUBLIC_POOL, type PoolSpec } from "../domain/pools.ts";
import { type Executor, ensurePools, extendPool, type PoolUsage, poolUsage } from "./pools.ts";
import { addresses, outbox } from "./schema.ts";

const insertOutbox = outboxInserter(outbox);

/** What a claim took (null: no free row), and how many of the pool's `size` addresses had rows. */
type Claim = {
  address: string | null;
  materialised: number;
  size: number;
};

/** null for an allocation that found no free address; any other failure stands. */
function noneFree(err: unknown): null {
  if (err instanceof AppError && err.code === "EXHAUSTED") return null;
  throw err;
}

/** Why no address could be had from pool `poolId`, by the pool's counts (none: no such pool). */
function exhausted(poolId: string, pool: PoolUsage | undefined): AppError {
  if (!pool) return new AppError("NOT_FOUND", `no address pool ${poolId}`, { pool_id: poolId });
  const cooling =
    pool.cooling_down > 0 ? `; ${pool.cooling_down} released addresses are in their reuse cooldown` : "";
  const counts = { cidr: pool.cidr, size: pool.size, used: pool.used, cooling_down: pool.cooling_down };
  if (pool.kind === "subnet")
    return new AppError(
      "EXHAUSTED",
      `There are not enough free addresses in subnet '${poolId}' to satisfy the requested number of instances.`,
      { reason: "addresses", subnet_id: poolId, ...counts },
    );
  if (pool.kind === "public")
    return new AppError(
      "EXHAUSTED",
      `The maximum number of addresses has been reached: the public pool ${pool.cidr} has ${pool.size} addresses, ${pool.used} allocated${cooling}.`,
      { reason: "address_limit", ...counts },
    );
  return new AppError(
    "EXHAUSTED",
    `no free address in ${poolId}: pool ${pool.cidr} has ${pool.size} addresses, ${pool.used} in use${cooling}`,
    { region: poolId, ...counts },
  );
}

/**
 * ipam's own tables, and nothing else. Allocation, release and confirmation times, and so reuse
 * cooldowns and reservation ages, are on the clock (the runtime's in the service).
 */
export class IpamRepository {
  constructor(
    private readonly db: Db,
    private readonly cooldownMs: number,
    private readonly clock: Clock = realClock,
  ) {}

  /** See pools.ts: each configured pool, and the public one, with its first chunk of addresses. */
  ensurePools(specs: PoolSpec[], publicCidr: Cidr = parseCidr(DEFAULT_PUBLIC_POOL)): Promise<void> {
    return ensurePools(this.db, specs, publicCidr, this.clock);
  }

  async addressOf(serverId: string): Promise<string | undefined> {
    const rows = await this.db
      .select({ address: sql<string>`host(${addresses.address})` })
      .from(addresses)
      .where(eq(addresses.serverId, serverId));
    return rows[0]?.address;
  }

  /**
   * From pool `poolId` (a region's, a subnet's or the public one): the same server (or holder)
   * always gets the same address; otherwise a free one past its cooldown.
   */
  async allocate(serverId: string, poolId: string): Promise<string> {
    for (let attempt = 1; ; ) {
      // Claim first: a new server (nearly every call) costs one statement. A server that holds an
      // address already trips the unique index on server_id and gets that address back.
      let claim: Claim | undefined;
      try {
        claim = await this.claimOne(poolId, serverId);
        if (claim?.address) return claim.address;
      } catch (err) {
        if (!isUniqueViolation(err, "addresses_server_id_key")) throw err;
      }
      const existing = await this.addressOf(serverId);
      if (existing) return existing;
      // No free row, but addresses without one yet: their next chunk, and claim again. Each
      // time round the pool has more rows (ours or another's), so this ends.
      if (claim && claim.materialised < claim.size) {
        await extendPool(this.db, poolId, claim.materialised);
        continue;
      }
      const [pool] = await this.usageOf(poolId);
      // An address that came free (its cooldown ended) after the claim looked: claim again, so
      // EXHAUSTED always agrees with the counts it names.
      if (!pool || pool.free === 0 || attempt++ === 3) throw exhausted(poolId, pool);
    }
  }

  /**
   * Addresses for many servers, one statement per pool; null for a server none was free for.
   * When one of them holds an address already (a retry), each is allocated on its own instead.
   */
  async allocateMany(
    wanted: readonly { server_id: string; pool_id: string }[],
  ): Promise<{ server_id: string; address: string | null }[]> {
    const pools = new Map<string, string[]>();
    for (const { server_id, pool_id } of wanted) {
      const ids = pools.get(pool_id) ?? [];
      ids.push(server_id);
      pools.set(pool_id, ids);
    }
    const addresses = new Map<string, string | null>();
    try {
      for (const [poolId, serverIds] of pools)
        for (const { serverId, address } of await this.claimMany(poolId, serverIds))
          addresses.set(serverId, address);
    } catch (err) {
      if (!isUniqueViolation(err, "addresses_server_id_key")) throw err;
      for (const { server_id, pool_id } of wanted)
        addresses.set(server_id.toLowerCase(), await this.allocate(server_id, pool_id).catch(noneFree));
    }
    return wanted.map(({ server_id }) => ({
      server_id,
      address: addresses.get(server_id.toLowerCase()) ?? null,
    }));
  }

  /**
   * Free addresses (past their cooldown) of pool `poolId` are claimed from a random point of the
   * pool's rows onwards, wrapping round: concurrent claims start apart instead of queueing for
   * the same lowest rows, and no scan walks every address taken.
   */
  private freeIn(poolId: string, now: Date) {
    return sql`pool_id = ${poolId} AND server_id IS NULL
      AND (released_at IS NULL OR released_at <= ${timeSql(now)} - make_interval(secs => ${this.cooldownMs / 1000}))`;
  }

  /**
   * Over the rows that exist (the first `materialised`), not the whole pool: else most starts
   * would be past them all. A /32, as the rows are: inet orders a shorter mask first, so a /16
   * start compared below every address and each claim took the lowest free row.
   */
  private randomStart(poolId: string) {
    return sql`SELECT set_masklen(network(cidr::inet), 32) + first_offset + floor(random() * materialised)::bigint AS start,
      materialised, size FROM ipam.pools WHERE id = ${poolId}`;
  }

  /**
   * An address for one server, when one is free: half the cost of claimMany's statement for one.
   * With the pool's row count the claim saw, for extendPool when none was free (none: no pool).
   */
  private async claimOne(poolId: string, serverId: string): Promise<Claim | undefined> {
    const now = clockDate(this.clock);
    const free = this.freeIn(poolId, now);
    const claimed = await this.db.execute<Claim>(sql`
      WITH p AS (${this.randomStart(poolId)}),
      candidate AS (SELECT COALESCE(
        (SELECT address FROM ipam.addresses WHERE ${free} AND address >= (SELECT start FROM p)
         ORDER BY address LIMIT 1 FOR UPDATE SKIP LOCKED),
        (SELECT address FROM ipam.addresses WHERE ${free} AND address < (SELECT start FROM p)
         ORDER BY address LIMIT 1 FOR UPDATE SKIP LOCKED)) AS address),
      claimed AS (
        UPDATE ipam.addresses AS a
        SET server_id = ${serverId}, allocated_at = ${timeSql(now)}, released_at = NULL, confirmed_at = NULL
        FROM candidate c WHERE a.pool_id = ${poolId} AND a.address = c.address
        RETURNING host(a.address) AS address)
      SELECT (SELECT address FROM claimed) AS address, materialised, size FROM p`);
    return claimed.rows[0];
  }

  /**
   * An address for each of `serverIds`, as far as there are free ones, in one statement; when
   * the pool's rows run out first, its next chunk and a claim for the rest.
   */
  private async claimMany(poolId: string, serverIds: readonly string[]) {
    const claimed: { serverId: string; address: string }[] = [];
    let wanted = serverIds;
    for (;;) {
      const rows = await this.claimManyOnce(poolId, wanted);
      const pool = rows[0];
      const got = rows.flatMap(({ serverId, address }) =>
        serverId && address ? [{ serverId, address }] : [],
      );
      claimed.push(...got);
      if (!pool || got.length === wanted.length || pool.materialised >= pool.size) return claimed;
      const ids = new Set(got.map((c) => c.serverId)); // lower case, as Postgres returns them
      wanted = wanted.filter((id) => !ids.has(id.toLowerCase()));
      await extendPool(this.db, poolId, pool.materialised);
    }
  }

  /** One row per claimed address, or one without any when none was free; none when there is no pool. */
  private async claimManyOnce(poolId: string, serverIds: readonly string[]) {
    const now = clockDate(this.clock);
    const free = this.freeIn(poolId, now);
    const wanted = serverIds.length;
    const claimed = await this.db.execute<{
      serverId: string | null;
      address: string | null;
      materialised: number;
      size: number;
    }>(sql`
      WITH p AS (${this.randomStart(poolId)}),
      above AS (SELECT address FROM ipam.addresses WHERE ${free} AND address >= (SELECT start FROM p)
                ORDER BY address LIMIT ${wanted} FOR UPDATE SKIP LOCKED),
      below AS (SELECT address FROM ipam.addresses WHERE ${free} AND address < (SELECT start FROM p)
                ORDER BY address LIMIT ${wanted} - (SELECT count(*) FROM above) FOR UPDATE SKIP LOCKED),
      taken AS (SELECT address, row_number() OVER (ORDER BY address) AS n
                FROM (SELECT address FROM above UNION ALL SELECT address FROM below) AS t),
      servers AS (SELECT id, n FROM unnest(${sql.param(serverIds)}::uuid[]) WITH ORDINALITY AS s(id, n)),
      claimed AS (
        UPDATE ipam.addresses AS a
        SET server_id = servers.id, allocated_at = ${timeSql(now)}, released_at = NULL, confirmed_at = NULL
        FROM taken JOIN servers USING (n) WHERE a.pool_id = ${poolId} AND a.address = taken.address
        RETURNING a.server_id::text AS "serverId", host(a.address) AS address)
      SELECT c."serverId", c.address, p.materialised, p.size FROM p LEFT JOIN claimed c ON true`);
    return claimed.rows;
  }

  /** Takes back the addresses of these servers; returns what each of them held. */
  async release(
    serverIds: readonly string[],
    db: Executor = this.db,
    now: Date = clockDate(this.clock),
  ): Promise<{ serverId: string; address: string; region: Region }[]> {
    if (serverIds.length === 0) return [];
    const released = await db.execute<{ serverId: string; address: string; region: Region }>(sql`
      UPDATE ipam.addresses AS a
      SET server_id = NULL, allocated_at = NULL, confirmed_at = NULL, released_at = ${timeSql(now)}
      FROM unnest(${sql.param(serverIds)}::uuid[]) AS s(id), ipam.pools p
      WHERE a.server_id = s.id AND p.id = a.pool_id
      RETURNING s.id AS "serverId", host(a.address) AS address, coalesce(p.region, '') AS region`);
    return released.rows;
  }

  /** The servers are known to exist: their addresses are no longer reservations. */
  async confirm(serverIds: readonly string[]): Promise<void> {
    if (serverIds.length === 0) return;
    await this.db.execute(sql`
      UPDATE ipam.addresses SET confirmed_at = ${timeSql(clockDate(this.clock))}
      WHERE server_id = ANY(${sql.param(serverIds)}::uuid[]) AND confirmed_at IS NULL`);
  }

  /**
   * Servers holding an address for longer than `olderThanMs` of the clock without any event
   * showing they exist.
   */
  async unconfirmedSince(olderThanMs: number, limit: number): Promise<string[]> {
    const now = clockDate(this.clock);
    const rows = await this.db
      .select({ serverId: addresses.serverId })
      .from(addresses)
      .where(
        and(
          isNotNull(addresses.serverId),
          isNull(addresses.confirmedAt),
          sql`${addresses.allocatedAt} < ${timeSql(now)} - make_interval(secs => ${olderThanMs / 1000})`,
        ),
      )
      .limit(limit);
    return rows.map((r) => r.serverId as string);
  }

  /**
   * Releases the addresses of servers that ended (terminated or error), once per event, and
   * announces each with an event written in the same transaction: one transaction per batch.
   */
  async releaseForEvents(
    events: readonly { id: string; serverId: string; requestId: string | null }[],
  ): Promise<void> {
    await processBatchOnce(
      this.db,
      "ipam",
      events.map((e) => e.id),
      async (tx, fresh) => {
        // A server's first ended event releases its address; a later one finds none, as one by one.
        const firstOfServer = new Map<string, { requestId: string | null }>();
        for (const e of events) {
          const serverId = e.serverId.toLowerCase(); // as Postgres returns it
          if (fresh.has(e.id) && !firstOfServer.has(serverId)) firstOfServer.set(serverId, e);
        }
        // Released and announced at one reading of the clock.
        const now = clockDate(this.clock);
        const released = await this.release([...firstOfServer.keys()], tx, now);
        if (released.length === 0) return;
        await tx.execute(
          insertOutbox(
            released.map(({ serverId, address, region }) => {
              const requestId = firstOfServer.get(serverId)?.requestId ?? null;
              const event: AddressReleased = {
                id: uuidv7(),
                type: "ipam.released",
                occurred_at: now.toISOString(),
                server_id: serverId,
                request_id: requestId,
                address,
                region,
              };
              return { subject: addressReleasedSubject, orderingKey: serverId, payload: event, requestId };
            }),
          ),
        );
      },
    );
  }

  /** The regions' pools, as ipam.pools answers them. */
  async usage(): Promise<Pool[]> {
    const pools = await poolUsage(this.db, this.cooldownMs, this.clock, { kind: "region" });
    return pools.map(({ id, kind, ...pool }) => ({ ...pool, region: pool.region as Region }));
  }

  usageOf(poolId: string): Promise<PoolUsage[]> {
    return poolUsage(this.db, this.cooldownMs, this.clock, { id: poolId });
  }
}
