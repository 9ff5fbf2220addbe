import { AppError, type Clock, clockDate, type Db, MAX_SERVER_LABELS, notFound } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { type LabelChange, nextLabels } from "../domain/labels.ts";

/**
 * Changes a server's labels under its row lock, so concurrent changes each see the other's;
 * NOT_FOUND when the tenant has no such server, VALIDATION (label_limit) past MAX_SERVER_LABELS.
 */
export async function labelServer(
  db: Db,
  clock: Clock,
  ref: { id: string; tenantId: string | null },
  change: LabelChange,
): Promise<string[]> {
  return db.transaction(async (tx) => {
    const [row] = (
      await tx.execute<{ labels: string[] }>(sql`
        SELECT labels FROM lifecycle.servers
        WHERE id = ${ref.id} AND (${ref.tenantId}::text IS NULL OR tenant_id = ${ref.tenantId}) FOR UPDATE`)
    ).rows;
    if (!row) throw notFound("server", ref.id);
    const labels = nextLabels(row.labels, change);
    if (labels.length > MAX_SERVER_LABELS)
      throw new AppError("VALIDATION", `a server may have at most ${MAX_SERVER_LABELS} tags`, {
        reason: "label_limit",
        limit: MAX_SERVER_LABELS,
      });
    if (labels.join("\n") !== row.labels.join("\n"))
      await tx.execute(sql`
        UPDATE lifecycle.servers
        SET labels = ${JSON.stringify(labels)}::jsonb,
            updated_at = greatest(${clockDate(clock)}::timestamptz, updated_at), version = version + 1
        WHERE id = ${ref.id}`);
    return labels;
  });
}
