import type { Db } from "@cloudsim/shared";
import { and, desc, eq, ne, type SQL, sql } from "drizzle-orm";
import type { ServerRow } from "../domain/server-view.ts";
import { idempotencyKeys, serverEvents, servers, tenants } from "./schema.ts";
import { fromReturned, ofTenant, type ReturnedServer, returnedServer } from "./server-rows.ts";

export interface ServerFilter {
  /** Only this tenant's servers (null: every tenant's). */
  tenant_id: string | null;
  region?: string | undefined;
  type?: string | undefined;
  state?: string | undefined;
  /** `key:value`; every one must match. */
  tag?: string[] | undefined;
}

const quotaColumns = {
  maxServers: tenants.maxServers,
  maxVcpus: tenants.maxVcpus,
  serversInUse: tenants.serversInUse,
  vcpusInUse: tenants.vcpusInUse,
};

/**
 * What a provision needs before it takes an address, in one round trip: the tenant's quota
 * and usage, and what an Idempotency-Key (stored as <tenant id>:<key>) already created.
 * Make one reader per Db: its query is built once (Postgres prepares it once per connection).
 */
export function provisionContextReader(db: Db) {
  const query = db
    .select({
      ...quotaColumns,
      previous: { requestHash: idempotencyKeys.requestHash, serverId: idempotencyKeys.serverId },
    })
    .from(tenants)
    .leftJoin(idempotencyKeys, eq(idempotencyKeys.key, sql.placeholder("key")))
    .where(eq(tenants.id, sql.placeholder("tenantId")))
    .prepare("lifecycle_provision_context");
  return async (tenantId: string, key: string | undefined) => {
    const [row] = await query.execute({ tenantId, key: key ?? "" });
    return { tenant: row, previous: row?.previous?.serverId ? row.previous : undefined };
  };
}
export type ProvisionContextReader = ReturnType<typeof provisionContextReader>;

/** Servers that are neither terminated nor in error in an availability zone. */
export async function liveInZone(db: Db, zone: string): Promise<number> {
  const [row] = (
    await db.execute<{ n: number }>(
      sql`SELECT count(*)::int AS n FROM lifecycle.servers
          WHERE availability_zone = ${zone} AND state NOT IN ('terminated', 'error')`,
    )
  ).rows;
  return row?.n ?? 0;
}

/** The server (by its id or its instance id), when it belongs to `tenantId` (null: any tenant). */
export async function getServer(db: Db, id: string, tenantId: string | null): Promise<ServerRow | undefined> {
  // Every GET runs this: a plain template, not drizzle's condition builders.
  const key = id.startsWith("i-") ? sql`instance_id = ${id}` : sql`id = ${id}`;
  const [row] = (
    await db.execute<ReturnedServer>(
      tenantId === null
        ? sql`SELECT ${returnedServer} FROM lifecycle.servers WHERE ${key}`
        : sql`SELECT ${returnedServer} FROM lifecycle.servers WHERE ${key} AND tenant_id = ${tenantId}`,
    )
  ).rows;
  return row && fromReturned(row);
}

/** Newest first; `beforeId` is the last id of the previous page. Terminated servers only when asked for. */
export async function listServers(
  db: Db,
  filter: ServerFilter,
  beforeId: string | undefined,
  limit: number,
): Promise<ServerRow[]> {
  const where: SQL[] = [...ofTenant(filter.tenant_id)];
  if (filter.region) where.push(eq(servers.region, filter.region));
  if (filter.type) where.push(eq(servers.type, filter.type));
  where.push(filter.state ? eq(servers.state, filter.state) : ne(servers.state, "terminated"));
  for (const tag of filter.tag ?? []) {
    const at = tag.indexOf(":");
    where.push(sql`${servers.tags} @> ${JSON.stringify({ [tag.slice(0, at)]: tag.slice(at + 1) })}::jsonb`);
  }
  if (beforeId) where.push(sql`${servers.id} < ${beforeId}`);
  // Raw rows, not drizzle's mapping: mapping each value of a page is costly (docs/performance.md).
  const rows = await db.execute<ReturnedServer>(sql`
    SELECT ${returnedServer} FROM lifecycle.servers WHERE ${and(...where)} ORDER BY id DESC LIMIT ${limit}`);
  return rows.rows.map(fromReturned);
}

/** Newest first; `beforeId` is the last id of the previous page. */
export async function listLog(db: Db, serverId: string, beforeId: number | undefined, limit: number) {
  const where = [eq(serverEvents.serverId, serverId)];
  if (beforeId !== undefined) where.push(sql`${serverEvents.id} < ${beforeId}`);
  return db
    .select()
    .from(serverEvents)
    .where(and(...where))
    .orderBy(desc(serverEvents.id))
    .limit(limit);
}
