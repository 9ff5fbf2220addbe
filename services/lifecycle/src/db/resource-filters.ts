import { AppError, wildcardRegex } from "@cloudsim/shared";
import { type SQL, sql } from "drizzle-orm";

/** EC2 filter values (`*` and `?` wildcards) as an array of regular expressions for `~ ANY(…)`. */
export const patterns = (values: readonly string[]) => sql`${sql.param(values.map(wildcardRegex))}::text[]`;

/**
 * One EC2 filter (any of its values matching) as a condition: `tag:<key>` and `tag-key` on the
 * jsonb `tags`, any other name through `columns` (its SQL expression, compared as text).
 */
export function filterCondition(
  { name, values }: { name: string; values: readonly string[] },
  columns: Record<string, string>,
  tags = "tags",
): SQL {
  if (name.startsWith("tag:")) return sql`(${sql.raw(tags)} ->> ${name.slice(4)}) ~ ANY(${patterns(values)})`;
  if (name === "tag-key")
    return sql`EXISTS (SELECT 1 FROM jsonb_object_keys(${sql.raw(tags)}) AS k WHERE k ~ ANY(${patterns(values)}))`;
  const column = columns[name];
  if (!column) throw new AppError("VALIDATION", `The filter '${name}' is invalid`, { filter: name });
  return sql`(${sql.raw(column)})::text ~ ANY(${patterns(values)})`;
}

/** Every filter (AND), or true. */
export const allOf = (conditions: readonly SQL[]) =>
  conditions.length ? sql.join([...conditions], sql` AND `) : sql`true`;
