import {
  type Actor,
  AppError,
  type Clock,
  clockDate,
  currentDeadline,
  currentTraceId,
  type Db,
  notFound,
  outboxRow,
  type ServerAction,
  type ServerState,
} from "@cloudsim/shared";
import { and, eq, sql } from "drizzle-orm";
import type { QuotaDefaults } from "../domain/quota.ts";
import type { ServerRow } from "../domain/server-view.ts";
import { partialStateChangedEvent } from "../domain/state-change-events.ts";
import { actionRule, applyAction, delayOf, type StateDelays } from "../domain/states.ts";
import { servers } from "./schema.ts";
import { fromReturned, ofTenant, type ReturnedServer, returnedServer } from "./server-rows.ts";
import { quotaRefusal, setQuotaAndDeadlineSettings } from "./usage-trigger.ts";

export interface ActionOptions {
  /** Only a server of this tenant (null: any). */
  tenantId: string | null;
  quota: QuotaDefaults;
  actor: Actor;
  requestId: string;
  delays: StateDelays;
  failPending: boolean;
  expectedState?: ServerState | undefined;
  unchangedSince?: string | undefined;
  reason?: string | undefined;
  /** The time of the change, its due time, log entry and event: read once per write. */
  clock: Clock;
}

/** The caller's view of the server must still hold (the reaper acts on what it last saw). */
function checkExpectations(state: ServerState, updatedAt: Date, opts: ActionOptions) {
  const changed =
    (opts.expectedState !== undefined && state !== opts.expectedState) ||
    // Event times carry milliseconds, as Date does; the row's extra microseconds are dropped.
    (opts.unchangedSince !== undefined && updatedAt.getTime() > Date.parse(opts.unchangedSince));
  if (changed) {
    throw new AppError("CONFLICT", `the server changed: it is ${state} since ${updatedAt.toISOString()}`, {
      state,
      changed_at: updatedAt.toISOString(),
    });
  }
}

/**
 * The fields of EventOfRow (domain/state-change-events.ts), from the row of the CTE `server` a statement
 * wrote (with the state it found as from_state): the same as stateChangedEvent fills in from a read row.
 */
const eventOfRow =
  sql.raw(`jsonb_build_object('tenant_id', server.tenant_id, 'occurred_at', server.updated_at,
  'from_state', server.from_state, 'server', jsonb_build_object('region', server.region, 'type', server.type,
  'ip_address', server.ip_address, 'tags', server.tags))`);

/**
 * When a change to a servers row happens: the clock's time `at`, or the row's last change when
 * that is later, so a row's times never go back (`at` is read before the statement waits for a
 * connection, and a change to the row can commit in that wait). In an UPDATE's SET.
 */
const changedAt = (at: Date) => sql`greatest(${at}::timestamptz, updated_at)`;

/**
 * Moves a server into the timed state of `action`, with its log entry and event, in one statement
 * that changes the row only from a state the action is allowed from. When it changes nothing, a
 * read says why (NOT_FOUND, CONFLICT) or finds the action allowed after all: then the write is
 * retried, pinned to the version read. Of two conflicting actions exactly one wins; a start also
 * needs room in its tenant's max_vcpus (the usage trigger).
 */
export async function performAction(
  db: Db,
  id: string,
  action: ServerAction,
  opts: ActionOptions,
): Promise<ServerRow> {
  // What the caller expects is checked on a read, so then even the first write is pinned.
  const expects = opts.expectedState !== undefined || opts.unchangedSince !== undefined;
  let pinned = expects ? await pinIfAllowed(db, id, action, opts) : undefined;
  for (;;) {
    const written = await writeAction(db, id, action, opts, pinned);
    if (written) return written;
    pinned = await pinIfAllowed(db, id, action, opts);
  }
}

/** The server's state and version, once the action is found allowed in it (NOT_FOUND, CONFLICT otherwise). */
async function pinIfAllowed(db: Db, id: string, action: ServerAction, opts: ActionOptions) {
  const [current] = await db
    .select({ state: servers.state, updatedAt: servers.updatedAt, version: servers.version })
    .from(servers)
    .where(and(eq(servers.id, id), ...ofTenant(opts.tenantId)));
  if (!current) throw notFound("server", id);
  const state = current.state as ServerState;
  checkExpectations(state, current.updatedAt, opts);
  applyAction(state, action);
  return { state, version: current.version };
}

/** The action's write, unless the server is in no state it is allowed from (or no longer as `pinned`). */
async function writeAction(
  db: Db,
  id: string,
  action: ServerAction,
  opts: ActionOptions,
  pinned: { state: ServerState; version: number } | undefined,
): Promise<ServerRow | undefined> {
  const rule = actionRule(action);
  const from = pinned ? [pinned.state] : rule.from;
  const version = pinned?.version ?? null;
  const to = rule.via;
  const event = partialStateChangedEvent(id, { to, actor: opts.actor, requestId: opts.requestId });
  const published = outboxRow(event);
  const message = `${opts.reason ? `${opts.reason}: ` : ""}${action} requested: `;
  // The clock's time, once for the statement: of updated_at, the due time, the log's and the event's time.
  const at = clockDate(opts.clock);
  try {
    const [written] = (
      await db.execute<ReturnedServer>(sql`
        WITH limits AS (${setQuotaAndDeadlineSettings(opts.quota, currentDeadline())}), prior AS (
          SELECT id AS prior_id, state AS from_state, version AS prior_version FROM lifecycle.servers
          WHERE id = ${id} AND state = ANY(${sql.param(from)}::text[])
            AND (${opts.tenantId}::text IS NULL OR tenant_id = ${opts.tenantId})
            AND (${version}::int IS NULL OR version = ${version})
        ), server AS (
          UPDATE lifecycle.servers
          SET state = ${to}, due_at = ${changedAt(at)} + make_interval(secs => ${(delayOf(to, opts.delays) ?? 0) / 1000}),
            pending_request_id = ${opts.requestId}, fail_pending = ${opts.failPending},
            updated_at = ${changedAt(at)}, version = version + 1
          FROM limits, prior WHERE id = prior_id AND version = prior_version
          RETURNING ${returnedServer}, from_state, updated_at AS changed_at
        ), log AS (
          INSERT INTO lifecycle.server_events (server_id, at, type, message, from_state, to_state, actor, request_id, trace_id)
          SELECT id, changed_at, 'state.changed', ${message}::text || from_state || ' → ' || state, from_state, state,
                 ${opts.actor}, ${opts.requestId}, ${currentTraceId()}
          FROM server
        ), published AS (
          INSERT INTO lifecycle.outbox (event_id, subject, ordering_key, payload, request_id, traceparent)
          SELECT ${published.eventId}, ${published.subject}, ${published.orderingKey},
                 ${JSON.stringify(published.payload)}::jsonb || ${eventOfRow}, ${published.requestId}, ${published.traceparent}
          FROM server
        )
        SELECT * FROM server`)
    ).rows;
    return written && fromReturned(written);
  } catch (err) {
    throw quotaRefusal(err) ?? err;
  }
}
