import type { Actor, Db, ServerState } from "@cloudsim/shared";
import { and, desc, eq, type SQL, sql } from "drizzle-orm";
import type { ServerRow } from "../domain/server-view.ts";
import { completionOf } from "../domain/states.ts";
import { idempotencyKeys, serverEvents, servers } from "./schema.ts";

export type NewLogEntry = {
  type: string;
  message: string;
  fromState?: ServerState | null;
  toState?: ServerState | null;
  actor: Actor;
  requestId?: string | null;
  traceId?: string | null;
};

export interface NewServer {
  id: string;
  name: string;
  region: string;
  type: string;
  ipAddress: string;
  tags: Record<string, string>;
  state: ServerState;
  delayMs: number;
  requestId: string;
}

export interface ServerFilter {
  region?: string | undefined;
  type?: string | undefined;
  state?: string | undefined;
}

const serverColumns = {
  id: servers.id,
  name: servers.name,
  region: servers.region,
  type: servers.type,
  state: servers.state,
  ipAddress: sql<string | null>`host(${servers.ipAddress})`,
  tags: servers.tags,
  createdAt: servers.createdAt,
  updatedAt: servers.updatedAt,
  runningSince: servers.runningSince,
};

/** lifecycle's own tables, and nothing else. */
export class LifecycleRepository {
  constructor(private readonly db: Db) {}

  async findIdempotencyKey(key: string) {
    const rows = await this.db.select().from(idempotencyKeys).where(eq(idempotencyKeys.key, key));
    return rows[0];
  }

  /** Stores a new server in its first timed state, its first log entries and its idempotency key, at once. */
  async insertServer(
    server: NewServer,
    log: NewLogEntry[],
    idempotency?: { key: string; requestHash: string },
  ): Promise<ServerRow> {
    return this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(servers)
        .values({
          id: server.id,
          name: server.name,
          region: server.region,
          type: server.type,
          state: server.state,
          ipAddress: server.ipAddress,
          tags: server.tags,
          dueAt: sql`now() + make_interval(secs => ${server.delayMs / 1000})`,
          pendingRequestId: server.requestId,
        })
        .returning(serverColumns);
      await tx.insert(serverEvents).values(log.map((entry) => ({ ...entry, serverId: server.id })));
      if (idempotency) await tx.insert(idempotencyKeys).values({ ...idempotency, serverId: server.id });
      return row as ServerRow;
    });
  }

  async getServer(id: string): Promise<ServerRow | undefined> {
    const rows = await this.db.select(serverColumns).from(servers).where(eq(servers.id, id));
    return rows[0] as ServerRow | undefined;
  }

  /** Newest first; `beforeId` is the last id of the previous page. */
  async listServers(filter: ServerFilter, beforeId: string | undefined, limit: number): Promise<ServerRow[]> {
    const where: SQL[] = [];
    if (filter.region) where.push(eq(servers.region, filter.region));
    if (filter.type) where.push(eq(servers.type, filter.type));
    if (filter.state) where.push(eq(servers.state, filter.state));
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

  /**
   * Ends every timed state that is due, in one transaction: claims up to `batch` servers with
   * FOR UPDATE SKIP LOCKED (so replicas never take the same one), moves each to its next state
   * and logs it. Returns how many moved.
   */
  async completeDueTransitions(batch: number): Promise<number> {
    return this.db.transaction(async (tx) => {
      const due = await tx
        .select({ id: servers.id, state: servers.state, requestId: servers.pendingRequestId })
        .from(servers)
        .where(sql`${servers.dueAt} <= now()`)
        .orderBy(servers.dueAt)
        .limit(batch)
        .for("update", { skipLocked: true });
      if (due.length === 0) return 0;
      const log: (NewLogEntry & { serverId: string })[] = [];
      for (const server of due) {
        const from = server.state as ServerState;
        const completion = completionOf(from);
        if (!completion) continue;
        log.push({
          serverId: server.id,
          type: "state.changed",
          message: `${completion.message}: ${from} → ${completion.next}`,
          fromState: from,
          toState: completion.next,
          actor: "system",
          requestId: server.requestId,
        });
      }
      await tx.execute(sql`
        UPDATE lifecycle.servers AS s
        SET state = t.to_state, due_at = NULL, pending_request_id = NULL, updated_at = now(), version = s.version + 1,
            running_since = CASE WHEN t.to_state = 'running' THEN now() ELSE NULL END
        FROM jsonb_to_recordset(${JSON.stringify(log.map((l) => ({ id: l.serverId, to_state: l.toState })))}::jsonb)
          AS t(id uuid, to_state text)
        WHERE s.id = t.id`);
      if (log.length > 0) await tx.insert(serverEvents).values(log);
      return due.length;
    });
  }
}
