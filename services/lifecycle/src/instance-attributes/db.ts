import { AppError, type Clock, clockDate, type Db, type InstanceAttributeChange } from "@cloudsim/shared";
import { sql } from "drizzle-orm";

type FlagChange = Exclude<InstanceAttributeChange, { name: "instanceType" }>;

/** Each attribute's column, and the SQL type its value is cast to. */
const columns: Record<FlagChange["name"], { column: string; type: "text" | "boolean" }> = {
  userData: { column: "user_data", type: "text" },
  disableApiTermination: { column: "disable_api_termination", type: "boolean" },
  disableApiStop: { column: "disable_api_stop", type: "boolean" },
  instanceInitiatedShutdownBehavior: { column: "shutdown_behavior", type: "text" },
  sourceDestCheck: { column: "source_dest_check", type: "boolean" },
  ebsOptimized: { column: "ebs_optimized", type: "boolean" },
};

/** The attributes EC2 changes only while an instance is stopped (instanceType's is InstanceRepository.changeType). */
const whileStopped = new Set<FlagChange["name"]>(["userData", "ebsOptimized"]);

export const notStopped = (instanceId: string, state: string) =>
  new AppError("CONFLICT", `The instance '${instanceId}' is not in the 'stopped' state.`, {
    state,
    instance_id: instanceId,
  });

/**
 * Sets one attribute of a server, logged when it changes, at the clock's time (or the row's last
 * change when later); CONFLICT, and nothing changed, for one that changes only while stopped
 * when the server is not.
 */
export async function setInstanceAttribute(
  db: Db,
  clock: Clock,
  serverId: string,
  change: FlagChange,
  requestId: string,
): Promise<void> {
  const { column, type } = columns[change.name];
  const value = change.value === null ? null : String(change.value);
  const stoppedOnly = whileStopped.has(change.name);
  const shown = change.name === "userData" ? "(user data)" : String(change.value);
  const [row] = (
    await db.execute<{ state: string; instance_id: string }>(sql`
      WITH current AS (SELECT id, state, instance_id FROM lifecycle.servers WHERE id = ${serverId} FOR UPDATE),
      changed AS (
        UPDATE lifecycle.servers s
        SET ${sql.raw(column)} = ${value}::${sql.raw(type)},
            updated_at = greatest(${clockDate(clock)}::timestamptz, s.updated_at), version = s.version + 1
        FROM current WHERE s.id = current.id AND (NOT ${stoppedOnly} OR current.state = 'stopped')
          AND s.${sql.raw(column)} IS DISTINCT FROM ${value}::${sql.raw(type)}
        RETURNING s.id, s.updated_at
      ), log AS (
        INSERT INTO lifecycle.server_events (server_id, at, type, message, actor, request_id)
        SELECT id, updated_at, 'attribute.changed', ${`${change.name} set to ${shown}`}, 'user', ${requestId}
        FROM changed
      )
      SELECT state, instance_id FROM current`)
  ).rows;
  if (row && stoppedOnly && row.state !== "stopped") throw notStopped(row.instance_id, row.state);
}

/** The server's user data (base64), null when it has none. */
export async function userDataOf(db: Db, serverId: string): Promise<string | null> {
  const [row] = (
    await db.execute<{ user_data: string | null }>(
      sql`SELECT user_data FROM lifecycle.servers WHERE id = ${serverId}`,
    )
  ).rows;
  return row?.user_data ?? null;
}
