import { sql } from "drizzle-orm";
import type { Db } from "./db.ts";

/**
 * Runs `apply` in one transaction with the ids of `eventIds` this service never processed,
 * recording them all in `<schema>.processed_events` in the same transaction, in one statement.
 * `apply` is not called when every id was processed already.
 */
export async function processBatchOnce(
  db: Db,
  schema: string,
  eventIds: readonly string[],
  apply: (tx: Db, freshIds: Set<string>) => Promise<void>,
): Promise<void> {
  if (eventIds.length === 0) return;
  await db.transaction(async (tx) => {
    const inserted = await tx.execute<{ event_id: string }>(
      sql`INSERT INTO ${sql.identifier(schema)}.processed_events (event_id)
          SELECT unnest(${sql.param(eventIds)}::uuid[]) ON CONFLICT DO NOTHING RETURNING event_id`,
    );
    // Postgres prints uuids in lower case; the fresh ids are handed back as the caller wrote them.
    const fresh = new Set(inserted.rows.map((r) => r.event_id));
    const freshIds = new Set(eventIds.filter((id) => fresh.has(id.toLowerCase())));
    if (freshIds.size > 0) await apply(tx as unknown as Db, freshIds);
  });
}
