import { decodeCursor, encodeCursor } from "./cursor.ts";

/** A DescribeTags cursor of a resource table: the last resource id and key, a line apart. */
function tagKey(key: string): [string, string] | undefined {
  const at = key.indexOf("\n");
  return at > 0 ? [key.slice(0, at), key.slice(at + 1)] : undefined;
}

/** The (resource id, key) a DescribeTags page continues after. */
export const tagsAfter = (cursor: string | undefined) =>
  cursor === undefined ? undefined : tagKey(decodeCursor(cursor, (key) => tagKey(key) !== undefined));

/** A page of `limit` tags out of `limit + 1` read, with the cursor of the next. */
export function tagPage<T extends { resource_id: string; key: string }>(rows: readonly T[], limit: number) {
  const items = rows.slice(0, limit);
  const last = items[items.length - 1];
  return {
    items,
    next_cursor: rows.length > limit && last ? encodeCursor(`${last.resource_id}\n${last.key}`) : null,
  };
}
