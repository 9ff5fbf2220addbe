import { Counter, Gauge, Histogram, type Registry } from "@cloudsim/shared";
import type { LedgerChange } from "./domain/apply-event.ts";
import { NANOS } from "./domain/money.ts";

export function billingMetrics(registry: Registry) {
  const m = {
    amount: new Counter({
      name: "cloudsim_billing_amount_total",
      help: "Amount billed into the ledger (credits by corrections are counted apart)",
      labelNames: ["currency"],
      registers: [registry],
    }),
    credited: new Counter({
      name: "cloudsim_billing_credited_amount_total",
      help: "Amount taken back by corrections (late or out-of-order events)",
      labelNames: ["currency"],
      registers: [registry],
    }),
    seconds: new Counter({
      name: "cloudsim_billing_billable_seconds_total",
      help: "Billable seconds accrued into the ledger",
      registers: [registry],
    }),
    open: new Gauge({
      name: "cloudsim_billing_open_intervals",
      help: "Servers in a billable state, as of the last tick",
      registers: [registry],
    }),
    tick: new Histogram({
      name: "cloudsim_billing_tick_duration_seconds",
      help: "Time one billing tick takes",
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [registry],
    }),
  };
  return {
    ...m,
    /** Records a change of the ledger. */
    billed(currency: string, change: LedgerChange) {
      const amount = Number(change.amount) / Number(NANOS);
      if (amount > 0) m.amount.inc({ currency }, amount);
      else if (amount < 0) m.credited.inc({ currency }, -amount);
      if (change.billedMs > 0n) m.seconds.inc(Number(change.billedMs) / 1000);
    },
  };
}
export type BillingMetrics = ReturnType<typeof billingMetrics>;
