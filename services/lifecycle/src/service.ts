import { fileURLToPath } from "node:url";
import { type Logger, type RunningService, startRuntime } from "@cloudsim/shared";
import { type LifecycleConfig, quotaDefaults } from "./config.ts";
import { lifecycleRetentions } from "./db/retention.ts";
import { serveLifecycle } from "./handlers.ts";
import { serverMetrics } from "./metrics.ts";
import { TenantRepository } from "./tenants/db.ts";
import { serveTenants } from "./tenants/handlers.ts";
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
      const { db } = database;
      serverMetrics(registry, database.pool);
      const tenantRepo = new TenantRepository(db, quotaDefaults(config));
      await tenantRepo.ensureDefault();
      serveLifecycle(bus, db, config, metrics);
      serveTenants(bus, tenantRepo, metrics);
      return [
        startTimers(db, { intervalMs: config.TIMER_INTERVAL, batch: config.TIMER_BATCH, log }),
        startOutboxRelay(),
        await consumeIpamEvents(bus, db, log),
        await consumeBillingEvents(bus, db, log),
      ];
    },
  );
}
