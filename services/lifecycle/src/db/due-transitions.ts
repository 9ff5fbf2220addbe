import {
  type Clock,
  clockDate,
  currentTraceId,
  type Db,
  outboxInserter,
  rowInserter,
  type ServerState,
} from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import { stateChangedEvent } from "../domain/state-change-events.ts";
import { completionOf } from "../domain/states.ts";
import { outbox, serverEvents } from "./schema.ts";

/** A server whose timed state is due, as completeDueTransitions reads it. */
interface DueServer extends Record<string, unknown> {
  id: string;
  tenant_id: string;
  state: string;
  region: string;
  type: string;
  ip_address: string | null;
  tags: Record<string, string>;
  pending_request_id: string | null;
  fail_pending: boolean;
  /** RFC 3339. */
  due_at: string;
}

const insertLogEntries = rowInserter(serverEvents, [
  "serverId",
  "type",
  "message",
  "fromState",
  "toState",
  "actor",
  "requestId",
  "traceId",
  "at",
]);

const insertOutbox = outboxInserter(outbox);

/**
 * Ends every timed state that is due, in one transaction: claims up to `batch` servers with
 * FOR UPDATE SKIP LOCKED (so replicas never take the same one), moves each to its next state
 * (or to error when a failure was asked for), logs it and writes its event. Returns how many.
 * Due means due by the clock's time, read once for the transaction. Each move happens at its due
 * time, not when the timer got to it: after a simulated clock jumped, a server provisioned for
 * 5 minutes went running 5 minutes after it was created, whatever the jump (issue 20).
 */
export async function completeDueTransitions(db: Db, batch: number, clock: Clock): Promise<number> {
  // Most rounds find nothing due: then one indexed read is all they cost, not a transaction.
  const [probe] = (
    await db.execute<{ due: boolean }>(
      sql`SELECT EXISTS (SELECT 1 FROM lifecycle.servers WHERE due_at <= ${clockDate(clock)}::timestamptz) AS due`,
    )
  ).rows;
  if (!probe?.due) return 0;
  return db.transaction(async (tx) => {
    const now = clockDate(clock);
    const due = (
      await tx.execute<DueServer>(sql`
        SELECT id, tenant_id, state, region, type, host(ip_address) AS ip_address, tags,
               pending_request_id, fail_pending, to_json(due_at) #>> '{}' AS due_at
        FROM lifecycle.servers WHERE due_at <= ${now}::timestamptz ORDER BY due_at LIMIT ${batch} FOR UPDATE SKIP LOCKED`)
    ).rows;
    if (due.length === 0) return 0;
    const moves = due.map((row) => {
      const from = row.state as ServerState;
      const completion = completionOf(from);
      const to: ServerState = row.fail_pending || !completion ? "error" : completion.next;
      const work = completion?.work ?? from;
      const message = `${work} ${row.fail_pending ? "failed (simulated)" : "finished"}: ${from} → ${to}`;
      const server = {
        id: row.id,
        tenantId: row.tenant_id,
        region: row.region,
        type: row.type,
        ipAddress: row.ip_address,
        tags: row.tags,
      };
      const at = new Date(row.due_at);
      const change = { from, to, actor: "system" as const, requestId: row.pending_request_id, at };
      return { server, change, message };
    });
    // The moves, their log entries and their events: one statement.
    await tx.execute(sql`
      WITH moved AS (
        UPDATE lifecycle.servers AS s
        SET state = t.to_state, due_at = NULL, pending_request_id = NULL, fail_pending = false,
            updated_at = t.at, version = s.version + 1,
            running_since = CASE WHEN t.to_state = 'running' THEN t.at ELSE s.running_since END,
            -- A server that ended holds no address: ipam takes it back on this event.
            ip_address = CASE WHEN t.to_state IN ('terminated', 'error') THEN NULL ELSE s.ip_address END
        FROM jsonb_to_recordset(${JSON.stringify(moves.map((m) => ({ id: m.server.id, to_state: m.change.to, at: m.change.at })))}::jsonb)
          AS t(id uuid, to_state text, at timestamptz)
        WHERE s.id = t.id
      ), log AS (
        ${insertLogEntries(
          moves.map(({ server, change, message }) => ({
            serverId: server.id,
            type: "state.changed",
            message,
            fromState: change.from,
            toState: change.to,
            actor: change.actor,
            requestId: change.requestId,
            traceId: currentTraceId(),
            at: change.at,
          })),
        )}
      ), published AS (
        ${insertOutbox(moves.map(({ server, change }) => stateChangedEvent(server, change)))}
      )
      SELECT 1`);
    return due.length;
  });
}
