import { type Db, timeSql } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { statesEndingIn } from "../domain/states.ts";

/**
 * The earliest time after `after` a timed state ends in stopped (Unix ms), or null: the next
 * time the reaper may start counting a server's idle time from, which a catch-up must stop at.
 */
export async function nextStopDue(db: Db, after: Date): Promise<number | null> {
  const states = statesEndingIn("stopped");
  const [row] = (
    await db.execute<{ due: string | null }>(sql`
      SELECT to_json(min(due_at)) #>> '{}' AS due FROM lifecycle.servers
      WHERE state IN (${sql.join(
        states.map((s) => sql`${s}`),
        sql`, `,
      )}) AND due_at > ${timeSql(after)}`)
  ).rows;
  return row?.due ? Date.parse(row.due) : null;
}
