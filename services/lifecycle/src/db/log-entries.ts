import type { Actor, Db, ServerState } from "@cloudsim/shared";
import { sql } from "drizzle-orm";

/** One entry of a server's log, before it is stored. */
export type NewLogEntry = {
  type: string;
  message: string;
  fromState?: ServerState | null;
  toState?: ServerState | null;
  actor: Actor;
  requestId?: string | null;
  traceId?: string | null;
  eventId?: string | null;
};

/** A log entry as server_events columns, for jsonb_to_recordset. */
export const logColumns = (e: NewLogEntry) => ({
  type: e.type,
  message: e.message,
  from_state: e.fromState ?? null,
  to_state: e.toState ?? null,
  actor: e.actor,
  request_id: e.requestId ?? null,
});

/**
 * Stores entries written from other services' events, in one statement: once per event (the
 * log's unique event_id), in the given order, and only into the logs of servers that exist.
 */
export async function addLogEntriesFromEvents(
  db: Db,
  entries: readonly (NewLogEntry & { serverId: string; eventId: string; at: Date })[],
): Promise<void> {
  if (entries.length === 0) return;
  const rows = entries.map((e) => ({
    ...logColumns(e),
    server_id: e.serverId,
    at: e.at,
    trace_id: e.traceId ?? null,
    event_id: e.eventId,
  }));
  await db.execute(sql`
    INSERT INTO lifecycle.server_events
      (server_id, at, type, message, from_state, to_state, actor, request_id, trace_id, event_id)
    SELECT server_id, at, type, message, from_state, to_state, actor, request_id, trace_id, event_id
    FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(rows)}::jsonb) AS (server_id uuid, at timestamptz,
      type text, message text, from_state text, to_state text, actor text, request_id text,
      trace_id text, event_id uuid)) WITH ORDINALITY AS t
    WHERE EXISTS (SELECT 1 FROM lifecycle.servers s WHERE s.id = t.server_id)
    ORDER BY t.ordinality
    ON CONFLICT (event_id) DO NOTHING`);
}
