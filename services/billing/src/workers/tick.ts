import type { Logger } from "@cloudsim/shared";
import type { BillingRepository } from "../db/repository.ts";
import type { BillingMetrics } from "../metrics.ts";

/**
 * Every BILLING_INTERVAL, accrues every open interval into the ledger (one statement, see
 * BillingRepository.tick). Every replica tries; the first in each interval claims it and ticks.
 */
export function startBillingTick(
  repo: BillingRepository,
  metrics: BillingMetrics,
  opts: { intervalMs: number; currency: string; log: Logger },
) {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const run = async () => {
    const done = metrics.tick.startTimer();
    try {
      const result = await repo.tick(opts.intervalMs);
      metrics.billed(opts.currency, { amount: result.amount, billedMs: result.billedMs });
      metrics.open.set(result.open);
      if (result.accrued > 0) opts.log.debug({ accrued: result.accrued }, "billing tick");
    } catch (err) {
      opts.log.error({ err }, "billing tick failed");
    } finally {
      done();
    }
    if (!stopped) timer = setTimeout(() => (running = run()), opts.intervalMs);
  };
  timer = setTimeout(() => (running = run()), opts.intervalMs);
  return {
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
