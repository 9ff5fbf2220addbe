import { type Logger, startLoop } from "@cloudsim/shared";
import type { BillingRepository } from "../db/repository.ts";
import type { BillingMetrics } from "../metrics.ts";

/**
 * Every BILLING_INTERVAL, accrues every open interval into the ledger (one statement, see
 * db/tick.ts). Every replica tries; the first in each interval claims it and ticks.
 */
export function startBillingTick(
  repo: BillingRepository,
  metrics: BillingMetrics,
  opts: { intervalMs: number; currency: string; log: Logger },
) {
  return startLoop(
    "billing tick",
    async () => {
      const done = metrics.tick.startTimer();
      try {
        const result = await repo.tick(opts.intervalMs);
        metrics.billed(opts.currency, { amount: result.amount, billedMs: result.billedMs });
        metrics.open.set(result.open);
        if (result.accrued > 0) opts.log.debug({ accrued: result.accrued }, "billing tick");
      } finally {
        done();
      }
      return 0;
    },
    // Never a full batch: each tick is one interval after the last, the first one after start.
    { intervalMs: opts.intervalMs, batch: Number.POSITIVE_INFINITY, log: opts.log, firstAfterInterval: true },
  );
}
