import {
  AppError,
  type Clock,
  clockDate,
  type Db,
  defaultZone,
  matchesFilters,
  type NetworkFilter,
  type RequestOf,
  type Subnet,
  type subnets as subnetCommands,
  timeSql,
  withTagFields,
  zonesOf,
} from "@cloudsim/shared";
import { formatCidr } from "@cloudsim/shared/cidr";
import { sql } from "drizzle-orm";
import { networkError, OPEN_RANGE, resourceId, subnetBlock, vpcRangeOf } from "../domain/network.ts";
import { scanPage } from "../domain/paging.ts";
import { createPool } from "./pools.ts";
import {
  defaultSubnetIdSql,
  defaultVpcIdSql,
  ownedSql,
  ownerIdSql,
  type Scope,
  visibleSql,
} from "./scope.ts";
import type { SecurityGroupRepository } from "./security-groups.ts";
import { vpcNotFound } from "./vpcs.ts";

export const subnetNotFound = (ids: readonly string[]) =>
  networkError(
    "NOT_FOUND",
    "subnet_not_found",
    ids.length === 1
      ? `The subnet ID '${ids[0]}' does not exist`
      : `The subnet IDs '${ids.join(", ")}' do not exist`,
    { subnet_ids: ids },
  );

const subnetFields = (subnet: Subnet) =>
  withTagFields(
    {
      "subnet-id": subnet.subnet_id,
      "vpc-id": subnet.vpc_id,
      cidr: subnet.cidr_block,
      "cidr-block": subnet.cidr_block,
      cidrBlock: subnet.cidr_block,
      "availability-zone": subnet.availability_zone,
      availabilityZone: subnet.availability_zone,
      "available-ip-address-count": String(subnet.available_ip_address_count),
      "default-for-az": String(subnet.default_for_az),
      defaultForAz: String(subnet.default_for_az),
      "map-public-ip-on-launch": String(subnet.map_public_ip_on_launch),
      "owner-id": subnet.owner_id,
      state: "available",
    },
    subnet.tags,
  );

function zoneOf(region: string, zone: string | undefined): string {
  const zones = zonesOf(region as never);
  const chosen = zone ?? defaultZone(region as never);
  if (!zones.includes(chosen))
    throw new AppError(
      "VALIDATION",
      `Value (${chosen}) for parameter availabilityZone is invalid. Subnets can currently only be created in the following availability zones: ${zones.join(", ")}.`,
    );
  return chosen;
}

/** Subnets, each a pool of addresses: default ones draw from their region's pool, the others from their own. */
export class SubnetRepository {
  constructor(
    private readonly db: Db,
    private readonly groups: SecurityGroupRepository,
    private readonly cooldownMs: number,
    private readonly clock: Clock,
  ) {}

  /** Subnets with their free addresses (past their cooldown) counted from their pool's rows. */
  private select(scope: Scope) {
    const now = clockDate(this.clock);
    return sql`SELECT s.id AS subnet_id, s.vpc_id, ${ownerIdSql(sql`s.tenant_id`, scope)} AS owner_id,
        s.cidr AS cidr_block, s.availability_zone, s.default_for_az, s.map_public_ip_on_launch, s.tags,
        (p.size - (SELECT count(*) FROM ipam.addresses a WHERE a.pool_id = s.pool_id
           AND (a.server_id IS NOT NULL OR a.released_at > ${timeSql(now)} - make_interval(secs => ${this.cooldownMs / 1000}))))::int
          AS available_ip_address_count
      FROM ipam.subnets s JOIN ipam.pools p ON p.id = s.pool_id
      WHERE s.region = ${scope.region} AND ${visibleSql(sql`s.tenant_id`, scope, true)}`;
  }

  async resolve(scope: Scope, ids: readonly string[]): Promise<Subnet[]> {
    const rows = await this.db.execute<Subnet>(
      sql`${this.select(scope)} AND s.id = ANY(${sql.param(ids)}::text[])`,
    );
    const missing = ids.filter((id) => !rows.rows.some((s) => s.subnet_id === id));
    if (missing.length > 0) throw subnetNotFound(missing);
    return ids.map((id) => rows.rows.find((s) => s.subnet_id === id) as Subnet);
  }

  /** In a VPC of the tenant's (not a default VPC, whose addresses are its region pool's), inside its block, overlapping no sibling. */
  async create(request: RequestOf<typeof subnetCommands.create>): Promise<Subnet> {
    const { tenant_id, region, vpc_id, cidr_block, tags } = request;
    const zone = zoneOf(region, request.availability_zone);
    const id = resourceId("subnet");
    await this.db.transaction(async (tx) => {
      // The VPC's row lock: concurrent creates in one VPC check their siblings one after another.
      const vpc = await tx.execute<{ cidr: string; is_default: boolean }>(sql`
        SELECT cidr, is_default FROM ipam.vpcs
        WHERE id = ${vpc_id} AND region = ${region} AND (tenant_id = ${tenant_id} OR tenant_id IS NULL) FOR UPDATE`);
      const row = vpc.rows[0];
      if (!row) throw vpcNotFound([vpc_id]);
      if (row.is_default)
        throw networkError(
          "CONFLICT",
          "default_vpc",
          `The default VPC ${vpc_id} is shared by every tenant and its subnets are fixed; create a VPC of your own for subnets.`,
        );
      const siblings = await tx.execute<{ cidr: string }>(
        sql`SELECT cidr FROM ipam.subnets WHERE vpc_id = ${vpc_id}`,
      );
      const block = subnetBlock(
        cidr_block,
        vpcRangeOf(row.cidr),
        siblings.rows.map((s) => s.cidr),
      );
      await tx.execute(sql`
        INSERT INTO ipam.subnets (id, vpc_id, tenant_id, region, availability_zone, cidr, pool_id, tags)
        VALUES (${id}, ${vpc_id}, ${tenant_id}, ${region}, ${zone}, ${formatCidr(block)}, ${id}, ${JSON.stringify(tags)}::jsonb)`);
      await createPool(
        tx,
        { id, kind: "subnet", region, cidr: block, firstOffset: 4 },
        clockDate(this.clock),
      );
    });
    const [subnet] = await this.resolve({ tenantId: tenant_id, region }, [id]);
    return subnet as Subnet;
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
          await this.db.execute<Subnet>(sql`${this.select(scope)}
            ${ids ? sql`AND s.id = ANY(${sql.param(ids)}::text[])` : sql``}
            ${after ? sql`AND s.id > ${after}` : sql``}
            ORDER BY s.id LIMIT ${count}`)
        ).rows,
      (subnet) => subnet.subnet_id,
      (subnet) => matchesFilters(request.filters, subnetFields(subnet)),
      request.limit,
      request.cursor,
    );
  }

  private async owned(scope: Scope, id: string): Promise<Subnet> {
    const [subnet] = await this.resolve(scope, [id]);
    if (subnet?.default_for_az)
      throw networkError(
        "CONFLICT",
        "default_vpc",
        `The default subnet ${id} is shared by every tenant of this region and cannot be deleted or changed.`,
      );
    return subnet as Subnet;
  }

  /**
   * Deletes the subnet and its pool, refused while any of its addresses is held: the delete of
   * its address rows waits for a claim under way, and sees what that claim took.
   */
  async delete(scope: Scope, id: string): Promise<void> {
    await this.owned(scope, id);
    await this.db.transaction(async (tx) => {
      const locked = await tx.execute(
        sql`SELECT id FROM ipam.subnets WHERE id = ${id} AND ${ownedSql(sql`tenant_id`, scope)} FOR UPDATE`,
      );
      if (locked.rows.length === 0) throw subnetNotFound([id]);
      await tx.execute(sql`SELECT id FROM ipam.pools WHERE id = ${id} FOR UPDATE`);
      const removed = await tx.execute<{ held: number }>(sql`
        WITH gone AS (DELETE FROM ipam.addresses WHERE pool_id = ${id} RETURNING server_id)
        SELECT count(server_id)::int AS held FROM gone`);
      if ((removed.rows[0]?.held ?? 0) > 0)
        throw networkError(
          "CONFLICT",
          "dependency_violation",
          `The subnet '${id}' has dependencies and cannot be deleted.`,
          {
            subnet_id: id,
          },
        );
      await tx.execute(sql`DELETE FROM ipam.pools WHERE id = ${id}`);
      await tx.execute(sql`DELETE FROM ipam.subnets WHERE id = ${id}`);
    });
  }

  async modify(scope: Scope, id: string, mapPublicIpOnLaunch: boolean): Promise<Subnet> {
    await this.owned(scope, id);
    await this.db.execute(sql`UPDATE ipam.subnets SET map_public_ip_on_launch = ${mapPublicIpOnLaunch}
      WHERE id = ${id} AND ${ownedSql(sql`tenant_id`, scope)}`);
    return (await this.resolve(scope, [id]))[0] as Subnet;
  }

  /** The pool a subnet's addresses come from (a default subnet's: its region's); NOT_FOUND for an unknown subnet. */
  async poolOf(subnetId: string): Promise<string> {
    const rows = await this.db.execute<{ pool_id: string }>(
      sql`SELECT pool_id FROM ipam.subnets WHERE id = ${subnetId}`,
    );
    const poolId = rows.rows[0]?.pool_id;
    if (!poolId) throw subnetNotFound([subnetId]);
    return poolId;
  }

  /** Where a launch goes: its subnet (the zone's default one when none is named), zone, VPC and groups. */
  async placement(request: RequestOf<typeof subnetCommands.placement>) {
    const scope: Scope = { tenantId: request.tenant_id, region: request.region };
    const subnet = request.subnet_id
      ? ((await this.resolve(scope, [request.subnet_id]))[0] as Subnet)
      : await this.defaultFor(scope, zoneOf(request.region, request.availability_zone));
    if (request.availability_zone && request.availability_zone !== subnet.availability_zone)
      throw new AppError(
        "VALIDATION",
        `The subnet ${subnet.subnet_id} is in ${subnet.availability_zone}, not the requested ${request.availability_zone}.`,
      );
    const vpcId = await this.groupVpcOf(subnet.vpc_id);
    if (request.group_ids.length === 0 && request.group_names.length === 0)
      request.group_names.push("default");
    if (request.group_names.includes("default"))
      await this.groups.ensureDefault(this.db, request.tenant_id, vpcId, request.region);
    const byId = request.group_ids.length ? await this.groups.resolve(scope, request.group_ids) : [];
    const other = byId.find((g) => g.vpc_id !== vpcId);
    if (other)
      throw networkError(
        "VALIDATION",
        "group_vpc_mismatch",
        `Security group ${other.group_id} and subnet ${subnet.subnet_id} belong to different networks.`,
      );
    const byName = request.group_names.length
      ? await this.groups.byNames(scope, request.group_names, vpcId)
      : [];
    const groups = new Map(
      [...byId, ...byName].map((g) => [g.group_id, { id: g.group_id, name: g.group_name }]),
    );
    return {
      network: { subnet_id: subnet.subnet_id, vpc_id: subnet.vpc_id, security_groups: [...groups.values()] },
      availability_zone: subnet.availability_zone,
      map_public_ip_on_launch: subnet.map_public_ip_on_launch,
    };
  }

  /**
   * The VPC whose security groups a launch into `vpcId` takes: its own, or for a Neutron network
   * (a VPC of the open range: Neutron's groups are the project's, not a network's) the region's
   * default VPC's, where the groups made through Neutron are.
   */
  private async groupVpcOf(vpcId: string): Promise<string> {
    const rows = await this.db.execute<{ group_vpc: string }>(sql`
      SELECT CASE WHEN cidr = ${OPEN_RANGE} THEN ${defaultVpcIdSql(sql`region`)} ELSE id END AS group_vpc
      FROM ipam.vpcs WHERE id = ${vpcId}`);
    return rows.rows[0]?.group_vpc ?? vpcId;
  }

  private async defaultFor(scope: Scope, zone: string): Promise<Subnet> {
    const rows = await this.db.execute<Subnet>(
      sql`${this.select(scope)} AND s.id = ${defaultSubnetIdSql(sql`${zone}::text`)}`,
    );
    const subnet = rows.rows[0];
    if (!subnet) throw subnetNotFound([`default subnet of ${zone}`]);
    return subnet;
  }
}
