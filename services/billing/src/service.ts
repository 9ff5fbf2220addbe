import {
  type Clock,
  catchUps,
  type Logger,
  migrationsFolder,
  type RunningService,
  startRuntime,
} from "@cloudsim/shared";
import type { BillingConfig } from "./config.ts";
import { BillingRepository } from "./db/repository.ts";
import { rateTable } from "./domain/rates.ts";
import { serveBilling } from "./handlers.ts";
import { billingMetrics } from "./metrics.ts";
import { consumeServerEvents } from "./workers/server-events.ts";
import { billingTick, startBillingTick } from "./workers/tick.ts";
import { consumeVolumeEvents } from "./workers/volume-events.ts";

const migrations = { schema: "billing", folder: migrationsFolder(import.meta.url, "billing") };

/**
 * Starts billing: migrations, handlers, the server- and volume-event consumers, the billing tick,
 * the outbox relay. `clock` is the time of bills (the runtime's real clock when left out).
 */
export function startBilling(config: BillingConfig, log: Logger, clock?: Clock): Promise<RunningService> {
  return startRuntime(
    "billing",
    config,
    log,
    { ...migrations, clock },
    async ({ bus, database, registry, metrics, clock, startOutboxRelay, settled }) => {
      const currency = config.BILLING_CURRENCY;
      const repo = new BillingRepository(
        database.db,
        {
          rates: rateTable(config.BILLING_RATE),
          volumeRate: config.VOLUME_RATE,
          minimumMs: config.BILLING_MINIMUM_SECONDS * 1000,
          currency,
        },
        clock,
      );
      const billed = billingMetrics(registry);
      const tick = { intervalMs: config.BILLING_INTERVAL, currency, log };
      serveBilling(bus, repo, metrics);
      // At each stop of a simulated clock's catch-up: the events settled; at the last, a tick.
      bus.serve(
        catchUps.billing,
        async ({ final }) => {
          await settled();
          const acted = final ? await billingTick(repo, billed, tick, true) : 0;
          if (final) await settled();
          return { acted, next_due_at: null };
        },
        metrics,
      );
      return [
        await consumeServerEvents(bus, repo, billed, { currency, log }),
        await consumeVolumeEvents(bus, repo, billed, { currency, log }),
        startBillingTick(repo, billed, tick),
        startOutboxRelay(),
      ];
    },
  );
}
