import {
  type Clock,
  catchUps,
  type Logger,
  migrationsFolder,
  type RunningService,
  startRuntime,
} from "@cloudsim/shared";
import type { IpamConfig } from "./config.ts";
import { ensureDefaultNetwork } from "./db/default-network.ts";
import { ElasticIpRepository } from "./db/elastic-ips.ts";
import { NetworkTagRepository } from "./db/network-tags.ts";
import { IpamRepository } from "./db/repository.ts";
import { SecurityGroupRepository } from "./db/security-groups.ts";
import { SubnetRepository } from "./db/subnets.ts";
import { VpcRepository } from "./db/vpcs.ts";
import { serveIpam } from "./handlers.ts";
import { addressMetrics } from "./metrics.ts";
import { serveNetwork } from "./network-handlers.ts";
import { startReservationCheck } from "./workers/reservations.ts";
import { consumeServerEvents } from "./workers/server-events.ts";

const storage = {
  schema: "ipam",
  folder: migrationsFolder(import.meta.url, "ipam"),
  // Its claims were planned afresh on every call (see createDatabase).
  genericPlans: true,
};

/**
 * Starts ipam: migrations, pools, the default VPCs and subnets, handlers, the release consumer,
 * the outbox relay, health.
 * `clock` is the time of cooldowns and reservations (the runtime's real clock when left out).
 */
export function startIpam(config: IpamConfig, log: Logger, clock?: Clock): Promise<RunningService> {
  return startRuntime(
    "ipam",
    config,
    log,
    { ...storage, clock },
    async ({ bus, database, metrics, registry, clock, startOutboxRelay, settled }) => {
      const repo = new IpamRepository(database.db, config.IP_REUSE_COOLDOWN, clock);
      addressMetrics(registry, repo);
      await repo.ensurePools(config.IPAM_POOLS, config.IPAM_PUBLIC_POOL);
      await ensureDefaultNetwork(database.db, config.IPAM_POOLS);
      const groups = new SecurityGroupRepository(database.db, bus);
      const network = {
        vpcs: new VpcRepository(database.db, groups),
        subnets: new SubnetRepository(database.db, groups, config.IP_REUSE_COOLDOWN, clock),
        groups,
        addresses: new ElasticIpRepository(database.db, repo, clock),
        tags: new NetworkTagRepository(database.db),
      };
      serveIpam(bus, repo, network.subnets, metrics);
      serveNetwork(bus, network, metrics);
      // At each stop of a simulated clock's catch-up: the server events handled, the releases published.
      bus.serve(
        catchUps.ipam,
        async () => {
          await settled();
          return { acted: 0, next_due_at: null };
        },
        metrics,
      );
      return [
        await consumeServerEvents(bus, repo, network.addresses, log),
        startOutboxRelay(),
        startReservationCheck(bus, repo, {
          confirmTimeoutMs: config.IP_CONFIRM_TIMEOUT,
          intervalMs: config.IP_RECONCILE_INTERVAL,
          log,
        }),
      ];
    },
  );
}
