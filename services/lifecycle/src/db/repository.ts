import {
  type Actor,
  AppError,
  type Db,
  type InstanceTypeName,
  instanceSpec,
  notFound,
  type OutboxEvent,
  outboxRow,
  type ServerAction,
  type ServerState,
} from "@cloudsim/shared";
import { and, desc, eq, ne, type SQL, sql } from "drizzle-orm";
import { stateChanged } from "../domain/events.ts";
import type { ServerRow } from "../domain/server-view.ts";
import { applyAction, completionOf, delayOf, type StateDelays } from "../domain/states.ts";
import { idempotencyKeys, outbox, serverEvents, servers, tenants } from "./schema.ts";

type Tx = Parameters<Parameters<Db["transaction"]>[0]>[0];

/** The configured limits of a tenant that has none of its own. */
export interface QuotaDefaults {
  maxServers: number;
  maxVcpus: number;
}

/** States whose vCPUs count against max_vcpus: on their way to running, or running. */
const vcpuStates = new Set(["provisioning", "starting", "running", "rebooting", "stopping"]);

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
  delayMs: number;
  failPending: boolean;
  requestId: string;
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

const serverColumns = {
  id: servers.id,
  tenantId: servers.tenantId,
  name: servers.name,
  region: servers.region,
  type: servers.type,
  state: servers.state,
  ipAddress: sql<string | null>`host(${servers.ipAddress})`.as("ip_address"),
  tags: servers.tags,
  createdAt: servers.createdAt,
  updatedAt: servers.updatedAt,
  runningSince: servers.runningSince,
};

const afterSeconds = (ms: number) => sql`now() + make_interval(secs => ${ms / 1000})`;

/** lifecycle's own tables, and nothing else. */
export class LifecycleRepository {
  constructor(private readonly db: Db) {}

  get database(): Db {
    return this.db;
  }

  /**
   * A tenant's usage against its limits; with `lock` the tenant row is held FOR UPDATE until the
   * transaction ends, so concurrent provisions and starts of one tenant check one at a time.
   * Throws QUOTA_EXCEEDED when adding `add` would pass a limit.
   */
  async checkQuota(
    db: Db | Tx,
    tenantId: string,
    add: { servers: number; vcpus: number },
    defaults: QuotaDefaults,
    lock: boolean,
    /** A server this transaction just wrote, counted as `add` rather than as usage. */
    excludeId?: string,
  ): Promise<void> {
    const query = db
      .select({ maxServers: tenants.maxServers, maxVcpus: tenants.maxVcpus })
      .from(tenants)
      .where(eq(tenants.id, tenantId));
    const [tenant] = lock ? await query.for("update") : await query;
    if (!tenant)
      throw new AppError("NOT_FOUND", `tenant ${tenantId} does not exist`, { tenant_id: tenantId });
    const rows = await db
      .select({ type: servers.type, state: servers.state, n: sql<number>`count(*)::int` })
      .from(servers)
      .where(
        and(
          eq(servers.tenantId, tenantId),
          ne(servers.state, "terminated"),
          ...(excludeId ? [ne(servers.id, excludeId)] : []),
        ),
      )
      .groupBy(servers.type, servers.state);
    let count = 0;
    let vcpus = 0;
    for (const r of rows) {
      count += r.n;
      if (vcpuStates.has(r.state)) vcpus += r.n * instanceSpec(r.type as InstanceTypeName).vcpus;
    }
    const maxServers = tenant.maxServers ?? defaults.maxServers;
    const maxVcpus = tenant.maxVcpus ?? defaults.maxVcpus;
    const over = (quota: string, limit: number, usage: number, requested: number) =>
      new AppError("QUOTA_EXCEEDED", `${quota} quota exceeded: ${usage} in use + ${requested} > ${limit}`, {
        tenant_id: tenantId,
        quota,
        limit,
        usage,
        requested,
      });
    if (add.servers > 0 && count + add.servers > maxServers)
      throw over("max_servers", maxServers, count, add.servers);
    if (add.vcpus > 0 && vcpus + add.vcpus > maxVcpus) throw over("max_vcpus", maxVcpus, vcpus, add.vcpus);
  }

  async findIdempotencyKey(key: string) {
    const rows = await this.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
    return rows[0];
  }

  /** Stores a new server in provisioning, its first log entries, its event and its idempotency key, at once. */
  async insertServer(
    server: NewServer,
    log: NewLogEntry[],
    idempotency: { key: string; requestHash: string } | undefined,
    quota: QuotaDefaults,
  ): Promise<ServerRow> {
    return this.db.transaction(async (tx) => {
      const [row] = (await tx
        .insert(servers)
        .values({
          id: server.id,
          tenantId: server.tenantId,
          name: server.name,
          region: server.region,
          type: server.type,
          state: "provisioning",
          ipAddress: server.ipAddress,
          tags: server.tags,
          dueAt: afterSeconds(server.delayMs),
          pendingRequestId: server.requestId,
          failPending: server.failPending,
        })
        .returning(serverColumns)) as ServerRow[];
      if (!row) throw new Error("insert returned no row");
      await tx.insert(serverEvents).values(log.map((entry) => ({ ...entry, serverId: server.id })));
      const event = stateChanged(row, {
        from: null,
        to: "provisioning",
        actor: "user",
        requestId: server.requestId,
        at: row.updatedAt,
      });
      await tx.insert(outbox).values(outboxRow(event));
      if (idempotency) await tx.insert(idempotencyKeys).values({ ...idempotency, serverId: server.id });
      // Last, so the tenant's lock is held only for the count and the commit: provisions of one
      // tenant take turns here, and each counts what the ones before it committed.
      const vcpus = instanceSpec(server.type as InstanceTypeName).vcpus;
      await this.checkQuota(tx, server.tenantId, { servers: 1, vcpus }, quota, true, server.id);
      return row;
    });
  }

  /**
   * Moves a server into the timed state of `action`. The row lock makes concurrent actions on
   * one server take turns; each sees the state the previous one left, so exactly one of two
   * conflicting actions wins and the other is a CONFLICT.
   */
  async performAction(id: string, action: ServerAction, opts: ActionOptions): Promise<ServerRow> {
    return this.db.transaction(async (tx) => {
      const [current] = await tx
        .select({
          state: servers.state,
          updatedAt: servers.updatedAt,
          tenantId: servers.tenantId,
          type: servers.type,
        })
        .from(servers)
        .where(and(eq(servers.id, id), ...ofTenant(opts.tenantId)))
        .for("update");
      if (!current) throw notFound("server", id);
      const from = current.state as ServerState;
      checkExpectations(from, current.updatedAt, opts);
      const to = applyAction(from, action);
      // Starting adds the server's vCPUs to its tenant's running total (server row, then tenant row: one order).
      if (action === "start") {
        const vcpus = instanceSpec(current.type as InstanceTypeName).vcpus;
        await this.checkQuota(tx, current.tenantId, { servers: 0, vcpus }, opts.quota, true);
      }
      const [row] = (await tx
        .update(servers)
        .set({
          state: to,
          dueAt: afterSeconds(delayOf(to, opts.delays) ?? 0),
          pendingRequestId: opts.requestId,
          failPending: opts.failPending,
          updatedAt: sql`now()`,
          version: sql`${servers.version} + 1`,
        })
        .where(eq(servers.id, id))
        .returning(serverColumns)) as ServerRow[];
      if (!row) throw new AppError("INTERNAL", `server ${id} vanished under its lock`);
      await tx.insert(serverEvents).values({
        serverId: id,
        type: "state.changed",
        message: `${opts.reason ? `${opts.reason}: ` : ""}${action} requested: ${from} → ${to}`,
        fromState: from,
        toState: to,
        actor: opts.actor,
        requestId: opts.requestId,
      });
      await tx
        .insert(outbox)
        .values(
          outboxRow(
            stateChanged(row, { from, to, actor: opts.actor, requestId: opts.requestId, at: row.updatedAt }),
          ),
        );
      return row;
    });
  }

  /** The server, when it belongs to `tenantId` (null: any tenant). */
  async getServer(id: string, tenantId: string | null): Promise<ServerRow | undefined> {
    const rows = await this.db
      .select(serverColumns)
      .from(servers)
      .where(and(eq(servers.id, id), ...ofTenant(tenantId)));
    return rows[0] as ServerRow | undefined;
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
    const rows = await this.db
      .select(serverColumns)
      .from(servers)
      .where(and(...where))
      .orderBy(desc(servers.id))
      .limit(limit);
    return rows as ServerRow[];
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

  /** A log entry written from another service's event; the same event never writes twice. */
  async addLogEntryFromEvent(
    serverId: string,
    entry: NewLogEntry & { eventId: string; at: Date },
  ): Promise<void> {
    const exists = await this.db.select({ id: servers.id }).from(servers).where(eq(servers.id, serverId));
    if (exists.length === 0) return;
    await this.db
      .insert(serverEvents)
      .values({ ...entry, serverId })
      .onConflictDoNothing({ target: serverEvents.eventId });
  }

  /**
   * Ends every timed state that is due, in one transaction: claims up to `batch` servers with
   * FOR UPDATE SKIP LOCKED (so replicas never take the same one), moves each to its next state
   * (or to error when a failure was asked for), logs it and writes its event. Returns how many.
   */
  async completeDueTransitions(batch: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const due = await tx
        .select({
          id: servers.id,
          tenantId: servers.tenantId,
          state: servers.state,
          region: servers.region,
          type: servers.type,
          ipAddress: serverColumns.ipAddress,
          tags: servers.tags,
          requestId: servers.pendingRequestId,
          failPending: servers.failPending,
        })
        .from(servers)
        .where(sql`${servers.dueAt} <= now()`)
        .orderBy(servers.dueAt)
        .limit(batch)
        .for("update", { skipLocked: true });
      if (due.length === 0) return 0;
      const moves = due.map((server) => {
        const from = server.state as ServerState;
        const completion = completionOf(from);
        const to: ServerState = server.failPending || !completion ? "error" : completion.next;
        const work = completion?.work ?? from;
        const message = `${work} ${server.failPending ? "failed (simulated)" : "finished"}: ${from} → ${to}`;
        return { server, from, to, message };
      });
      const [moved] = (
        await tx.execute<{ at: Date }>(sql`
          UPDATE lifecycle.servers AS s
          SET state = t.to_state, due_at = NULL, pending_request_id = NULL, fail_pending = false,
              updated_at = now(), version = s.version + 1,
              running_since = CASE WHEN t.to_state = 'running' THEN now() ELSE s.running_since END,
              -- A server that ended holds no address: ipam takes it back on this event.
              ip_address = CASE WHEN t.to_state IN ('terminated', 'error') THEN NULL ELSE s.ip_address END
          FROM jsonb_to_recordset(${JSON.stringify(moves.map((m) => ({ id: m.server.id, to_state: m.to })))}::jsonb)
            AS t(id uuid, to_state text)
          WHERE s.id = t.id
          RETURNING now() AS at`)
      ).rows;
      const at = new Date(moved?.at ?? Date.now());
      await tx.insert(serverEvents).values(
        moves.map((m) => ({
          serverId: m.server.id,
          type: "state.changed",
          message: m.message,
          fromState: m.from,
          toState: m.to,
          actor: "system" as const,
          requestId: m.server.requestId,
          at,
        })),
      );
      const events: OutboxEvent[] = moves.map((m) =>
        stateChanged(m.server, {
          from: m.from,
          to: m.to,
          actor: "system",
          requestId: m.server.requestId,
          at,
        }),
      );
      await tx.insert(outbox).values(events.map(outboxRow));
      return due.length;
    });
  }
}
