import { DEFAULT_TENANT, type Region } from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";

/** What a request sees: a tenant's resources (null: every tenant's) in one region. */
export interface Scope {
  tenantId: string | null;
  region: Region;
}

export const scopeOf = (request: { tenant_id: string | null; region: Region }): Scope => ({
  tenantId: request.tenant_id,
  region: request.region,
});

/**
 * The 12-digit owner id EC2 shows for `tenant` (a column), or for the scope's tenant where the
 * column is null (a default VPC or subnet, every tenant's): lifecycle derives its instances' the same way.
 */
export const ownerIdSql = (tenant: SQL, scope: Scope) =>
  sql`lpad(((('x' || substr(md5(coalesce(${tenant}, ${scope.tenantId ?? DEFAULT_TENANT})), 1, 12))::bit(48)::bigint % 1000000000000)::text), 12, '0')`;

/** Rows of the scope's tenant (every tenant's with the admin key); `shared` rows (tenant null) too. */
export function visibleSql(tenant: SQL, scope: Scope, shared = false): SQL {
  if (scope.tenantId === null) return sql`true`;
  return shared
    ? sql`(${tenant} = ${scope.tenantId} OR ${tenant} IS NULL)`
    : sql`${tenant} = ${scope.tenantId}`;
}

/** Rows the scope may change: its tenant's own (every tenant's with the admin key), never shared ones. */
export function ownedSql(tenant: SQL, scope: Scope): SQL {
  return scope.tenantId === null ? sql`${tenant} IS NOT NULL` : sql`${tenant} = ${scope.tenantId}`;
}

/** The default VPC of a region and the default subnet of a zone: stable hashes, as lifecycle derives them too. */
export const defaultVpcIdSql = (region: SQL) => sql`'vpc-' || substr(md5('vpc:' || ${region}), 1, 17)`;
export const defaultSubnetIdSql = (zone: SQL) => sql`'subnet-' || substr(md5('subnet:' || ${zone}), 1, 17)`;
