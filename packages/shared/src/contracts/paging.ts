import { z } from "zod";

/** `limit`: 1 to `max` items a page, 20 when not given. */
export const pageLimit = (max: number) =>
  z.coerce.number().int().min(1).max(max).default(20).describe(`Page size, 1 to ${max}`);

/**
 * Opaque page cursors: the last key of the previous page, base64url-encoded. The schema refuses
 * a cursor whose key `isKey` does not accept, so a handler can take `keyOf` as it is.
 */
export function pageCursor(isKey: (key: string) => boolean) {
  const keyOf = (cursor: string) => Buffer.from(cursor, "base64url").toString();
  return {
    schema: z
      .string()
      .max(200)
      .refine((cursor) => isKey(keyOf(cursor)), "not a cursor from a previous page")
      .optional()
      .describe("next_cursor of the previous page"),
    keyOf,
    /** A page of `limit` items out of `limit + 1` rows read, and the cursor of the next (null on the last). */
    page<T>(rows: readonly T[], limit: number, keyOfRow: (row: T) => string) {
      const items = rows.slice(0, limit);
      const last = items[items.length - 1];
      const next = rows.length > limit && last !== undefined ? keyOfRow(last) : null;
      return { items, next_cursor: next === null ? null : Buffer.from(next).toString("base64url") };
    },
  };
}
