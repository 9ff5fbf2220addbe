import {
  AppError,
  type Bus,
  type Clock,
  type Db,
  type HandlerMetrics,
  lifecycle,
  notFound,
  type ReplyOf,
} from "@cloudsim/shared";
import { type LifecycleConfig, quotaDefaults } from "./config.ts";
import { abandonServer } from "./db/insert-servers.ts";
import { InstanceRepository } from "./db/instances.ts";
import { performAction } from "./db/server-actions.ts";
import { labelServer } from "./db/server-labels.ts";
import { getServer, listLog, listServers, provisionContextReader } from "./db/server-reads.ts";
import { renameServer } from "./db/server-rename.ts";
import { decodeCursor, encodeCursor, isSequence, isServerKey, isUuid } from "./domain/cursor.ts";
import { toServer } from "./domain/server-view.ts";
import { serveInstances } from "./instances.ts";
import { launchCatalogue } from "./launch.ts";
import { launcher } from "./launcher.ts";
import { provisioner } from "./provision.ts";

/**
 * lifecycle's server commands (REST and, through serveInstances, EC2): provision, read, act, list,
 * logs. Every time they write or show (created_at, updated_at, due times, uptime) is `clock`'s.
 */
export function serveLifecycle(
  bus: Bus,
  db: Db,
  config: LifecycleConfig,
  metrics: HandlerMetrics,
  clock: Clock,
) {
  const quota = quotaDefaults(config);
  const catalogue = launchCatalogue(config.IMAGES);
  const launch = launcher(bus, db, quota, clock);
  const provisionContext = provisionContextReader(db);
  const provision = provisioner(bus, db, provisionContext, config, catalogue, launch, clock);
  serveInstances(
    bus,
    { db, provisionContext, instances: new InstanceRepository(db, clock) },
    { config, metrics, catalogue, launcher: launch, clock },
  );
  bus.serve(lifecycle.provision, provision, metrics);

  bus.serve(
    lifecycle.get,
    async ({ id, tenant_id }) => {
      const row = isServerKey(id) ? await getServer(db, id, tenant_id) : undefined;
      if (!row) throw notFound("server", id);
      return toServer(row, clock.now());
    },
    metrics,
  );

  bus.serve(
    lifecycle.label,
    async ({ id, tenant_id, replace, add, remove }) => {
      if (!isUuid(id)) throw notFound("server", id);
      return { labels: await labelServer(db, clock, { id, tenantId: tenant_id }, { replace, add, remove }) };
    },
    metrics,
  );

  bus.serve(
    lifecycle.rename,
    async ({ id, tenant_id, name }) => {
      if (!isUuid(id)) throw notFound("server", id);
      return toServer(await renameServer(db, clock, { id, tenantId: tenant_id }, name), clock.now());
    },
    metrics,
  );

  bus.serve(lifecycle.abandon, async ({ id }) => ({ outcome: await abandonServer(db, id, clock) }), metrics);

  bus.serve(
    lifecycle.action,
    async (
      { id, tenant_id, action, actor, simulate_failure, expected_state, unchanged_since, reason },
      ctx,
    ) => {
      if (simulate_failure && simulate_failure !== action) {
        throw new AppError(
          "VALIDATION",
          `X-Simulate-Failure: ${simulate_failure} does not apply to action ${action}`,
          {
            fields: [
              { field: "x-simulate-failure", in: "headers", message: `must name the action (${action})` },
            ],
          },
        );
      }
      // A UUID goes straight to the action, which checks the tenant itself.
      const serverId = isUuid(id) ? id : await resolveId(db, id, tenant_id);
      const row = await performAction(db, serverId, action, {
        tenantId: tenant_id,
        quota,
        actor,
        requestId: ctx.requestId,
        delays: config,
        failPending: simulate_failure === action,
        expectedState: expected_state,
        unchangedSince: unchanged_since,
        reason,
        clock,
      });
      ctx.log.info({ server_id: serverId, action, state: row.state }, "action accepted");
      return toServer(row, clock.now());
    },
    metrics,
  );

  bus.serve(
    lifecycle.list,
    async ({ limit, cursor, ...filter }) => {
      const before = cursor === undefined ? undefined : decodeCursor(cursor, isUuid);
      const rows = await listServers(db, filter, before, limit + 1);
      const page = rows.slice(0, limit);
      const now = clock.now();
      return {
        items: page.map((row) => toServer(row, now)),
        next_cursor: rows.length > limit ? encodeCursor(page[page.length - 1]?.id ?? "") : null,
      };
    },
    metrics,
  );

  bus.serve(
    lifecycle.logs,
    async ({ id, tenant_id, limit, cursor }) => {
      const serverId = await resolveId(db, id, tenant_id);
      const before = cursor === undefined ? undefined : Number(decodeCursor(cursor, isSequence));
      const rows = await listLog(db, serverId, before, limit + 1);
      const page = rows.slice(0, limit);
      return {
        items: page.map((e) => ({
          id: String(e.id),
          at: e.at.toISOString(),
          type: e.type,
          message: e.message,
          from_state: e.fromState,
          to_state: e.toState,
          actor: e.actor,
          request_id: e.requestId,
          trace_id: e.traceId,
        })) as ReplyOf<typeof lifecycle.logs>["items"],
        next_cursor: rows.length > limit ? encodeCursor(String(page[page.length - 1]?.id)) : null,
      };
    },
    metrics,
  );
}

/** A server's UUID from its UUID or its instance id, once it is known to be the tenant's. */
async function resolveId(db: Db, id: string, tenantId: string | null): Promise<string> {
  const row = isServerKey(id) ? await getServer(db, id, tenantId) : undefined;
  if (!row) throw notFound("server", id);
  return row.id;
}
