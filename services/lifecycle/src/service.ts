import {
  type Clock,
  type Logger,
  migrationsFolder,
  type RunningService,
  startRuntime,
} from "@cloudsim/shared";
import { serveClock } from "./clock/handlers.ts";
import { type LifecycleConfig, quotaDefaults } from "./config.ts";
import { lifecycleRetentions } from "./db/retention.ts";
import { serveLifecycle } from "./handlers.ts";
import { serveKeyPairs } from "./key-pairs/handlers.ts";
import { serverMetrics } from "./metrics.ts";
import { serveSecurityGroupUsers } from "./security-group-users.ts";
import { TenantRepository } from "./tenants/db.ts";
import { serveTenants } from "./tenants/handlers.ts";
import { serveVolumes } from "./volumes/handlers.ts";
import { consumeBillingEvents, consumeIpamEvents } from "./workers/log-events.ts";
import { startTimers } from "./workers/timers.ts";

const migrations = {
  schema: "lifecycle",
  folder: migrationsFolder(import.meta.url, "lifecycle"),
};

/**
 * Starts lifecycle: migrations, handlers, the durable timer, the outbox relay, the ipam and billing
 * log consumers. `clock` is the time of its servers, logs, events and keys (the runtime's real
 * clock when left out): due times, created_at and updated_at, uptime, the keys' retention.
 */
export function startLifecycle(config: LifecycleConfig, log: Logger, clock?: Clock): Promise<RunningService> {
  const storage = {
    ...migrations,
    retentions: (clock: Clock) => lifecycleRetentions(config.IDEMPOTENCY_KEY_RETENTION, clock),
    clock,
  };
  return startRuntime(
    "lifecycle",
    config,
    log,
    storage,
    async ({ bus, database, metrics, registry, startOutboxRelay, clock, clockStore, settled }) => {
      const { db } = database;
      serverMetrics(registry, database.pool);
      const tenantRepo = new TenantRepository(db, quotaDefaults(config), clock);
      await tenantRepo.ensureDefault();
      serveLifecycle(bus, db, config, metrics, clock);
      serveTenants(bus, tenantRepo, metrics);
      serveKeyPairs(bus, db, clock, metrics);
      serveSecurityGroupUsers(bus, db, metrics);
      serveVolumes(bus, db, clock, config, metrics);
      serveClock(
        bus,
        clock,
        { bus, db, store: clockStore, settled, timerBatch: config.TIMER_BATCH, volumeDelays: config, log },
        metrics,
      );
      return [
        startTimers(db, clock, {
          intervalMs: config.TIMER_INTERVAL,
          batch: config.TIMER_BATCH,
          log,
          volumeDelays: config,
        }),
        startOutboxRelay(),
        await consumeIpamEvents(bus, db, log),
        await consumeBillingEvents(bus, db, log),
      ];
    },
  );
}
