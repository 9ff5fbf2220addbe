import {
  AppError,
  type Clock,
  clockDate,
  currentDeadline,
  currentTraceId,
  type Db,
  type InstanceTypeName,
  instanceSpec,
  isUniqueViolation,
  type lifecycle,
  outboxRow,
  type ReplyOf,
} from "@cloudsim/shared";
import { sql } from "drizzle-orm";
import type { QuotaDefaults } from "../domain/quota.ts";
import type { ServerRow } from "../domain/server-view.ts";
import { stateChangedEvent } from "../domain/state-change-events.ts";
import { insertRootVolumes, type RootVolumeWrite } from "../volumes/root-volumes.ts";
import { logColumns, type NewLogEntry } from "./log-entries.ts";
import { fromReturned, type ReturnedServer, returnedServer } from "./server-rows.ts";
import { quotaRefusal, setQuotaAndDeadlineSettings } from "./usage-trigger.ts";

type AbandonOutcome = ReplyOf<typeof lifecycle.abandon>["outcome"];

/** A new server's columns, and how its provisioning is to go (delay, simulated failure). */
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
  subnetId?: string | undefined;
  vpcId?: string | undefined;
  securityGroups?: { id: string; name: string }[] | undefined;
  userData?: string | undefined;
  disableApiTermination?: boolean | undefined;
  disableApiStop?: boolean | undefined;
  shutdownBehavior?: "stop" | "terminate" | undefined;
  /** Its root volume, stored with it and attached when its provisioning ends. */
  rootVolume: RootVolumeWrite;
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

/**
 * The time an event of buildServerWrite carries until insertServers stores it: the statement
 * sets occurred_at to the row's updated_at (the clock's time of that statement).
 */
const STAMPED_WHEN_STORED = new Date(0);

/** The write of a new server in provisioning, with its event, in the current request's trace and deadline. */
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
    at: STAMPED_WHEN_STORED,
  } as const;
  const event = outboxRow(stateChangedEvent(server, change));
  return { server, log, idempotency, event, traceId: currentTraceId(), deadline: currentDeadline() };
}

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
 * Stores new servers in provisioning with their first log entries, events, idempotency keys and
 * client token, in one statement committed on its own. The usage trigger checks each tenant's
 * quota under its row's lock and refuses the whole statement when one would pass it. The rows
 * come back in the order of `writes`. Every time they hold is the clock's, read once: created_at,
 * updated_at, the due time, the log's, the events' and the keys' and tokens' created_at.
 */
export async function insertServers(
  db: Db,
  writes: readonly ServerWrite[],
  quota: QuotaDefaults,
  clock: Clock,
): Promise<ServerRow[]> {
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
    subnet_id: server.subnetId ?? null,
    vpc_id: server.vpcId ?? null,
    security_groups: server.securityGroups ?? [],
    user_data: server.userData ?? null,
    disable_api_termination: server.disableApiTermination ?? false,
    disable_api_stop: server.disableApiStop ?? false,
    shutdown_behavior: server.shutdownBehavior ?? "stop",
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
  const tokens = writes.flatMap(({ clientToken }) => (clientToken ? [clientTokenColumns(clientToken)] : []));
  const keys = writes.flatMap(({ server, idempotency }) =>
    idempotency
      ? [{ key: idempotency.key, request_hash: idempotency.requestHash, server_id: server.id }]
      : [],
  );
  const at = clockDate(clock);
  try {
    const rows = (
      await db.execute<ReturnedServer>(sql`
        WITH limits AS (${setQuotaAndDeadlineSettings(quota, earliest(writes.map((w) => w.deadline)))}), server AS (
          INSERT INTO lifecycle.servers (id, tenant_id, name, region, type, vcpus, state, ip_address, tags,
                                         created_at, updated_at, due_at, pending_request_id, fail_pending,
                                         reservation_id, image, availability_zone, architecture, key_name, client_token,
                                         subnet_id, vpc_id, security_groups, user_data, disable_api_termination,
                                         disable_api_stop, shutdown_behavior)
          SELECT s.id, s.tenant_id, s.name, s.region, s.type, s.vcpus, 'provisioning', s.ip_address, s.tags,
                 ${at}::timestamptz, ${at}::timestamptz, ${at}::timestamptz + make_interval(secs => s.delay_s),
                 s.pending_request_id, s.fail_pending, s.reservation_id,
                 s.image, s.availability_zone, s.architecture, s.key_name, s.client_token,
                 s.subnet_id, s.vpc_id, s.security_groups, s.user_data, s.disable_api_termination,
                 s.disable_api_stop, s.shutdown_behavior
          FROM limits, ROWS FROM (jsonb_to_recordset(${JSON.stringify(servers)}::jsonb) AS (id uuid, tenant_id text,
            name text, region text, type text, vcpus integer, ip_address inet, tags jsonb, delay_s float8,
            pending_request_id text, fail_pending boolean, reservation_id text, image text,
            availability_zone text, architecture text, key_name text, client_token text, subnet_id text,
            vpc_id text, security_groups jsonb, user_data text, disable_api_termination boolean,
            disable_api_stop boolean, shutdown_behavior text)) WITH ORDINALITY AS s
          ORDER BY s.ordinality
          RETURNING ${returnedServer}
        ), log AS (
          INSERT INTO lifecycle.server_events (server_id, at, type, message, from_state, to_state, actor, request_id, trace_id)
          SELECT e.server_id, ${at}::timestamptz, e.type, e.message, e.from_state, e.to_state, e.actor, e.request_id, e.trace_id
          FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(entries)}::jsonb) AS (server_id uuid, type text,
            message text, from_state text, to_state text, actor text, request_id text, trace_id text)) WITH ORDINALITY AS e
          JOIN server ON server.id = e.server_id
          ORDER BY e.ordinality
        ), published AS (
          -- Stamped with the row's updated_at: the clock's time, as the log's.
          INSERT INTO lifecycle.outbox (event_id, subject, ordering_key, payload, request_id, traceparent)
          SELECT p.event_id, p.subject, p.ordering_key, jsonb_set(p.payload, '{occurred_at}', to_jsonb(server.updated_at)),
                 p.request_id, p.traceparent
          FROM ROWS FROM (jsonb_to_recordset(${JSON.stringify(events)}::jsonb) AS (server_id uuid, event_id uuid,
            subject text, ordering_key text, payload jsonb, request_id text, traceparent text)) WITH ORDINALITY AS p
          JOIN server ON server.id = p.server_id
          ORDER BY p.ordinality
        ), keyed AS (
          INSERT INTO lifecycle.idempotency_keys (key, request_hash, server_id, created_at)
          SELECT k.key, k.request_hash, k.server_id, ${at}::timestamptz
          FROM jsonb_to_recordset(${JSON.stringify(keys)}::jsonb) AS k(key text, request_hash text, server_id uuid)
          JOIN server ON server.id = k.server_id
        ), token AS (
          INSERT INTO lifecycle.client_tokens (tenant_id, region, token, request_hash, reservation_id, created_at)
          SELECT t.tenant_id, t.region, t.token, t.request_hash, t.reservation_id, ${at}::timestamptz
          FROM jsonb_to_recordset(${JSON.stringify(tokens)}::jsonb)
            AS t(tenant_id text, region text, token text, request_hash text, reservation_id text)
        ) ${insertRootVolumes(
          writes.map(({ server }) => ({
            serverId: server.id,
            tenantId: server.tenantId,
            region: server.region,
            volume: server.rootVolume,
            delayMs: server.delayMs,
            requestId: server.requestId,
          })),
        )}
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
 * Gives up a server that is not stored, so that its insert is refused from now on (ipam may
 * then hand its address to another): `abandoned`; `exists` when it is stored; `pending` while
 * its insert is under way. abandon_server (migration 0006) decides without waiting; a tombstone
 * it leaves is then stamped with the clock's time, in its transaction (the row is its own, so
 * that waits for nothing either).
 */
export async function abandonServer(db: Db, id: string, clock: Clock): Promise<AbandonOutcome> {
  return db.transaction(async (tx) => {
    const [row] = (
      await tx.execute<{ outcome: AbandonOutcome }>(sql`SELECT lifecycle.abandon_server(${id}) AS outcome`)
    ).rows;
    if (!row) throw new Error("abandon_server returned no row");
    if (row.outcome === "abandoned") {
      // Only a tombstone this transaction wrote: an earlier one keeps its time.
      await tx.execute(sql`
        UPDATE lifecycle.abandoned_servers SET abandoned_at = ${clockDate(clock)}::timestamptz
        WHERE id = ${id} AND xmin = pg_current_xact_id()::xid`);
    }
    return row.outcome;
  });
}
