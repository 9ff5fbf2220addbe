import {
  AppError,
  type Clock,
  clockDate,
  type Db,
  DEFAULT_TENANT,
  type InstanceTypeName,
  instanceTypes,
  type Tenant,
  uuidv7,
} from "@cloudsim/shared";
import { and, asc, eq, isNull, sql } from "drizzle-orm";
import { apiKeys, servers, tenants } from "../db/schema.ts";
import type { QuotaDefaults } from "../domain/quota.ts";

type TenantRow = typeof tenants.$inferSelect;

/** Ids this table can hold (uuidv7 or `default`); anything else is simply not there. */
const plausibleId = (id: string) => /^[A-Za-z0-9_-]{1,64}$/.test(id);

const noTenant = (id: string) => new AppError("NOT_FOUND", `tenant ${id} does not exist`, { tenant_id: id });

/**
 * Tenants and their API keys (lifecycle's schema: quotas are checked where servers are stored).
 * Their created_at and revoked_at are `clock`'s time.
 */
export class TenantRepository {
  constructor(
    private readonly db: Db,
    private readonly defaults: QuotaDefaults,
    private readonly clock: Clock,
  ) {}

  private view(row: TenantRow): Tenant {
    return {
      id: row.id,
      name: row.name,
      max_servers: row.maxServers ?? this.defaults.maxServers,
      max_vcpus: row.maxVcpus ?? this.defaults.maxVcpus,
      created_at: row.createdAt.toISOString(),
    };
  }

  /** The tenant and key of a key hash that is not revoked. */
  async authenticate(keyHash: string) {
    const [row] = await this.db
      .select({ tenant_id: apiKeys.tenantId, key_id: apiKeys.id })
      .from(apiKeys)
      .where(and(eq(apiKeys.keyHash, keyHash), isNull(apiKeys.revokedAt)));
    if (!row) throw new AppError("UNAUTHORIZED", "unknown or revoked API key");
    return row;
  }

  async create(name: string): Promise<Tenant> {
    const [row] = await this.db
      .insert(tenants)
      .values({ id: uuidv7(), name, createdAt: clockDate(this.clock) })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return this.view(row);
  }

  /** Up to `limit` tenants, oldest first, after tenant `after` (the caller asks one more to see if a page follows). */
  async list(limit: number, after?: string): Promise<Tenant[]> {
    const rows = await this.db
      .select()
      .from(tenants)
      .where(
        after === undefined
          ? undefined
          : sql`(${tenants.createdAt}, ${tenants.id}) > (SELECT created_at, id FROM lifecycle.tenants WHERE id = ${after})`,
      )
      .orderBy(asc(tenants.createdAt), asc(tenants.id))
      .limit(limit);
    return rows.map((r) => this.view(r));
  }

  async update(
    id: string,
    limits: { max_servers?: number | null | undefined; max_vcpus?: number | null | undefined },
  ): Promise<Tenant> {
    if (!plausibleId(id)) throw noTenant(id);
    const set: Partial<TenantRow> = {};
    if (limits.max_servers !== undefined) set.maxServers = limits.max_servers;
    if (limits.max_vcpus !== undefined) set.maxVcpus = limits.max_vcpus;
    const [row] =
      Object.keys(set).length > 0
        ? await this.db.update(tenants).set(set).where(eq(tenants.id, id)).returning()
        : await this.db.select().from(tenants).where(eq(tenants.id, id));
    if (!row) throw noTenant(id);
    return this.view(row);
  }

  /**
   * The tenant's limits and usage: its servers and vCPUs as the quota counts them, and the memory
   * of the servers whose vCPUs count (lifecycle.vcpus_counted, the quota's own rule).
   */
  async usage(id: string) {
    if (!plausibleId(id)) throw noTenant(id);
    const [row] = await this.db.select().from(tenants).where(eq(tenants.id, id));
    if (!row) throw noTenant(id);
    const counted = await this.db
      .select({ type: servers.type, n: sql<number>`count(*)::int` })
      .from(servers)
      .where(and(eq(servers.tenantId, id), sql`lifecycle.vcpus_counted(${servers.state}, 1) > 0`))
      .groupBy(servers.type);
    const memory = counted.reduce(
      (sum, { type, n }) => sum + n * (instanceTypes[type as InstanceTypeName]?.memory_mib ?? 0),
      0,
    );
    return {
      tenant: this.view(row),
      servers_in_use: row.serversInUse,
      vcpus_in_use: row.vcpusInUse,
      memory_mib_in_use: memory,
    };
  }

  async createKey(tenantId: string, keyHash: string, awsSecret: string | undefined) {
    if (!plausibleId(tenantId)) throw noTenant(tenantId);
    const [tenant] = await this.db.select({ id: tenants.id }).from(tenants).where(eq(tenants.id, tenantId));
    if (!tenant) throw noTenant(tenantId);
    const [row] = await this.db
      .insert(apiKeys)
      .values({ id: uuidv7(), tenantId, keyHash, awsSecret, createdAt: clockDate(this.clock) })
      .returning();
    if (!row) throw new Error("insert returned no row");
    return { id: row.id, tenant_id: row.tenantId, created_at: row.createdAt.toISOString() };
  }

  /** A key's tenant and sealed AWS secret (null for keys made before the EC2 face); UNAUTHORIZED when none or revoked. */
  async awsCredentials(keyId: string) {
    const [row] = plausibleId(keyId)
      ? await this.db
          .select({ tenant_id: apiKeys.tenantId, key_id: apiKeys.id, sealed_secret: apiKeys.awsSecret })
          .from(apiKeys)
          .where(and(eq(apiKeys.id, keyId), isNull(apiKeys.revokedAt)))
      : [];
    if (!row) throw new AppError("UNAUTHORIZED", "unknown or revoked access key");
    return row;
  }

  /** Revokes a key (idempotent); returns its hash for the gateways' caches. */
  async revokeKey(id: string) {
    if (!plausibleId(id)) throw new AppError("NOT_FOUND", `API key ${id} does not exist`, { key_id: id });
    const [row] = await this.db
      .update(apiKeys)
      .set({ revokedAt: sql`coalesce(${apiKeys.revokedAt}, ${clockDate(this.clock)}::timestamptz)` })
      .where(eq(apiKeys.id, id))
      .returning({ id: apiKeys.id, tenant_id: apiKeys.tenantId, keyHash: apiKeys.keyHash });
    if (!row) throw new AppError("NOT_FOUND", `API key ${id} does not exist`, { key_id: id });
    return row;
  }

  /** The `default` tenant always exists (the migration creates it; this heals a deleted row). */
  async ensureDefault(): Promise<void> {
    await this.db
      .insert(tenants)
      .values({ id: DEFAULT_TENANT, name: DEFAULT_TENANT, createdAt: clockDate(this.clock) })
      .onConflictDoNothing();
  }
}
