import { type Bus, consumeEvents, eventSubjects, type Logger, ServerStateChanged } from "@cloudsim/shared";
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
    durable: "billing-usage",
    filter: eventSubjects.server,
    schema: ServerStateChanged,
    log: opts.log,
    handle: async (event) => metrics.billed(opts.currency, await repo.recordEvent(event)),
  });
}
