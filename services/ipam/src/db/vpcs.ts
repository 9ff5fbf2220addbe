import {
  type Db,
  matchesFilters,
  type NetworkFilter,
  type Region,
  type RequestOf,
  type Vpc,
  type vpcs as vpcCommands,
  withTagFields,
} from "@cloudsim/shared";
import { formatCidr } from "@cloudsim/shared/cidr";
import { sql } from "drizzle-orm";
import { networkError, OPEN_RANGE, resourceId, vpcBlock } from "../domain/network.ts";
import { scanPage } from "../domain/paging.ts";
import { ownedSql, ownerIdSql, type Scope, visibleSql } from "./scope.ts";
import type { SecurityGroupRepository } from "./security-groups.ts";

export const vpcNotFound = (ids: readonly string[]) =>
  networkError(
    "NOT_FOUND",
    "vpc_not_found",
    ids.length === 1
      ? `The vpc ID '${ids[0]}' does not exist`
      : `The vpc IDs '${ids.join(", ")}' do not exist`,
    { vpc_ids: ids },
  );

const defaultVpcFixed = (id: string) =>
  networkError(
    "CONFLICT",
    "default_vpc",
    `The default VPC ${id} is shared by every tenant of this region and cannot be deleted or changed; create a VPC of your own.`,
    { vpc_id: id },
  );

const vpcFields = (vpc: Vpc) =>
  withTagFields(
    {
      "vpc-id": vpc.vpc_id,
      cidr: vpc.cidr_block,
      "cidr-block": vpc.cidr_block,
      "cidr-block-association.cidr-block": vpc.cidr_block,
      "is-default": String(vpc.is_default),
      "owner-id": vpc.owner_id,
      state: "available",
      "dhcp-options-id": "default",
    },
    vpc.tags,
  );

/** Whether a VPC passes a describe's filters. */
export const vpcMatches = (filters: readonly NetworkFilter[]) => (vpc: Vpc) =>
  matchesFilters(filters, vpcFields(vpc));

/** VPCs: each region's default one (shared, fixed) and the tenants' own. */
export class VpcRepository {
  constructor(
    private readonly db: Db,
    private readonly groups: SecurityGroupRepository,
  ) {}

  private select(scope: Scope) {
    return sql`SELECT v.id AS vpc_id, ${ownerIdSql(sql`v.tenant_id`, scope)} AS owner_id, v.cidr AS cidr_block,
        v.is_default, v.enable_dns_support, v.enable_dns_hostnames, v.tags
      FROM ipam.vpcs v WHERE v.region = ${scope.region} AND ${visibleSql(sql`v.tenant_id`, scope, true)}`;
  }

  /** The scope's VPCs of these ids, NOT_FOUND naming those it does not see. */
  async resolve(scope: Scope, ids: readonly string[]): Promise<Vpc[]> {
    const rows = await this.db.execute<Vpc>(
      sql`${this.select(scope)} AND v.id = ANY(${sql.param(ids)}::text[])`,
    );
    const missing = ids.filter((id) => !rows.rows.some((v) => v.vpc_id === id));
    if (missing.length > 0) throw vpcNotFound(missing);
    return rows.rows;
  }

  async create({ tenant_id, region, cidr_block, tags }: RequestOf<typeof vpcCommands.create>): Promise<Vpc> {
    const block = cidr_block === undefined ? OPEN_RANGE : formatCidr(vpcBlock(cidr_block));
    const id = resourceId("vpc");
    await this.db.transaction(async (tx) => {
      await tx.execute(sql`INSERT INTO ipam.vpcs (id, tenant_id, region, cidr, tags)
        VALUES (${id}, ${tenant_id}, ${region}, ${block}, ${JSON.stringify(tags)}::jsonb)`);
      if (block !== OPEN_RANGE) await this.groups.ensureDefault(tx, tenant_id, id, region);
    });
    const [vpc] = await this.resolve({ tenantId: tenant_id, region }, [id]);
    return vpc as Vpc;
  }

  async describe(
    scope: Scope,
    request: {
      ids?: string[] | undefined;
      filters: NetworkFilter[];
      limit: number;
      cursor?: string | undefined;
    },
  ) {
    if (request.ids) await this.resolve(scope, request.ids);
    const ids = request.ids;
    return scanPage(
      async (after, count) =>
        (
          await this.db.execute<Vpc>(sql`${this.select(scope)}
            ${ids ? sql`AND v.id = ANY(${sql.param(ids)}::text[])` : sql``}
            ${after ? sql`AND v.id > ${after}` : sql``}
            ORDER BY v.id LIMIT ${count}`)
        ).rows,
      (vpc) => vpc.vpc_id,
      vpcMatches(request.filters),
      request.limit,
      request.cursor,
    );
  }

  /** Deletes a VPC of the scope's with no subnets and no security groups but its default ones. */
  async delete(scope: Scope, id: string): Promise<void> {
    const [vpc] = await this.resolve(scope, [id]);
    if (vpc?.is_default) throw defaultVpcFixed(id);
    await this.db.transaction(async (tx) => {
      const locked = await tx.execute(
        sql`SELECT id FROM ipam.vpcs WHERE id = ${id} AND ${ownedSql(sql`tenant_id`, scope)} FOR UPDATE`,
      );
      if (locked.rows.length === 0) throw vpcNotFound([id]);
      const dependents = await tx.execute<{ n: number }>(sql`
        SELECT (SELECT count(*) FROM ipam.subnets WHERE vpc_id = ${id})
             + (SELECT count(*) FROM ipam.security_groups WHERE vpc_id = ${id} AND NOT is_default) AS n`);
      if (Number(dependents.rows[0]?.n ?? 0) > 0)
        throw networkError(
          "CONFLICT",
          "dependency_violation",
          `The vpc '${id}' has dependencies and cannot be deleted.`,
          { vpc_id: id },
        );
      await tx.execute(sql`DELETE FROM ipam.security_groups WHERE vpc_id = ${id}`);
      await tx.execute(sql`DELETE FROM ipam.vpcs WHERE id = ${id}`);
    });
  }

  async modify(
    scope: Scope,
    id: string,
    change: { enable_dns_support?: boolean | undefined; enable_dns_hostnames?: boolean | undefined },
  ): Promise<Vpc> {
    const [vpc] = await this.resolve(scope, [id]);
    if (vpc?.is_default) throw defaultVpcFixed(id);
    await this.db.execute(sql`UPDATE ipam.vpcs SET
        enable_dns_support = coalesce(${change.enable_dns_support ?? null}::boolean, enable_dns_support),
        enable_dns_hostnames = coalesce(${change.enable_dns_hostnames ?? null}::boolean, enable_dns_hostnames)
      WHERE id = ${id} AND ${ownedSql(sql`tenant_id`, scope)}`);
    const [changed] = await this.resolve(scope, [id]);
    return changed as Vpc;
  }

  /** The region's default VPC id. */
  async defaultOf(region: Region): Promise<string> {
    const rows = await this.db.execute<{ id: string }>(
      sql`SELECT id FROM ipam.vpcs WHERE region = ${region} AND is_default`,
    );
    const id = rows.rows[0]?.id;
    if (!id) throw vpcNotFound([`default VPC of ${region}`]);
    return id;
  }
}
