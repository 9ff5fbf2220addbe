import { type Bus, billing, type HandlerMetrics } from "@cloudsim/shared";
import type { BillingRepository } from "./db/repository.ts";

export function serveBilling(bus: Bus, repo: BillingRepository, metrics: HandlerMetrics) {
  bus.serve(billing.usage, ({ server_id }) => repo.usage(server_id), metrics);
  bus.serve(billing.ledger, ({ server_id }) => repo.ledger(server_id), metrics);
  bus.serve(billing.summary, ({ from, to, tenant_id }) => repo.summary(from, to, tenant_id), metrics);
}
