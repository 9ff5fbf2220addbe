import { type Clock, clockDate, type Db, outboxInserter, type VolumeState } from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { outbox } from "../db/schema.ts";
import { type AttachmentState, dueMove, type VolumeDelays } from "../domain/volume-states.ts";
import { type EventVolume, volumeStateChanged } from "./events.ts";

interface DueRow extends EventVolume, Record<string, unknown> {
  state: VolumeState;
  attachment_state: AttachmentState | null;
  instance_ended: boolean;
  delete_on_termination: boolean;
  pending_request_id: string | null;
  /** RFC 3339. */
  due_at: string;
}

const insertOutbox = outboxInserter(outbox);

/**
 * Ends every volume's timed state that is due, in one transaction, as completeDueTransitions does
 * for servers: claims up to `batch` with FOR UPDATE SKIP LOCKED (replicas never take the same
 * one), moves each at its due time (domain/volume-states.ts), and writes an event for each change
 * of state. Returns how many moved.
 */
export async function completeDueVolumeTransitions(
  db: Db,
  batch: number,
  clock: Clock,
  delays: VolumeDelays,
): Promise<number> {
  const [probe] = (
    await db.execute<{ due: boolean }>(
      sql`SELECT EXISTS (SELECT 1 FROM lifecycle.volumes WHERE due_at <= ${clockDate(clock)}::timestamptz) AS due`,
    )
  ).rows;
  if (!probe?.due) return 0;
  return db.transaction(async (tx) => {
    const due = (
      await tx.execute<DueRow>(sql`
        SELECT id, volume_id, tenant_id, region, size_gib, type, state, attachment_state, instance_ended,
               delete_on_termination, pending_request_id, to_json(due_at) #>> '{}' AS due_at
        FROM lifecycle.volumes WHERE due_at <= ${clockDate(clock)}::timestamptz
        ORDER BY due_at LIMIT ${batch} FOR UPDATE SKIP LOCKED`)
    ).rows;
    if (due.length === 0) return 0;
    const moves = due.map((row) => {
      const at = new Date(row.due_at);
      const move = dueMove({
        state: row.state,
        attachment: row.attachment_state,
        instanceEnded: row.instance_ended,
        deleteOnTermination: row.delete_on_termination,
      });
      const next = move.delay === null ? null : new Date(at.getTime() + delays[move.delay]);
      return { row, at, move, next };
    });
    const events = moves
      .filter(({ row, move }) => move.state !== row.state)
      .map(({ row, at, move }) =>
        volumeStateChanged(row, { from: row.state, to: move.state, at, requestId: row.pending_request_id }),
      );
    await tx.execute(sql`
      WITH moved AS (
        UPDATE lifecycle.volumes AS v
        SET state = m.state, attachment_state = m.attachment, updated_at = m.at, due_at = m.next,
            instance_ended = false,
            pending_request_id = CASE WHEN m.next IS NULL THEN NULL ELSE v.pending_request_id END,
            server_id = CASE WHEN m.attachment IS NULL THEN NULL ELSE v.server_id END,
            device = CASE WHEN m.attachment IS NULL THEN NULL ELSE v.device END,
            attach_time = CASE WHEN m.attachment IS NULL THEN NULL ELSE v.attach_time END,
            delete_on_termination = CASE WHEN m.attachment IS NULL THEN false ELSE v.delete_on_termination END
        FROM jsonb_to_recordset(${JSON.stringify(
          moves.map(({ row, at, move, next }) => ({
            id: row.id,
            state: move.state,
            attachment: move.attachment,
            at,
            next,
          })),
        )}::jsonb) AS m(id uuid, state text, attachment text, at timestamptz, next timestamptz)
        WHERE v.id = m.id
      ), published AS (${events.length ? insertOutbox(events) : sql`SELECT 1`})
      SELECT 1`);
    return due.length;
  });
}
