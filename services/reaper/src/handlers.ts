import { type Bus, type HandlerMetrics, reaper } from "@cloudsim/shared";
import type { ReaperConfig } from "./config.ts";
import type { ReaperRepository } from "./db/repository.ts";

export function serveReaper(bus: Bus, repo: ReaperRepository, config: ReaperConfig, metrics: HandlerMetrics) {
  bus.serve(
    reaper.status,
    async ({ tenant_id }) => {
      const [last, totals, watching] = await Promise.all([
        repo.lastSweep(tenant_id),
        repo.totals(tenant_id),
        repo.watching(config.IDLE_TIMEOUT, tenant_id),
      ]);
      return {
        dry_run: config.REAPER_DRY_RUN,
        idle_timeout_seconds: config.IDLE_TIMEOUT / 1000,
        interval_seconds: config.REAPER_INTERVAL / 1000,
        exempt_tag: `${config.REAPER_EXEMPT_TAG.key}=${config.REAPER_EXEMPT_TAG.value}`,
        last_sweep: last
          ? {
              started_at: last.startedAt.toISOString(),
              finished_at: last.finishedAt.toISOString(),
              dry_run: last.dryRun,
              candidates: last.candidates,
              reaped: last.reaped,
              spared: last.spared,
              errors: last.errors,
            }
          : null,
        totals,
        watching,
      };
    },
    metrics,
  );
}
