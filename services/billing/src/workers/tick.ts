import { type Logger, startLoop } from "@cloudsim/shared";
import type { BillingRepository } from "../db/repository.ts";
import type { BillingMetrics } from "../metrics.ts";

export interface TickOptions {
  intervalMs: number;
  currency: string;
  log: Logger;
}

/**
 * Every BILLING_INTERVAL, accrues every open interval into the ledger (one statement, see
 * db/tick.ts). Every replica tries; the first in each interval claims it and ticks.
 */
export function startBillingTick(repo: BillingRepository, metrics: BillingMetrics, opts: TickOptions) {
  return startLoop(
    "billing tick",
    async () => {
      await billingTick(repo, metrics, opts);
      return 0;
    },
    // Never a full batch: each tick is one interval after the last, the first one after start.
    { intervalMs: opts.intervalMs, batch: Number.POSITIVE_INFINITY, log: opts.log, firstAfterInterval: true },
  );
}

/** One tick, measured; `force` ticks even in an interval already ticked (a clock's catch-up). Returns the lines written. */
export async function billingTick(
  repo: BillingRepository,
  metrics: BillingMetrics,
  opts: TickOptions,
  force = false,
): Promise<number> {
  const done = metrics.tick.startTimer();
  try {
    const result = await repo.tick(opts.intervalMs, force);
    metrics.billed(opts.currency, { amount: result.amount, billedMs: result.billedMs });
    metrics.open.set(result.open);
    if (result.accrued > 0) opts.log.debug({ accrued: result.accrued }, "billing tick");
    return result.accrued;
  } finally {
    done();
  }
}
