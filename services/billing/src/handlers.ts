import { type Bus, billing, type HandlerMetrics, ledgerCursor, summaryCursor } from "@cloudsim/shared";
import type { BillingRepository } from "./db/repository.ts";

export function serveBilling(bus: Bus, repo: BillingRepository, metrics: HandlerMetrics) {
  bus.serve(billing.usage, ({ server_id }) => repo.usage(server_id), metrics);
  bus.serve(
    billing.volumeUsage,
    ({ volume_id, tenant_id }) => repo.volumeUsage(volume_id, tenant_id),
    metrics,
  );
  bus.serve(
    billing.ledger,
    async ({ server_id, limit, cursor }) => {
      const { lines, ...totals } = await repo.ledger(server_id, limit, cursor && ledgerCursor.keyOf(cursor));
      return { ...totals, ...ledgerCursor.page(lines, limit, (line) => line.id) };
    },
    metrics,
  );
  bus.serve(
    billing.summary,
    async ({ from, to, tenant_id, limit, cursor }) => {
      const { servers, ...totals } = await repo.summary({
        from,
        to,
        tenantId: tenant_id,
        limit,
        after: cursor && summaryCursor.keyOf(cursor),
      });
      const { items, next_cursor } = summaryCursor.page(servers, limit, (server) => server.server_id);
      return { ...totals, by_server: items, next_cursor };
    },
    metrics,
  );
}
