import {
  AppError,
  type Bus,
  type Clock,
  type Db,
  type HandlerContext,
  instanceSpec,
  isUniqueViolation,
  type lifecycle,
  notFound,
  type ReplyOf,
  type RequestOf,
  uuidv7,
} from "@cloudsim/shared";
import { returnAddress } from "./addresses.ts";
import { type LifecycleConfig, quotaDefaults } from "./config.ts";
import { getServer, type ProvisionContextReader } from "./db/server-reads.ts";
import { requestHash } from "./domain/idempotency.ts";
import { assertWithinQuota } from "./domain/quota.ts";
import { toServer } from "./domain/server-view.ts";
import { hasKeyPair, keyPairNotFound } from "./key-pairs/db.ts";
import { type LaunchCatalogue, launchWrite, noCapacity, reservationIdOf, zoneRoom } from "./launch.ts";
import type { Launcher } from "./launcher.ts";

type Provision = typeof lifecycle.provision;

/**
 * Provisioning: replay an Idempotency-Key, else take an address from ipam, then store the
 * server, its log and its key in one transaction. When the store fails the address goes back.
 */
export function provisioner(
  bus: Bus,
  db: Db,
  provisionContext: ProvisionContextReader,
  config: LifecycleConfig,
  catalogue: LaunchCatalogue,
  { allocate, store }: Launcher,
  clock: Clock,
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
    const row = await getServer(db, previous.serverId, tenantId);
    if (!row) throw notFound("server", previous.serverId);
    return { server: toServer(row, clock.now()), replayed: true };
  };

  return async (
    { tenant_id, server, key_name, network, idempotency_key, simulate_failure }: RequestOf<Provision>,
    ctx: HandlerContext,
  ) => {
    const spec = { ...server, key_name, network };
    const hash = requestHash(key_name === undefined && network === undefined ? server : spec);
    const storedKey = idempotency_key && `${tenant_id}:${idempotency_key}`;
    const { tenant, previous } = await provisionContext(tenant_id, storedKey);
    if (idempotency_key && previous) return replay(tenant_id, idempotency_key, hash, previous);
    // Checked before an address is taken, and again under the tenant's lock when the server is stored.
    const vcpus = instanceSpec(server.type).vcpus;
    assertWithinQuota(tenant_id, tenant, { servers: 1, vcpus }, quota);
    const placed = catalogue.resolve(server);
    if (key_name !== undefined && !(await hasKeyPair(db, tenant_id, server.region, key_name)))
      throw keyPairNotFound(key_name);
    if ((await zoneRoom(db, placed.zone, config.ZONE_CAPACITY)) < 1)
      throw noCapacity(server.type, placed.zone, server.region, 1, 0);
    const id = uuidv7();
    const address = await allocate({
      serverId: id,
      region: server.region,
      subnetId: network?.subnet_id,
      requestId: ctx.requestId,
    });
    try {
      const launch = {
        id,
        tenantId: tenant_id,
        spec,
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
      return { server: toServer(row, clock.now()), replayed: false };
    } catch (err) {
      if (err instanceof AppError && err.details.reason === "address_taken") {
        ctx.log.error({ server_id: id, address }, "ipam handed out the address of a live server");
      }
      // ipam releases only what it holds for this server: an address the reservation check gave
      // up, and ipam then handed to another server, stays that server's.
      await returnAddress(
        bus,
        ctx,
        { server_id: id, address },
        "could not return the address of a failed provision",
      );
      // Two requests with one key raced and the other stored first: answer as a retry would.
      if (storedKey && isUniqueViolation(err, "idempotency_keys_pkey")) {
        const { previous: winner } = await provisionContext(tenant_id, storedKey);
        if (winner) return replay(tenant_id, idempotency_key, hash, winner);
      }
      throw err;
    }
  };
}
