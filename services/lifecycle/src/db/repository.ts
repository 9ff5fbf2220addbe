import {
  type Actor,
  AppError,
  currentDeadline,
  currentTraceId,
  type Db,
  type InstanceTypeName,
  instanceSpec,
  isUniqueViolation,
  type lifecycle,
  notFound,
  outboxInserter,
  outboxRow,
  type ReplyOf,
  rowInserter,
  type ServerAction,
  type ServerState,
} from "@cloudsim/shared";
import { and, desc, eq, ne, type SQL, sql } from "drizzle-orm";
import { type QuotaDefaults, quotaExceeded } from "../domain/quota.ts";
import type { ServerRow } from "../domain/server-view.ts";
import { partialStateChangedEvent, stateChangedEvent } from "../domain/state-change-events.ts";
import { actionRule, applyAction, completionOf, delayOf, type StateDelays } from "../domain/states.ts";
import { idempotencyKeys, outbox, serverEvents, servers, tenants } from "./schema.ts";

type AbandonOutcome = ReplyOf<typeof lifecycle.abandon>["outcome"];

/** Every servers row of one tenant (when given) or of all (null). */
const ofTenant = (tenantId: string | null) => (tenantId === null ? [] : [eq(servers.tenantId, tenantId)]);

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

export interface NewServer {
  id: string;
  tenantId: string;
  name: string;
  region: string;
  type: string;
  ipAddress: string;
  tags: Record<string, string>;
  reservationId: string;
  image: string;
  availabilityZone: string;
  architecture: string;
  keyName?: string | undefined;
  clientToken?: string | undefined;
  delayMs: number;
  failPending: boolean;
  requestId: string;
}

/** A RunInstances' ClientToken, stored with the servers it launched. */
export interface ClientTokenWrite {
  tenantId: string;
  region: string;
  token: string;
  requestHash: string;
  reservationId: string;
}

/** A new server and what is stored with it: made while its provision is handled, so it keeps that trace. */
export interface ServerWrite {
  server: NewServer;
  log: NewLogEntry[];
  idempotency: { key: string; requestHash: string } | undefined;
  /** When its request gives up (Unix ms): a store that waits past it keeps nothing. */
  deadline: number | undefined;
  /** A RunInstances' ClientToken, on the first server of its reservation. */
  clientToken?: ClientTokenWrite | undefined;
  event: ReturnType<typeof outboxRow>;
  traceId: string | null;
}

export function buildServerWrite(
  server: NewServer,
  log: NewLogEntry[],
  idempotency: { key: string; requestHash: string } | undefined,
): ServerWrite {
  const change = {
    from: null,
    to: "provisioning",
    actor: "user",
    requestId: server.requestId,
    at: new Date(),
  } as const;
  const event = outboxRow(stateChangedEvent(server, change));
  return { server, log, idempotency, event, traceId: currentTraceId(), deadline: currentDeadline() };
}

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

export interface ServerFilter {
  /** Only this tenant's servers (null: every tenant's). */
  tenant_id: string | null;
  region?: string | undefined;
  type?: string | undefined;
  state?: string | undefined;
  /** `key:value`; every one must match. */
  tag?: string[] | undefined;
}

/** A timestamp as the API and the events show it: ISO 8601 in UTC, cut to the millisecond (as JS Dates are). */
const isoMs = (column: string) => `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;

/** A ServerRow's columns (selects and RETURNING clauses), read with fromReturned. */
const returnedServer = sql.raw(
  `id, instance_id, reservation_id, tenant_id, name, region, type, image, availability_zone, state,
   host(ip_address) AS ip_address, tags, ${isoMs("created_at")} AS created_at, ${isoMs("updated_at")} AS updated_at, ${isoMs("running_since")} AS running_since`,
);

interface ReturnedServer extends Record<string, unknown> {
  id: string;
  instance_id: string;
  reservation_id: string;
  tenant_id: string;
  name: string;
  region: string;
  type: string;
  image: string;
  availability_zone: string;
  state: string;
  ip_address: string | null;
  tags: Record<string, string>;
  created_at: string;
  updated_at: string;
  running_since: string | null;
}

const fromReturned = (r: ReturnedServer): ServerRow => ({
  id: r.id,
  instanceId: r.instance_id,
  reservationId: r.reservation_id,
  tenantId: r.tenant_id,
  name: r.name,
  region: r.region,
  type: r.type,
  image: r.image,
  availabilityZone: r.availability_zone,
  state: r.state,
  ipAddress: r.ip_address,
  tags: r.tags,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
  runningSince: r.running_since,
});

const quotaColumns = {
  maxServers: tenants.maxServers,
  maxVcpus: tenants.maxVcpus,
  serversInUse: tenants.serversInUse,
  vcpusInUse: tenants.vcpusInUse,
};

const clientTokenColumns = (t: ClientTokenWrite) => ({
  tenant_id: t.tenantId,
  region: t.region,
  token: t.token,
  request_hash: t.requestHash,
  reservation_id: t.reservationId,
});

/** The first of some deadlines, if any. */
function earliest(deadlines: readonly (number | undefined)[]): number | undefined {
  const known = deadlines.filter((d): d is number => d !== undefined);
  return known.length ? Math.min(...known) : undefined;
}

/** A log entry as server_events columns, for jsonb_to_recordset. */
const logColumns = (e: NewLogEntry) => ({
  type: e.type,
  message: e.message,
  from_state: e.fromState ?? null,
  to_state: e.toState ?? null,
  actor: e.actor,
  request_id: e.requestId ?? null,
});

/**
 * The configured default limits, for the usage trigger (migration 0005) to check a tenant
 * without its own against; set for this statement's transaction only.
 */
const setQuotaAndDeadlineSettings = (quota: QuotaDefaults, deadline: number | undefined) =>
  sql`SELECT set_config('cloudsim.max_servers', ${String(quota.maxServers)}, true) AS servers_limit,
             set_config('cloudsim.max_vcpus', ${String(quota.maxVcpus)}, true) AS vcpus_limit,
             set_config('cloudsim.deadline', ${deadline === undefined ? "" : String(deadline)}, true) AS deadline`;

/** The SQLSTATE the usage trigger raises when a write would pass a tenant's limit. */
const QUOTA_REFUSED = "CQ001";
/** The SQLSTATE the usage trigger raises when the write's request gave up while it waited (migration 0008). */
const DEADLINE_PASSED = "CD001";

/**
 * A write the usage trigger refused: QUOTA_EXCEEDED (its detail names the quota), or TIMEOUT when
 * it waited for the tenant's row past its request's deadline (nothing is stored then).
 */
function quotaRefusal(err: unknown): AppError | undefined {
  const pgErr = ((err as { cause?: unknown })?.cause ?? err) as { code?: string; detail?: string };
  if (pgErr?.code === DEADLINE_PASSED) {
    return new AppError(
      "TIMEOUT",
      "the request's deadline passed while it waited for its tenant: nothing was stored",
      {
        reason: "deadline",
      },
    );
  }
  if (pgErr?.code !== QUOTA_REFUSED || !pgErr.detail) return undefined;
  return quotaExceeded(JSON.parse(pgErr.detail));
}

/** The SQLSTATE the insert's trigger raises for a server ipam's reservation check gave up (migration 0006). */
const ABANDONED = "CA001";

/**
 * Why an insert of new servers was refused, as the error its provision answers: a quota, a
 * server given up (its address may be another's by now), or an address a live server holds.
 * The last two store nothing, so a retry is safe: UNAVAILABLE. `alone` is the server when the
 * insert was of one, for the answer to name.
 */
function insertRefusal(err: unknown, alone: NewServer | undefined): AppError | undefined {
  const pgErr = ((err as { cause?: unknown })?.cause ?? err) as { code?: string };
  const details = { server_id: alone?.id, address: alone?.ipAddress };
  if (pgErr?.code === ABANDONED) {
    return new AppError(
      "UNAVAILABLE",
      "the provision took longer than IP_CONFIRM_TIMEOUT and its address was given up: nothing was created",
      { reason: "abandoned", ...details },
      { cause: err },
    );
  }
  if (isUniqueViolation(err, "servers_live_address_key")) {
    return new AppError(
      "UNAVAILABLE",
      "the address ipam gave this server is held by another: nothing was created",
      { reason: "address_taken", ...details },
      { cause: err },
    );
  }
  return quotaRefusal(err);
}

/**
 * The fields of EventOfRow (domain/state-change-events.ts), from the row of the CTE `server` a statement
 * wrote (with the state it found as from_state): the same as stateChangedEvent fills in from a read row.
 */
const eventOfRow =
  sql.raw(`jsonb_build_object('tenant_id', server.tenant_id, 'occurred_at', server.updated_at,
  'from_state', server.from_state, 'server', jsonb_build_object('region', server.region, 'type', server.type,
  'ip_address', server.ip_address, 'tags', server.tags))`);

const afterSeconds = (ms: number) => sql`now() + make_interval(secs => ${ms / 1000})`;

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
  at: string;
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

/** lifecycle's own tables, and nothing else. */
export class LifecycleRepository {
  /** The provision's first query, built once (Postgres prepares it once per connection). */
  private readonly provisionContextQuery;

  constructor(private readonly db: Db) {
    this.provisionContextQuery = db
      .select({
        ...quotaColumns,
        previous: { requestHash: idempotencyKeys.requestHash, serverId: idempotencyKeys.serverId },
      })
      .from(tenants)
      .leftJoin(idempotencyKeys, eq(idempotencyKeys.key, sql.placeholder("key")))
      .where(eq(tenants.id, sql.placeholder("tenantId")))
      .prepare("lifecycle_provision_context");
  }

  /**
   * What a provision needs before it takes an address, in one round trip: the tenant's quota
   * and usage, and what an Idempotency-Key (stored as <tenant id>:<key>) already created.
   */
  async provisionContext(tenantId: string, key: string | undefined) {
    const [row] = await this.provisionContextQuery.execute({ tenantId, key: key ?? "" });
    return { tenant: row, previous: row?.previous?.serverId ? row.previous : undefined };
  }

  /**
   * Stores new servers in provisioning, each with its first log entries, its event and its
   * idempotency key, in one statement (one round trip, committed on its own), provided their
   * tenants' quotas still have room: the usage trigger counts them under each tenant row's lock
   * and refuses the whole statement otherwise, so a tenant's provisions take turns only for the
   * trigger and the commit. The rows come back in the order of `writes`.
   */
  async insertServers(writes: readonly ServerWrite[], quota: QuotaDefaults): Promise<ServerRow[]> {
    const servers = writes.map(({ server }) => ({
      id: server.id,
      tenant_id: server.tenantId,
      name: server.name,
      region: server.region,
      type: server.type,
      reservation_id: server.reservationId,
      image: server.image,
      availability_zone: server.availabilityZone,
      architecture: server.architecture,
      key_name: server.keyName ?? null,
      client_token: server.clientToken ?? null,
      vcpus: instanceSpec(server.type as InstanceTypeName).vcpus,
      ip_address: server.ipAddress,
      tags: server.tags,
      delay_s: server.delayMs / 1000,
      pending_request_id: server.requestId,
      fail_pending: server.failPending,
    }));
    const entries = writes.flatMap(({ server, log, traceId }) =>
      log.map((e) => ({ ...logColumns(e), server_id: server.id, trace_id: traceId })),
    );
    const events = writes.map(({ server, event }) => ({
      server_id: server.id,
      event_id: event.eventId,
      subject: event.subject,
      ordering_key: event.orderingKey,
      payload: event.payload,
      request_id: event.requestId,
      traceparent: event.traceparent,
    }));
    const tokens = writes.flatMap(({ clientToken }) =>
      clientToken ? [clientTokenColumns(clientToken)] : [],
    );
    const keys = writes.flatMap(({ server, idempotency }) =>
      idempotency
        ? [{ key: idempotency.key, request_hash: idempotency.requestHash, server_id: server.id }]
        : [],
    );
    try {
      const rows = (
        await this.db.execute<ReturnedServer>(sql`
          WITH limits AS (${setQuotaAndDeadlineSettings(quota, earliest(writes.map((w) => w.deadline)))}), server AS (
            INSERT INTO lifecycle.servers (id, tenant_id, name, region, type, vcpus, state, ip_address, tags,
                                           due_at, pending_request_id, fail_pending, reservation_id, image,
                                           availability_zone, architecture, key_name, client_token)
            SELECT s.id, s.tenant_id, s.name, s.region, s.type, s.vcpus, 'provisioning', s.ip_address, s.tags,
                   now() + make_interval(secs => s.delay_s), s.pending_request_id, s.fail_pending, s.reservation_id,
                   s.image, s.availability_zone, s.architecture, s.key_name, s.client_token
            FROM limits, ROWS FROM (jsonb_to_recordset(${JSON.stringify(servers)}::jsonb) AS (id uuid, tenant_id text,
              name text, region text, type text, vcpus integer, ip_address inet, tags jsonb, delay_s float8,
              pending_request_id text, fail_pending boolean, reservation_id text, image text,
              availability_zone text, architecture text, key_name text, client_token text)) WITH ORDINALITY AS s
            ORDER BY s.ordinality
            RETURNING ${returnedServer}
          ), log AS (
            INSERT INTO lifecycle.server_events (server_id, type, message, from_state, to_state, actor, request_id, trace_id)
            SELECT e.server_id, e.type, e.message, e.from_state, e.to_state, e.actor, e.request_id, e.trace_id
            FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(entries)}::jsonb) AS (server_id uuid, type text,
              message text, from_state text, to_state text, actor text, request_id text, trace_id text)) WITH ORDINALITY AS e
            JOIN server ON server.id = e.server_id
            ORDER BY e.ordinality
          ), published AS (
            -- Stamped with the row's updated_at: Postgres' clock, as the log's.
            INSERT INTO lifecycle.outbox (event_id, subject, ordering_key, payload, request_id, traceparent)
            SELECT p.event_id, p.subject, p.ordering_key, jsonb_set(p.payload, '{occurred_at}', to_jsonb(server.updated_at)),
                   p.request_id, p.traceparent
            FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(events)}::jsonb) AS (server_id uuid, event_id uuid,
              subject text, ordering_key text, payload jsonb, request_id text, traceparent text)) WITH ORDINALITY AS p
            JOIN server ON server.id = p.server_id
            ORDER BY p.ordinality
          ), keyed AS (
            INSERT INTO lifecycle.idempotency_keys (key, request_hash, server_id)
            SELECT k.key, k.request_hash, k.server_id
            FROM jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS k(key text, request_hash text, server_id uuid)
            JOIN server ON server.id = k.server_id
          ), token AS (
            INSERT INTO lifecycle.client_tokens (tenant_id, region, token, request_hash, reservation_id)
            SELECT t.tenant_id, t.region, t.token, t.request_hash, t.reservation_id
            FROM jsonb_to_recordset(${JSON.stringify(tokens)}::jsonb)
              AS t(tenant_id text, region text, token text, request_hash text, reservation_id text)
          )
          SELECT * FROM server`)
      ).rows;
      const byId = new Map(rows.map((row) => [row.id, row]));
      return writes.map(({ server }) => {
        const row = byId.get(server.id.toLowerCase());
        if (!row) throw new Error(`insert returned no row for ${server.id}`);
        return fromReturned(row);
      });
    } catch (err) {
      throw insertRefusal(err, writes.length === 1 ? writes[0]?.server : undefined) ?? err;
    }
  }

  /**
   * Moves a server into the timed state of `action`. One statement decides and writes: it
   * changes the row only while it is in a state the action is allowed from, and writes the log
   * entry and the event naming the state it found. When it changes nothing, a read says why: no
   * such server, or a CONFLICT (the state, or what the caller expected). When the read finds the
   * action allowed after all, another change came between: the write is tried again, pinned to
   * the version read (so the caller's expectations hold for what it changes). Of two
   * conflicting actions exactly one wins. A start also needs room in its tenant's max_vcpus (the
   * usage trigger refuses the statement otherwise).
   */
  async performAction(id: string, action: ServerAction, opts: ActionOptions): Promise<ServerRow> {
    // What the caller expects is checked on a read, so then even the first write is pinned.
    const expects = opts.expectedState !== undefined || opts.unchangedSince !== undefined;
    let pinned = expects ? await this.decide(id, action, opts) : undefined;
    for (;;) {
      const written = await this.writeAction(id, action, opts, pinned);
      if (written) return written;
      pinned = await this.decide(id, action, opts);
    }
  }

  /** The server's state and version, once the action is found allowed in it (NOT_FOUND, CONFLICT otherwise). */
  private async decide(id: string, action: ServerAction, opts: ActionOptions) {
    const [current] = await this.db
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
  private async writeAction(
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
    try {
      const [written] = (
        await this.db.execute<ReturnedServer>(sql`
          WITH limits AS (${setQuotaAndDeadlineSettings(opts.quota, currentDeadline())}), prior AS (
            SELECT id AS prior_id, state AS from_state, version AS prior_version FROM lifecycle.servers
            WHERE id = ${id} AND state = ANY(${sql.param(from)}::text[])
              AND (${opts.tenantId}::text IS NULL OR tenant_id = ${opts.tenantId})
              AND (${version}::int IS NULL OR version = ${version})
          ), server AS (
            UPDATE lifecycle.servers SET state = ${to}, due_at = ${afterSeconds(delayOf(to, opts.delays) ?? 0)},
              pending_request_id = ${opts.requestId}, fail_pending = ${opts.failPending},
              updated_at = now(), version = version + 1
            FROM limits, prior WHERE id = prior_id AND version = prior_version
            RETURNING ${returnedServer}, from_state
          ), log AS (
            INSERT INTO lifecycle.server_events (server_id, type, message, from_state, to_state, actor, request_id, trace_id)
            SELECT id, 'state.changed', ${message}::text || from_state || ' → ' || state, from_state, state,
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

  /** Servers that are neither terminated nor in error in an availability zone. */
  async liveInZone(zone: string): Promise<number> {
    const [row] = (
      await this.db.execute<{ n: number }>(
        sql`SELECT count(*)::int AS n FROM lifecycle.servers
            WHERE availability_zone = ${zone} AND state NOT IN ('terminated', 'error')`,
      )
    ).rows;
    return row?.n ?? 0;
  }

  /** The server (by its id or its instance id), when it belongs to `tenantId` (null: any tenant). */
  async getServer(id: string, tenantId: string | null): Promise<ServerRow | undefined> {
    // Every GET runs this: a plain template, not drizzle's condition builders.
    const key = id.startsWith("i-") ? sql`instance_id = ${id}` : sql`id = ${id}`;
    const [row] = (
      await this.db.execute<ReturnedServer>(
        tenantId === null
          ? sql`SELECT ${returnedServer} FROM lifecycle.servers WHERE ${key}`
          : sql`SELECT ${returnedServer} FROM lifecycle.servers WHERE ${key} AND tenant_id = ${tenantId}`,
      )
    ).rows;
    return row && fromReturned(row);
  }

  /**
   * Gives up a server that is not stored, so that its insert is refused from now on (ipam may
   * then hand its address to another): `abandoned`; `exists` when it is stored; `pending` while
   * its insert is under way. One statement (abandon_server, migration 0006), never waiting.
   */
  async abandonServer(id: string): Promise<AbandonOutcome> {
    const [row] = (
      await this.db.execute<{ outcome: AbandonOutcome }>(
        sql`SELECT lifecycle.abandon_server(${id}) AS outcome`,
      )
    ).rows;
    if (!row) throw new Error("abandon_server returned no row");
    return row.outcome;
  }

  /** Newest first; `beforeId` is the last id of the previous page. Terminated servers only when asked for. */
  async listServers(filter: ServerFilter, beforeId: string | undefined, limit: number): Promise<ServerRow[]> {
    const where: SQL[] = [...ofTenant(filter.tenant_id)];
    if (filter.region) where.push(eq(servers.region, filter.region));
    if (filter.type) where.push(eq(servers.type, filter.type));
    where.push(filter.state ? eq(servers.state, filter.state) : ne(servers.state, "terminated"));
    for (const tag of filter.tag ?? []) {
      const at = tag.indexOf(":");
      where.push(sql`${servers.tags} @> ${JSON.stringify({ [tag.slice(0, at)]: tag.slice(at + 1) })}::jsonb`);
    }
    if (beforeId) where.push(sql`${servers.id} < ${beforeId}`);
    // Raw rows, not drizzle's mapping: a page is 100 rows of 11 columns, and mapping each value
    // was a fifth of lifecycle's CPU on a list.
    const rows = await this.db.execute<ReturnedServer>(sql`
      SELECT ${returnedServer} FROM lifecycle.servers WHERE ${and(...where)} ORDER BY id DESC LIMIT ${limit}`);
    return rows.rows.map(fromReturned);
  }

  /** Newest first; `beforeId` is the last id of the previous page. */
  async listLog(serverId: string, beforeId: number | undefined, limit: number) {
    const where = [eq(serverEvents.serverId, serverId)];
    if (beforeId !== undefined) where.push(sql`${serverEvents.id} < ${beforeId}`);
    return this.db
      .select()
      .from(serverEvents)
      .where(and(...where))
      .orderBy(desc(serverEvents.id))
      .limit(limit);
  }

  /**
   * Entries written from other services' events, in one statement: once per event (the log's
   * unique event_id), in the given order, and only into the logs of servers that exist.
   */
  async addLogEntriesFromEvents(
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
    await this.db.execute(sql`
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

  /**
   * Ends every timed state that is due, in one transaction: claims up to `batch` servers with
   * FOR UPDATE SKIP LOCKED (so replicas never take the same one), moves each to its next state
   * (or to error when a failure was asked for), logs it and writes its event. Returns how many.
   */
  async completeDueTransitions(batch: number): Promise<number> {
    // Most rounds find nothing due: then one indexed read is all they cost, not a transaction.
    const [probe] = (
      await this.db.execute<{ due: boolean }>(
        sql`SELECT EXISTS (SELECT 1 FROM lifecycle.servers WHERE due_at <= now()) AS due`,
      )
    ).rows;
    if (!probe?.due) return 0;
    return this.db.transaction(async (tx) => {
      const due = (
        await tx.execute<DueServer>(sql`
          SELECT id, tenant_id, state, region, type, host(ip_address) AS ip_address, tags,
                 pending_request_id, fail_pending, now() AS at
          FROM lifecycle.servers WHERE due_at <= now() ORDER BY due_at LIMIT ${batch} FOR UPDATE SKIP LOCKED`)
      ).rows;
      if (due.length === 0) return 0;
      // The transaction's time, which every now() of it is: the log's and the events' time.
      const at = new Date(due[0]?.at ?? Date.now());
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
        const change = { from, to, actor: "system" as const, requestId: row.pending_request_id, at };
        return { server, change, message };
      });
      // The moves, their log entries and their events: one statement.
      await tx.execute(sql`
        WITH moved AS (
          UPDATE lifecycle.servers AS s
          SET state = t.to_state, due_at = NULL, pending_request_id = NULL, fail_pending = false,
              updated_at = now(), version = s.version + 1,
              running_since = CASE WHEN t.to_state = 'running' THEN now() ELSE s.running_since END,
              -- A server that ended holds no address: ipam takes it back on this event.
              ip_address = CASE WHEN t.to_state IN ('terminated', 'error') THEN NULL ELSE s.ip_address END
          FROM jsonb_to_recordset(${JSON.stringify(moves.map((m) => ({ id: m.server.id, to_state: m.change.to })))}::jsonb)
            AS t(id uuid, to_state text)
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
              at,
            })),
          )}
        ), published AS (
          ${insertOutbox(moves.map(({ server, change }) => stateChangedEvent(server, change)))}
        )
        SELECT 1`);
      return due.length;
    });
  }
}
