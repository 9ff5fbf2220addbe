import { type Bus, consumeEvents, type Logger, natsRoles, VolumeStateChanged } from "@cloudsim/shared";
import type { BillingRepository } from "../db/repository.ts";
import type { BillingMetrics } from "../metrics.ts";

/** Records every volume event (once per id) and bills what it changes: its end settles at once. */
export function consumeVolumeEvents(
  bus: Bus,
  repo: BillingRepository,
  metrics: BillingMetrics,
  opts: { currency: string; log: Logger },
) {
  return consumeEvents({
    bus,
    ...natsRoles.billing.consumers.volumeEvents,
    schema: VolumeStateChanged,
    log: opts.log,
    handleBatch: async (events) => {
      const outcomes = await repo.recordVolumeEvents(events.map(({ event }) => event));
      for (const outcome of outcomes) metrics.billed(opts.currency, outcome);
    },
  });
}
