import {
  AppError,
  type Bus,
  type Db,
  type HandlerContext,
  instanceSpec,
  type instances,
  isUniqueViolation,
  type RequestOf,
  uuidv7,
} from "@cloudsim/shared";
import { returnAddress } from "./addresses.ts";
import type { LifecycleConfig } from "./config.ts";
import type { InstanceRepository } from "./db/instances.ts";
import type { ProvisionContextReader } from "./db/server-reads.ts";
import { requestHash } from "./domain/idempotency.ts";
import { assertWithinQuota, type QuotaDefaults, quotaRoom } from "./domain/quota.ts";
import { hasKeyPair, keyPairNotFound } from "./key-pairs/db.ts";
import { type LaunchCatalogue, launchWrite, noCapacity, reservationIdOf, zoneRoom } from "./launch.ts";
import type { Launcher } from "./launcher.ts";

/** What the EC2 commands read and write servers through. */
export interface Repositories {
  db: Db;
  provisionContext: ProvisionContextReader;
  instances: InstanceRepository;
}

type Run = typeof instances.run;

/**
 * RunInstances: as many servers as the quota and the region's pool have room for, up to
 * max_count, stored in one statement with the client token, or none and the error that stopped
 * it when fewer than min_count fit. Addresses of a launch that did not happen go back.
 */
export function runInstances(
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
      if (previous) return replayReservation(view, tenant_id, client_token, hash, previous);
    }
    const placed = catalogue.resolve(spec);
    if (spec.key_name !== undefined && !(await hasKeyPair(db, tenant_id, spec.region, spec.key_name)))
      throw keyPairNotFound(spec.key_name);
    const vcpus = instanceSpec(spec.type).vcpus;
    const { tenant } = await provisionContext(tenant_id, undefined);
    const inZone = await zoneRoom(db, placed.zone, config.ZONE_CAPACITY);
    // Fewer than min_count fit: the quota, or else the zone, says by how much.
    assertWithinQuota(tenant_id, tenant, { servers: min_count, vcpus: min_count * vcpus }, quota);
    if (inZone < min_count) throw noCapacity(spec.type, placed.zone, spec.region, min_count, inZone);
    const count = Math.min(max_count, quotaRoom(tenant, vcpus, quota), inZone);
    if (dry_run) return { reservation_id: "", items: [], replayed: false };
    const ids = Array.from({ length: count }, () => uuidv7());
    const reservationId = reservationIdOf(ids[0] as string);
    const addresses = await launcher.addresses(
      ids,
      { region: spec.region, subnetId: spec.network?.subnet_id },
      ctx,
    );
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
          `There are not enough free addresses in ${spec.network ? `subnet '${spec.network.subnet_id}'` : spec.region} to satisfy the requested number of instances: ${addresses.length} free, at least ${min_count} asked for.`,
          {
            reason: "addresses",
            region: spec.region,
            subnet_id: spec.network?.subnet_id,
            free: addresses.length,
            requested: min_count,
          },
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
        if (winner) return replayReservation(view, tenant_id, client_token, hash, winner);
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

/** The reservation an earlier RunInstances with this ClientToken made; CONFLICT when its parameters differ. */
async function replayReservation(
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
