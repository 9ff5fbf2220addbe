import {
  AppError,
  type Bus,
  type Db,
  type HandlerContext,
  type HandlerMetrics,
  instanceSpec,
  instances,
  isUniqueViolation,
  type RequestOf,
  type ServerState,
  uuidv7,
} from "@cloudsim/shared";
import { returnAddress } from "./addresses.ts";
import { type LifecycleConfig, quotaDefaults } from "./config.ts";
import type { InstanceRepository, Visibility } from "./db/instances.ts";
import { performAction } from "./db/server-actions.ts";
import type { ProvisionContextReader } from "./db/server-reads.ts";
import { decodeCursor, encodeCursor } from "./domain/cursor.ts";
import { refusal, verdictOf } from "./domain/ec2-actions.ts";
import { requestHash } from "./domain/idempotency.ts";
import { assertWithinQuota, type QuotaDefaults, type TenantQuota } from "./domain/quota.ts";
import { type LaunchCatalogue, launchWrite, noCapacity, reservationIdOf, zoneRoom } from "./launch.ts";
import type { Launcher } from "./launcher.ts";

/** The most tags an instance holds (EC2's limit, and the REST API's). */
const MAX_TAGS = 50;

/** How many of `wanted` servers the tenant's quota has room for now. */
function room(tenant: TenantQuota | undefined, vcpus: number, quota: QuotaDefaults) {
  if (!tenant) return 0;
  const servers = (tenant.maxServers ?? quota.maxServers) - tenant.serversInUse;
  const cpus = Math.floor(((tenant.maxVcpus ?? quota.maxVcpus) - tenant.vcpusInUse) / vcpus);
  return Math.max(0, Math.min(servers, cpus));
}

/** What the EC2 commands read and write servers through. */
export interface Repositories {
  db: Db;
  provisionContext: ProvisionContextReader;
  instances: InstanceRepository;
}

interface InstanceDeps {
  config: LifecycleConfig;
  metrics: HandlerMetrics;
  catalogue: LaunchCatalogue;
  launcher: Launcher;
}

/** The EC2 face's commands: servers as instances, reservations, tags, and the image catalogue. */
export function serveInstances(
  bus: Bus,
  repos: Repositories,
  { config, metrics, catalogue, launcher }: InstanceDeps,
) {
  const { db, instances: view } = repos;
  const quota = quotaDefaults(config);

  bus.serve(instances.images, async () => ({ items: [...catalogue.images] }), metrics);

  bus.serve(instances.run, runner(bus, repos, launcher, config, catalogue, quota), metrics);

  bus.serve(
    instances.describe,
    async ({ ids, filters, limit, cursor, ...request }) => {
      const scope = scopeOf(request);
      if (ids) await view.resolve(scope, ids);
      const after =
        cursor === undefined ? undefined : decodeCursor(cursor, (key) => /^r-[0-9a-f]{17}$/.test(key));
      const page = await view.page(scope, { ids, filters }, after, limit);
      return { items: page.items, next_cursor: page.more && page.last ? encodeCursor(page.last) : null };
    },
    metrics,
  );

  bus.serve(
    instances.act,
    async ({ ids, action, ...request }, ctx) => {
      const found = await view.resolve(scopeOf(request), ids);
      const refused = found.find((instance) => verdictOf(action, instance.state) === "refused");
      if (refused) throw refusal(action, refused);
      const items = await Promise.all(
        found.map(async (instance) => {
          const previous = instance.state;
          if (verdictOf(action, previous) === "unchanged")
            return { instance_id: instance.instance_id, previous_state: previous, state: previous };
          const row = await performAction(db, instance.id, action, {
            tenantId: request.tenant_id,
            quota,
            actor: "user",
            requestId: ctx.requestId,
            delays: config,
            failPending: false,
            expectedState: previous,
          });
          return {
            instance_id: instance.instance_id,
            previous_state: previous,
            state: row.state as ServerState,
          };
        }),
      );
      ctx.log.info({ action, count: items.length }, "instance action accepted");
      return { items };
    },
    metrics,
  );

  bus.serve(
    instances.tag,
    async ({ ids, set, remove, ...request }) => {
      const found = await view.resolve(scopeOf(request), ids);
      const count = await view.retag(
        found.map((instance) => instance.id),
        set,
        remove,
        MAX_TAGS,
      );
      return { count };
    },
    metrics,
  );

  bus.serve(
    instances.tags,
    async ({ filters, limit, cursor, ...request }) => {
      const after =
        cursor === undefined
          ? undefined
          : tagCursor(decodeCursor(cursor, (key) => tagCursor(key) !== undefined));
      const rows = await view.tags(scopeOf(request), filters, after, limit + 1);
      const page = rows.slice(0, limit);
      const last = page[page.length - 1];
      return {
        items: page,
        next_cursor: rows.length > limit && last ? encodeCursor(`${last.instance_id}\n${last.key}`) : null,
      };
    },
    metrics,
  );

  bus.serve(
    instances.modify,
    async ({ id, type, ...request }, ctx) => {
      const [instance] = await view.resolve(scopeOf(request), [id]);
      if (!instance) throw new Error("resolve returned no instance");
      if (instance.instance_type !== type) {
        await view.changeType(instance.id, type, instanceSpec(type).vcpus, ctx.requestId);
      }
      return { instance_id: instance.instance_id };
    },
    metrics,
  );
}

/** The rows an EC2 request may see. */
const scopeOf = (r: { tenant_id: string | null; region: string; visible_after: string }): Visibility => ({
  tenantId: r.tenant_id,
  region: r.region,
  visibleAfter: r.visible_after,
});

/** A DescribeTags cursor: the last instance id and key, a line apart. */
function tagCursor(key: string): [string, string] | undefined {
  const at = key.indexOf("\n");
  return at > 0 && key.startsWith("i-") ? [key.slice(0, at), key.slice(at + 1)] : undefined;
}

type Run = typeof instances.run;

/**
 * RunInstances: as many servers as the quota and the region's pool have room for, up to
 * max_count, stored in one statement with the client token, or none and the error that stopped
 * it when fewer than min_count fit. Addresses of a launch that did not happen go back.
 */
function runner(
  bus: Bus,
  { db, provisionContext, instances: view }: Repositories,
  launcher: Launcher,
  config: LifecycleConfig,
  catalogue: LaunchCatalogue,
  quota: QuotaDefaults,
) {
  return async (
    { tenant_id, spec, min_count, max_count, client_token, simulate_failure, dry_run }: RequestOf<Run>,
    ctx: HandlerContext,
  ) => {
    const hash = requestHash({ spec, min_count, max_count });
    if (client_token && !dry_run) {
      const previous = await view.clientToken(tenant_id, spec.region, client_token);
      if (previous) return replay(view, tenant_id, client_token, hash, previous);
    }
    const placed = catalogue.resolve(spec);
    const vcpus = instanceSpec(spec.type).vcpus;
    const { tenant } = await provisionContext(tenant_id, undefined);
    const inZone = await zoneRoom(db, placed.zone, config.ZONE_CAPACITY);
    // Fewer than min_count fit: the quota, or else the zone, says by how much.
    assertWithinQuota(tenant_id, tenant, { servers: min_count, vcpus: min_count * vcpus }, quota);
    if (inZone < min_count) throw noCapacity(spec.type, placed.zone, spec.region, min_count, inZone);
    const count = Math.min(max_count, room(tenant, vcpus, quota), inZone);
    if (dry_run) return { reservation_id: "", items: [], replayed: false };
    const ids = Array.from({ length: count }, () => uuidv7());
    const reservationId = reservationIdOf(ids[0] as string);
    const addresses = await launcher.addresses(ids, spec.region, ctx);
    const release = () =>
      Promise.all(
        addresses.map((a) =>
          returnAddress(
            bus,
            ctx,
            { server_id: a.server_id },
            "could not return the address of a launch that failed",
          ),
        ),
      );
    try {
      if (addresses.length < min_count) {
        throw new AppError(
          "EXHAUSTED",
          `There are not enough free addresses in ${spec.region} to satisfy the requested number of instances: ${addresses.length} free, at least ${min_count} asked for.`,
          { reason: "addresses", region: spec.region, free: addresses.length, requested: min_count },
        );
      }
      const writes = addresses.map(({ server_id, address }) =>
        launchWrite(
          {
            id: server_id,
            tenantId: tenant_id,
            spec,
            placed,
            address,
            reservationId,
            clientToken: client_token,
            simulateFailure: simulate_failure === "provision",
            requestId: ctx.requestId,
          },
          config,
        ),
      );
      const [first] = writes;
      if (first && client_token) {
        first.clientToken = {
          tenantId: tenant_id,
          region: spec.region,
          token: client_token,
          requestHash: hash,
          reservationId,
        };
      }
      await launcher.store(writes);
    } catch (err) {
      await release();
      // The same token raced in another request, which stored first: answer as a retry would.
      if (client_token && isUniqueViolation(err, "client_tokens_tenant_id_region_token_pk")) {
        const winner = await view.clientToken(tenant_id, spec.region, client_token);
        if (winner) return replay(view, tenant_id, client_token, hash, winner);
      }
      throw err;
    }
    ctx.log.info({ tenant_id, reservation_id: reservationId, count: addresses.length }, "instances launched");
    return {
      reservation_id: reservationId,
      items: await view.reservation(tenant_id, reservationId),
      replayed: false,
    };
  };
}

async function replay(
  view: InstanceRepository,
  tenantId: string,
  token: string,
  hash: string,
  previous: { request_hash: string; reservation_id: string },
) {
  if (previous.request_hash !== hash) {
    throw new AppError(
      "CONFLICT",
      "Arguments on this idempotent request are inconsistent with arguments used in previous request(s).",
      { reason: "idempotent_mismatch", client_token: token, reservation_id: previous.reservation_id },
    );
  }
  return {
    reservation_id: previous.reservation_id,
    items: await view.reservation(tenantId, previous.reservation_id),
    replayed: true,
  };
}
