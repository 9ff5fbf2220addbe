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
  // The loop runs at once; the first tick is due one interval after start.
  let started = false;
  return startLoop(
    "billing tick",
    async () => {
      if (!started) {
        started = true;
        return 0;
      }
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
    // Never a full batch: the next tick is always one interval later.
    { intervalMs: opts.intervalMs, batch: Number.POSITIVE_INFINITY, log: opts.log },
  );
}
