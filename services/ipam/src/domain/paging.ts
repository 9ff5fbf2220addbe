/** Rows a describe reads at a time, and at most in all before it answers a page with a cursor. */
export const SCAN_CHUNK = 200;
export const MAX_SCANNED = 5000;
/** JSON bytes of a page's items at most: well inside NATS's 1 MB message, with the envelope. */
export const PAGE_BYTES = 512 * 1024;

/**
 * A page of the items that `keep` accepts, read `SCAN_CHUNK` rows at a time in key order after
 * `cursor`: at most `limit` items and PAGE_BYTES of them, from at most MAX_SCANNED rows. The
 * cursor of the next page is the last key looked at, null when no row is left.
 */
export async function scanPage<T>(
  read: (after: string | undefined, count: number) => Promise<T[]>,
  keyOf: (item: T) => string,
  keep: (item: T) => boolean,
  limit: number,
  cursor: string | undefined,
): Promise<{ items: T[]; next_cursor: string | null }> {
  const items: T[] = [];
  let bytes = 0;
  let scanned = 0;
  let after = cursor;
  for (;;) {
    const rows = await read(after, SCAN_CHUNK);
    for (const [i, row] of rows.entries()) {
      scanned++;
      after = keyOf(row);
      const last = i === rows.length - 1 && rows.length < SCAN_CHUNK;
      if (!keep(row)) continue;
      bytes += JSON.stringify(row).length;
      // This row starts the next page, after the last item kept.
      if (bytes > PAGE_BYTES && items.length > 0) return { items, next_cursor: keyOf(items.at(-1) as T) };
      items.push(row);
      if (items.length === limit) return { items, next_cursor: last ? null : after };
    }
    if (rows.length < SCAN_CHUNK) return { items, next_cursor: null };
    if (scanned >= MAX_SCANNED) return { items, next_cursor: after ?? null };
  }
}
