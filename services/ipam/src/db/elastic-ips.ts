import {
  type elasticIps as addressCommands,
  type Clock,
  clockDate,
  type Db,
  type ElasticIp,
  isUniqueViolation,
  matchesFilters,
  type NetworkFilter,
  type RequestOf,
  timeSql,
  uuidv7,
  withTagFields,
} from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { networkError, resourceId } from "../domain/network.ts";
import { scanPage } from "../domain/paging.ts";
import { PUBLIC_POOL } from "./pools.ts";
import type { IpamRepository } from "./repository.ts";
import { ownedSql, ownerIdSql, type Scope, visibleSql } from "./scope.ts";

const addressFields = (address: ElasticIp) =>
  withTagFields(
    {
      "allocation-id": address.allocation_id,
      "association-id": address.association_id ?? undefined,
      "instance-id": address.instance_id ?? undefined,
      "network-interface-id": address.network_interface_id ?? undefined,
      "network-interface-owner-id": address.network_interface_id ? address.owner_id : undefined,
      "private-ip-address": address.private_ip_address ?? undefined,
      "public-ip": address.public_ip,
      domain: "vpc",
    },
    address.tags,
  );

/** One address a request names: by allocation id, or by public IP. */
type AddressRef = { allocation_id?: string | undefined; public_ip?: string | undefined };

const allocationNotFound = (id: string) =>
  networkError("NOT_FOUND", "allocation_not_found", `The allocation ID '${id}' does not exist`, {
    allocation_id: id,
  });
const addressNotFound = (ip: string) =>
  networkError("NOT_FOUND", "address_not_found", `Address '${ip}' not found.`, { public_ip: ip });

function refSql(ref: AddressRef): SQL {
  if (ref.allocation_id !== undefined) return sql`e.allocation_id = ${ref.allocation_id}`;
  if (ref.public_ip !== undefined) return sql`host(e.public_ip) = ${ref.public_ip}`;
  throw networkError(
    "VALIDATION",
    "allocation_not_found",
    "The request must contain the parameter AllocationId or PublicIp",
  );
}

const notFoundOf = (ref: AddressRef) =>
  ref.allocation_id !== undefined
    ? allocationNotFound(ref.allocation_id)
    : addressNotFound(ref.public_ip ?? "");

/**
 * Elastic IPs: an address of the public pool claimed as ipam claims any (its holder a uuid of
 * the allocation's own), and while associated the instance interface it maps to.
 */
export class ElasticIpRepository {
  constructor(
    private readonly db: Db,
    private readonly addresses: IpamRepository,
    private readonly clock: Clock,
  ) {}

  private select(scope: Scope, where: SQL) {
    return sql`SELECT e.allocation_id, host(e.public_ip) AS public_ip, ${ownerIdSql(sql`e.tenant_id`, scope)} AS owner_id,
        e.association_id, e.instance_id, e.network_interface_id, host(e.private_ip) AS private_ip_address, e.tags
      FROM ipam.elastic_ips e
      WHERE e.region = ${scope.region} AND ${visibleSql(sql`e.tenant_id`, scope)} AND ${where}`;
  }

  private async one(scope: Scope, ref: AddressRef): Promise<ElasticIp> {
    const rows = await this.db.execute<ElasticIp>(this.select(scope, refSql(ref)));
    const address = rows.rows[0];
    if (!address) throw notFoundOf(ref);
    return address;
  }

  /**
   * A public address for the tenant. The claim and the row are two statements: the row confirms
   * the claim in its own statement, so a crash between them leaves a reservation that the
   * reservation check takes back.
   */
  async allocate({
    tenant_id,
    region,
    tags,
  }: RequestOf<typeof addressCommands.allocate>): Promise<ElasticIp> {
    const holder = uuidv7();
    const publicIp = await this.addresses.allocate(holder, PUBLIC_POOL);
    const id = resourceId("eipalloc");
    await this.db.execute(sql`
      WITH e AS (
        INSERT INTO ipam.elastic_ips (allocation_id, holder_id, tenant_id, region, public_ip, tags)
        VALUES (${id}, ${holder}, ${tenant_id}, ${region}, ${publicIp}::inet, ${JSON.stringify(tags)}::jsonb)
        RETURNING holder_id)
      UPDATE ipam.addresses SET confirmed_at = ${timeSql(clockDate(this.clock))}
      WHERE server_id = (SELECT holder_id FROM e)`);
    return this.one({ tenantId: tenant_id, region }, { allocation_id: id });
  }

  async describe(
    scope: Scope,
    request: {
      ids?: string[] | undefined;
      public_ips?: string[] | undefined;
      filters: NetworkFilter[];
      limit: number;
      cursor?: string | undefined;
    },
  ) {
    const { ids, public_ips: ips } = request;
    const named = sql`${ids ? sql`e.allocation_id = ANY(${sql.param(ids)}::text[])` : sql`true`}
      AND ${ips ? sql`host(e.public_ip) = ANY(${sql.param(ips)}::text[])` : sql`true`}`;
    if (ids || ips) {
      const found = (await this.db.execute<ElasticIp>(this.select(scope, named))).rows;
      const id = ids?.find((i) => !found.some((a) => a.allocation_id === i));
      if (id !== undefined) throw allocationNotFound(id);
      const ip = ips?.find((i) => !found.some((a) => a.public_ip === i));
      if (ip !== undefined) throw addressNotFound(ip);
    }
    return scanPage(
      async (after, count) =>
        (
          await this.db.execute<ElasticIp>(
            sql`${this.select(
              scope,
              sql`${named} AND ${after ? sql`e.allocation_id > ${after}` : sql`true`}`,
            )} ORDER BY e.allocation_id LIMIT ${count}`,
          )
        ).rows,
      (address) => address.allocation_id,
      (address) => matchesFilters(request.filters, addressFields(address)),
      request.limit,
      request.cursor,
    );
  }

  /**
   * Associates the address with an instance's interface. An address associated elsewhere moves
   * only with allowReassociation; an address the instance had is disassociated (EC2 does both).
   */
  async associate(scope: Scope, request: RequestOf<typeof addressCommands.associate>): Promise<string> {
    const address = await this.one(scope, request);
    if (address.instance_id === request.instance_id && address.association_id) return address.association_id;
    if (address.association_id && !request.allow_reassociation)
      throw networkError(
        "CONFLICT",
        "already_associated",
        `resource ${address.allocation_id} is already associated with associationId ${address.association_id}`,
      );
    const associationId = resourceId("eipassoc");
    try {
      await this.db.transaction(async (tx) => {
        await tx.execute(sql`UPDATE ipam.elastic_ips SET association_id = NULL, instance_id = NULL, server_id = NULL,
            network_interface_id = NULL, private_ip = NULL
          WHERE server_id = ${request.server_id} AND allocation_id <> ${address.allocation_id}`);
        await tx.execute(sql`UPDATE ipam.elastic_ips SET association_id = ${associationId},
            instance_id = ${request.instance_id}, server_id = ${request.server_id},
            network_interface_id = ${request.network_interface_id}, private_ip = ${request.private_ip_address}::inet
          WHERE allocation_id = ${address.allocation_id} AND ${ownedSql(sql`tenant_id`, scope)}`);
      });
    } catch (err) {
      if (isUniqueViolation(err, "elastic_ips_server_key"))
        throw networkError(
          "CONFLICT",
          "already_associated",
          `The instance ${request.instance_id} was given another address meanwhile.`,
        );
      throw err;
    }
    return associationId;
  }

  async disassociate(
    scope: Scope,
    ref: { association_id?: string | undefined; public_ip?: string | undefined },
  ) {
    const where =
      ref.association_id !== undefined
        ? sql`association_id = ${ref.association_id}`
        : ref.public_ip !== undefined
          ? sql`host(public_ip) = ${ref.public_ip} AND association_id IS NOT NULL`
          : undefined;
    if (!where)
      throw networkError(
        "VALIDATION",
        "association_not_found",
        "The request must contain the parameter AssociationId or PublicIp",
      );
    const done = await this.db.execute<{ allocation_id: string }>(sql`
      UPDATE ipam.elastic_ips SET association_id = NULL, instance_id = NULL, server_id = NULL,
        network_interface_id = NULL, private_ip = NULL
      WHERE ${where} AND region = ${scope.region} AND ${ownedSql(sql`tenant_id`, scope)}
      RETURNING allocation_id`);
    const row = done.rows[0];
    if (!row)
      throw ref.association_id !== undefined
        ? networkError(
            "NOT_FOUND",
            "association_not_found",
            `The association ID '${ref.association_id}' does not exist`,
          )
        : addressNotFound(ref.public_ip ?? "");
    return row.allocation_id;
  }

  /** Back to the public pool, refused while associated. */
  async release(scope: Scope, ref: AddressRef): Promise<string> {
    return this.db.transaction(async (tx) => {
      const rows = await tx.execute<{
        allocation_id: string;
        holder_id: string;
        association_id: string | null;
        public_ip: string;
      }>(sql`
        SELECT e.allocation_id, e.holder_id, e.association_id, host(e.public_ip) AS public_ip FROM ipam.elastic_ips e
        WHERE ${refSql(ref)} AND e.region = ${scope.region} AND ${ownedSql(sql`e.tenant_id`, scope)} FOR UPDATE`);
      const row = rows.rows[0];
      if (!row) throw notFoundOf(ref);
      if (row.association_id)
        throw networkError(
          "CONFLICT",
          "address_in_use",
          `Address ${row.public_ip} is in use (association ${row.association_id}).`,
        );
      await tx.execute(sql`DELETE FROM ipam.elastic_ips WHERE allocation_id = ${row.allocation_id}`);
      await this.addresses.release([row.holder_id], tx);
      return row.allocation_id;
    });
  }

  /** The addresses associated with these servers. */
  async ofServers(scope: Scope, serverIds: readonly string[]) {
    const rows = await this.db.execute<{
      server_id: string;
      public_ip: string;
      allocation_id: string;
      association_id: string;
    }>(sql`
      SELECT e.server_id::text AS server_id, host(e.public_ip) AS public_ip, e.allocation_id, e.association_id
      FROM ipam.elastic_ips e
      WHERE e.server_id = ANY(${sql.param(serverIds)}::uuid[]) AND ${visibleSql(sql`e.tenant_id`, scope)}`);
    return rows.rows;
  }

  /** Servers that ended keep no address: theirs are disassociated (an event seen again finds none). */
  async disassociateServers(serverIds: readonly string[]): Promise<void> {
    if (serverIds.length === 0) return;
    await this.db.execute(sql`UPDATE ipam.elastic_ips SET association_id = NULL, instance_id = NULL, server_id = NULL,
        network_interface_id = NULL, private_ip = NULL
      WHERE server_id = ANY(${sql.param(serverIds)}::uuid[])`);
  }
}
