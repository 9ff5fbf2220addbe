import {
  AppError,
  type Db,
  matchesFilters,
  type RequestOf,
  type networkTags as tagCommands,
} from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";
import { networkError } from "../domain/network.ts";
import { scanPage } from "../domain/paging.ts";
import { retagged } from "../domain/tags.ts";
import { ownedSql, type Scope, visibleSql } from "./scope.ts";

/** The tables of the resources ipam tags, by their ids' prefix: table, id column, what a missing one is. */
const taggable = {
  "vpc-": { table: sql`ipam.vpcs`, id: sql`id`, reason: "vpc_not_found", what: "vpc ID", shared: true },
  "subnet-": {
    table: sql`ipam.subnets`,
    id: sql`id`,
    reason: "subnet_not_found",
    what: "subnet ID",
    shared: true,
  },
  "sg-": {
    table: sql`ipam.security_groups`,
    id: sql`id`,
    reason: "group_not_found",
    what: "security group",
    shared: false,
  },
  "eipalloc-": {
    table: sql`ipam.elastic_ips`,
    id: sql`allocation_id`,
    reason: "allocation_not_found",
    what: "allocation ID",
    shared: false,
  },
} as const;
type Prefix = keyof typeof taggable;

const prefixOf = (id: string) => (Object.keys(taggable) as Prefix[]).find((prefix) => id.startsWith(prefix));

/** Tags of VPCs, subnets, security groups and Elastic IPs. */
export class NetworkTagRepository {
  constructor(private readonly db: Db) {}

  /** Sets and removes tags of the scope's own resources, all or none (a default VPC's or subnet's are fixed). */
  async retag(scope: Scope, request: RequestOf<typeof tagCommands.tag>, maxTags: number): Promise<number> {
    const byPrefix = new Map<Prefix, string[]>();
    for (const id of request.ids) {
      const prefix = prefixOf(id);
      if (!prefix) throw new AppError("VALIDATION", `Invalid id: "${id}"`);
      byPrefix.set(prefix, [...(byPrefix.get(prefix) ?? []), id]);
    }
    return this.db.transaction(async (tx) => {
      let count = 0;
      for (const [prefix, ids] of byPrefix) {
        const { table, id, reason, what } = taggable[prefix];
        const rows = await tx.execute<{ id: string; tags: Record<string, string> }>(sql`
          SELECT ${id} AS id, tags FROM ${table}
          WHERE ${id} = ANY(${sql.param(ids)}::text[]) AND region = ${scope.region} AND ${ownedSql(sql`tenant_id`, scope)}
          FOR UPDATE`);
        const missing = ids.find((i) => !rows.rows.some((r) => r.id === i));
        if (missing !== undefined)
          throw networkError("NOT_FOUND", reason, `The ${what} '${missing}' does not exist`, {
            resource_id: missing,
          });
        for (const row of rows.rows) {
          const tags = retagged(row.tags, request.set, request.remove);
          if (Object.keys(tags).length > maxTags)
            throw new AppError("VALIDATION", `The resource ${row.id} would have more than ${maxTags} tags`, {
              reason: "tag_limit",
            });
          await tx.execute(
            sql`UPDATE ${table} SET tags = ${JSON.stringify(tags)}::jsonb WHERE ${id} = ${row.id}`,
          );
          count++;
        }
      }
      return count;
    });
  }

  /** The scope's resources' tags, a page at a time in (resource id, key) order. */
  async describe(scope: Scope, request: RequestOf<typeof tagCommands.describe>) {
    const all = (Object.keys(taggable) as Prefix[]).map((prefix) => {
      const { table, id, shared } = taggable[prefix];
      return sql`SELECT ${id} AS resource_id, t.key, t.value FROM ${table}, jsonb_each_text(tags) AS t(key, value)
        WHERE region = ${scope.region} AND ${visibleSql(sql`tenant_id`, scope, shared)}`;
    });
    const union = sql.join(all, sql` UNION ALL `);
    const keyOf = (row: { resource_id: string; key: string }) => `${row.resource_id}\n${row.key}`;
    return scanPage(
      async (after, count) => {
        const [afterId, afterKey] = after ? after.split("\n") : [];
        const past: SQL = after ? sql`WHERE (resource_id, key) > (${afterId}, ${afterKey ?? ""})` : sql``;
        return (
          await this.db.execute<{ resource_id: string; key: string; value: string }>(
            sql`SELECT * FROM (${union}) AS tags ${past} ORDER BY resource_id, key LIMIT ${count}`,
          )
        ).rows;
      },
      keyOf,
      (row) =>
        matchesFilters(request.filters, {
          key: row.key,
          value: row.value,
          "resource-id": row.resource_id,
          [`tag:${row.key}`]: row.value,
        }),
      request.limit,
      request.cursor,
    );
  }
}
