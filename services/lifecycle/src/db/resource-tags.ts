import { AppError, type Db } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { allOf, patterns } from "./resource-filters.ts";

/** A table of tagged EC2 resources beside instances: its name, its EC2 id column and which rows are visible. */
export interface TaggedResources {
  table: string;
  idColumn: string;
  /** A condition on the table's rows (SQL) that hides what EC2 no longer shows. */
  visible: string;
  /** The error for ids the scope does not hold. */
  notFound(ids: readonly string[]): AppError;
}

export interface ResourceScope {
  tenantId: string | null;
  region: string;
}

const inScope = (t: TaggedResources, { tenantId, region }: ResourceScope) =>
  sql`(${tenantId}::text IS NULL OR tenant_id = ${tenantId}) AND region = ${region} AND ${sql.raw(t.visible)}`;

/**
 * Sets `set` and removes `remove` (a key, or a key only while it has the value; null: every tag)
 * on the resources named, in one statement; NOT_FOUND when one is not the scope's, VALIDATION
 * (tag_limit) and nothing changed when one would hold more than `maxTags`.
 */
export async function retagResources(
  db: Db,
  t: TaggedResources,
  scope: ResourceScope,
  ids: readonly string[],
  change: {
    set: Record<string, string>;
    remove: readonly { key: string; value?: string | undefined }[] | null;
  },
  maxTags: number,
): Promise<number> {
  const removals = (change.remove ?? []).map((r) => ({
    key: r.key,
    value: r.value ?? null,
    any_value: r.value === undefined,
  }));
  const kept =
    change.remove === null
      ? sql`'{}'::jsonb`
      : sql`(SELECT coalesce(jsonb_object_agg(t.key, t.value), '{}'::jsonb)
          FROM jsonb_each_text(r.tags) AS t(key, value)
          WHERE NOT EXISTS (SELECT 1 FROM jsonb_to_recordset(${JSON.stringify(removals)}::jsonb)
            AS x(key text, value text, any_value boolean) WHERE x.key = t.key AND (x.any_value OR x.value = t.value)))`;
  const table = sql.raw(t.table);
  const id = sql.raw(t.idColumn);
  const [result] = (
    await db.execute<{ found: string[]; over: number; changed: number }>(sql`
      WITH next AS (
        SELECT r.id, r.${id} AS resource_id, ${kept} || ${JSON.stringify(change.set)}::jsonb AS tags
        FROM ${table} r WHERE r.${id} = ANY(${sql.param(ids)}::text[]) AND ${inScope(t, scope)}
      ), over AS (
        SELECT count(*)::int AS n FROM next WHERE (SELECT count(*) FROM jsonb_object_keys(next.tags)) > ${maxTags}
      ), changed AS (
        UPDATE ${table} r SET tags = next.tags
        FROM next, over WHERE r.id = next.id AND over.n = 0 AND r.tags IS DISTINCT FROM next.tags
          AND (SELECT count(*) FROM next) = ${new Set(ids).size}
        RETURNING r.id
      )
      SELECT (SELECT coalesce(array_agg(resource_id), '{}') FROM next) AS found,
             (SELECT n FROM over) AS over, (SELECT count(*)::int FROM changed) AS changed`)
  ).rows;
  const found = new Set(result?.found ?? []);
  const missing = [...new Set(ids)].filter((i) => !found.has(i));
  if (missing.length > 0) throw t.notFound(missing);
  if (result && result.over > 0)
    throw new AppError("VALIDATION", `a resource may have at most ${maxTags} tags`, {
      reason: "tag_limit",
      limit: maxTags,
    });
  return result?.changed ?? 0;
}

/** The tags of the scope's resources, by resource id and key, after the `after` pair (DescribeTags). */
export async function listResourceTags(
  db: Db,
  t: TaggedResources,
  scope: ResourceScope,
  filters: readonly { name: string; values: readonly string[] }[],
  after: readonly [string, string] | undefined,
  limit: number,
) {
  const column: Record<string, string> = { key: "t.key", value: "t.value", "resource-id": `r.${t.idColumn}` };
  const conditions = filters.map(({ name, values }) =>
    name.startsWith("tag:")
      ? sql`(r.tags ->> ${name.slice(4)}) ~ ANY(${patterns(values)})`
      : sql`${sql.raw(column[name] ?? "NULL")} ~ ANY(${patterns(values)})`,
  );
  if (after) conditions.push(sql`(r.${sql.raw(t.idColumn)}, t.key) > (${after[0]}, ${after[1]})`);
  return (
    await db.execute<{ resource_id: string; key: string; value: string }>(sql`
      SELECT r.${sql.raw(t.idColumn)} AS resource_id, t.key, t.value
      FROM ${sql.raw(t.table)} r, jsonb_each_text(r.tags) AS t(key, value)
      WHERE ${inScope(t, scope)} AND ${allOf(conditions)}
      ORDER BY 1, t.key LIMIT ${limit}`)
  ).rows;
}
