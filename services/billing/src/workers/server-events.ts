import { type Bus, consumeEvents, type Logger, natsRoles, ServerStateChanged } from "@cloudsim/shared";
import type { BillingRepository } from "../db/repository.ts";
import type { BillingMetrics } from "../metrics.ts";

/** Records every server event (once per id) and settles what it changes: a stop or terminate at once. */
export function consumeServerEvents(
  bus: Bus,
  repo: BillingRepository,
  metrics: BillingMetrics,
  opts: { currency: string; log: Logger },
) {
  return consumeEvents({
    bus,
    ...natsRoles.billing.consumers.serverEvents,
    schema: ServerStateChanged,
    log: opts.log,
    handleBatch: async (events) => {
      // Counted once the batch is committed: a batch that fails counts nothing.
      const outcomes = await repo.recordEvents(events.map(({ event }) => event));
      for (const outcome of outcomes) metrics.billed(opts.currency, outcome);
    },
  });
}
