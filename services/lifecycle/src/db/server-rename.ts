import { type Clock, clockDate, type Db, notFound } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { fromReturned, type ReturnedServer, returnedServer } from "./server-rows.ts";

/** Gives a server that has not ended a new name; NOT_FOUND when the tenant has no such server. */
export async function renameServer(
  db: Db,
  clock: Clock,
  ref: { id: string; tenantId: string | null },
  name: string,
) {
  const [row] = (
    await db.execute<ReturnedServer>(sql`
      UPDATE lifecycle.servers
      SET name = ${name}, updated_at = greatest(${clockDate(clock)}::timestamptz, updated_at), version = version + 1
      WHERE id = ${ref.id} AND (${ref.tenantId}::text IS NULL OR tenant_id = ${ref.tenantId})
        AND state <> 'terminated'
      RETURNING ${returnedServer}`)
  ).rows;
  if (!row) throw notFound("server", ref.id);
  return fromReturned(row);
}
