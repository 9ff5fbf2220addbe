import {
  AppError,
  type Bus,
  type HandlerContext,
  type HandlerMetrics,
  instanceSpec,
  ipam,
  isUniqueViolation,
  keyRevokedSubject,
  lifecycle,
  notFound,
  type ReplyOf,
  type RequestOf,
  tenantCursor,
  tenants,
  uuidv7,
  withoutDeadline,
} from "@cloudsim/shared";
import type { LifecycleConfig } from "./config.ts";
import type { InstanceRepository } from "./db/instances.ts";
import type { LifecycleRepository } from "./db/repository.ts";
import type { TenantRepository } from "./db/tenants.ts";
import { decodeCursor, encodeCursor, isSequence, isServerKey, isUuid } from "./domain/cursor.ts";
import { requestHash } from "./domain/idempotency.ts";
import { assertWithinQuota, type QuotaDefaults } from "./domain/quota.ts";
import { toServer } from "./domain/server-view.ts";
import { serveInstances } from "./instances.ts";
import {
  type LaunchCatalogue,
  launchCatalogue,
  launchWrite,
  noCapacity,
  reservationIdOf,
  zoneRoom,
} from "./launch.ts";
import { type Launcher, launcher } from "./launcher.ts";

type Provision = typeof lifecycle.provision;

export function serveLifecycle(
  bus: Bus,
  repo: LifecycleRepository,
  config: LifecycleConfig,
  metrics: HandlerMetrics,
  tenantRepo: TenantRepository,
  instanceRepo: InstanceRepository,
) {
  const quota = quotaDefaults(config);
  const catalogue = launchCatalogue(config.IMAGES);
  const launch = launcher(bus, repo, quota);
  const provision = provisioner(bus, repo, config, catalogue, launch);
  serveInstances(
    bus,
    { servers: repo, instances: instanceRepo },
    { config, metrics, catalogue, launcher: launch },
  );
  bus.serve(lifecycle.provision, provision, metrics);
  serveTenants(bus, tenantRepo, metrics);

  bus.serve(
    lifecycle.get,
    async ({ id, tenant_id }) => {
      const row = isServerKey(id) ? await repo.getServer(id, tenant_id) : undefined;
      if (!row) throw notFound("server", id);
      return toServer(row);
    },
    metrics,
  );

  bus.serve(lifecycle.abandon, async ({ id }) => ({ outcome: await repo.abandonServer(id) }), metrics);

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
      const serverId = isUuid(id) ? id : await resolveId(repo, id, tenant_id);
      const row = await repo.performAction(serverId, action, {
        tenantId: tenant_id,
        quota,
        actor,
        requestId: ctx.requestId,
        delays: config,
        failPending: simulate_failure === action,
        expectedState: expected_state,
        unchangedSince: unchanged_since,
        reason,
      });
      ctx.log.info({ server_id: serverId, action, state: row.state }, "action accepted");
      return toServer(row);
    },
    metrics,
  );

  bus.serve(
    lifecycle.list,
    async ({ limit, cursor, ...filter }) => {
      const before = cursor === undefined ? undefined : decodeCursor(cursor, isUuid);
      const rows = await repo.listServers(filter, before, limit + 1);
      const page = rows.slice(0, limit);
      const now = Date.now();
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
      const serverId = await resolveId(repo, id, tenant_id);
      const before = cursor === undefined ? undefined : Number(decodeCursor(cursor, isSequence));
      const rows = await repo.listLog(serverId, before, limit + 1);
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
async function resolveId(repo: LifecycleRepository, id: string, tenantId: string | null): Promise<string> {
  const row = isServerKey(id) ? await repo.getServer(id, tenantId) : undefined;
  if (!row) throw notFound("server", id);
  return row.id;
}

const quotaDefaults = (config: LifecycleConfig): QuotaDefaults => ({
  maxServers: config.TENANT_MAX_SERVERS,
  maxVcpus: config.TENANT_MAX_VCPUS,
});

/** Tenants and API keys, for the gateway (authentication) and the admin routes. */
function serveTenants(bus: Bus, repo: TenantRepository, metrics: HandlerMetrics) {
  bus.serve(tenants.authenticate, ({ key_hash }) => repo.authenticate(key_hash), metrics);
  bus.serve(tenants.create, ({ name }) => repo.create(name), metrics);
  bus.serve(
    tenants.list,
    async ({ limit, cursor }) =>
      tenantCursor.page(await repo.list(limit + 1, cursor && tenantCursor.keyOf(cursor)), limit, (t) => t.id),
    metrics,
  );
  bus.serve(tenants.update, ({ id, ...limits }) => repo.update(id, limits), metrics);
  bus.serve(
    tenants.createKey,
    ({ tenant_id, key_hash, sealed_secret }) => repo.createKey(tenant_id, key_hash, sealed_secret),
    metrics,
  );
  bus.serve(tenants.awsCredentials, ({ key_id }) => repo.awsCredentials(key_id), metrics);
  bus.serve(
    tenants.revokeKey,
    async ({ id }, ctx) => {
      const { keyHash, ...key } = await repo.revokeKey(id);
      // Gateways drop the key from their caches at once; their short TTL covers a lost message.
      bus.nc.publish(bus.prefix + keyRevokedSubject, keyHash);
      ctx.log.info({ key_id: id, tenant_id: key.tenant_id }, "API key revoked");
      return key;
    },
    metrics,
  );
}

/**
 * Provisioning: replay an Idempotency-Key, else take an address from ipam, then store the
 * server, its log and its key in one transaction. When the store fails the address goes back.
 */
function provisioner(
  bus: Bus,
  repo: LifecycleRepository,
  config: LifecycleConfig,
  catalogue: LaunchCatalogue,
  { allocate, store }: Launcher,
) {
  const quota = quotaDefaults(config);
  // Keys are per tenant: stored as <tenant id>:<key> (tenant ids hold no colon).
  const replay = async (
    tenantId: string,
    key: string,
    hash: string,
    previous: { requestHash: string; serverId: string },
  ): Promise<ReplyOf<Provision>> => {
    if (previous.requestHash !== hash) {
      throw new AppError("CONFLICT", "this Idempotency-Key was already used with a different request body", {
        idempotency_key: key,
        server_id: previous.serverId,
      });
    }
    const row = await repo.getServer(previous.serverId, tenantId);
    if (!row) throw notFound("server", previous.serverId);
    return { server: toServer(row), replayed: true };
  };

  return async (
    { tenant_id, server, idempotency_key, simulate_failure }: RequestOf<Provision>,
    ctx: HandlerContext,
  ) => {
    const hash = requestHash(server);
    const storedKey = idempotency_key && `${tenant_id}:${idempotency_key}`;
    const { tenant, previous } = await repo.provisionContext(tenant_id, storedKey);
    if (idempotency_key && previous) return replay(tenant_id, idempotency_key, hash, previous);
    // Checked before an address is taken, and again under the tenant's lock when the server is stored.
    const vcpus = instanceSpec(server.type).vcpus;
    assertWithinQuota(tenant_id, tenant, { servers: 1, vcpus }, quota);
    const placed = catalogue.resolve(server);
    if ((await zoneRoom(repo, placed.zone, config.ZONE_CAPACITY)) < 1)
      throw noCapacity(server.type, placed.zone, server.region, 1, 0);
    const id = uuidv7();
    const address = await allocate({ serverId: id, region: server.region, requestId: ctx.requestId });
    try {
      const launch = {
        id,
        tenantId: tenant_id,
        spec: server,
        placed,
        address,
        reservationId: reservationIdOf(id),
        simulateFailure: simulate_failure === "provision",
        requestId: ctx.requestId,
      };
      const write = launchWrite(
        launch,
        config,
        storedKey ? { key: storedKey, requestHash: hash } : undefined,
      );
      const [row] = await store([write]);
      if (!row) throw new Error("the store returned no row");
      ctx.log.info({ server_id: id, tenant_id, region: server.region, address }, "server provisioned");
      return { server: toServer(row), replayed: false };
    } catch (err) {
      if (err instanceof AppError && err.details.reason === "address_taken") {
        ctx.log.error({ server_id: id, address }, "ipam handed out the address of a live server");
      }
      // ipam releases only what it holds for this server: an address the reservation check gave
      // up, and ipam then handed to another server, stays that server's.
      await withoutDeadline(() => bus.request(ipam.release, { server_id: id }, ctx)).catch((releaseErr) => {
        ctx.log.error(
          { err: releaseErr, server_id: id, address },
          "could not return the address of a failed provision",
        );
      });
      // Two requests with one key raced and the other stored first: answer as a retry would.
      if (storedKey && isUniqueViolation(err, "idempotency_keys_pkey")) {
        const { previous: winner } = await repo.provisionContext(tenant_id, storedKey);
        if (winner) return replay(tenant_id, idempotency_key, hash, winner);
      }
      throw err;
    }
  };
}
