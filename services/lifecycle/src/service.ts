import { fileURLToPath } from "node:url";
import { type Logger, type RunningService, startRuntime } from "@cloudsim/shared";
import type { LifecycleConfig } from "./config.ts";
import { InstanceRepository } from "./db/instances.ts";
import { LifecycleRepository } from "./db/repository.ts";
import { lifecycleRetentions } from "./db/retention.ts";
import { TenantRepository } from "./db/tenants.ts";
import { serveLifecycle } from "./handlers.ts";
import { serverMetrics } from "./metrics.ts";
import { consumeBillingEvents, consumeIpamEvents } from "./workers/log-events.ts";
import { startTimers } from "./workers/timers.ts";

const migrations = {
  schema: "lifecycle",
  folder: fileURLToPath(new URL("./db/migrations", import.meta.url)),
};

/** Starts lifecycle: migrations, handlers, the durable timer, the outbox relay, the ipam and billing log consumers. */
export function startLifecycle(config: LifecycleConfig, log: Logger): Promise<RunningService> {
  return startRuntime(
    "lifecycle",
    config,
    log,
    { ...migrations, retentions: lifecycleRetentions(config.IDEMPOTENCY_KEY_RETENTION) },
    async ({ bus, database, metrics, registry, startOutboxRelay }) => {
      const repo = new LifecycleRepository(database.db);
      serverMetrics(registry, database.pool);
      const tenantRepo = new TenantRepository(database.db, {
        maxServers: config.TENANT_MAX_SERVERS,
        maxVcpus: config.TENANT_MAX_VCPUS,
      });
      await tenantRepo.ensureDefault();
      serveLifecycle(bus, repo, config, metrics, tenantRepo, new InstanceRepository(database.db));
      return [
        startTimers(repo, { intervalMs: config.TIMER_INTERVAL, batch: config.TIMER_BATCH, log }),
        startOutboxRelay(),
        await consumeIpamEvents(bus, repo, log),
        await consumeBillingEvents(bus, repo, log),
      ];
    },
  );
}
