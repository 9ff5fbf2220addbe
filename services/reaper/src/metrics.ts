import { Counter, Gauge, Histogram, type Registry } from "@cloudsim/shared";
import type { SweepResult } from "./db/repository.ts";

export function reaperMetrics(registry: Registry) {
  const m = {
    sweeps: new Counter({ name: "cloudsim_reaper_sweeps_total", help: "Sweeps run", registers: [registry] }),
    decisions: new Counter({
      name: "cloudsim_reaper_decisions_total",
      help: "Idle servers decided, by outcome: reaped, spared (exempt or changed), error (retried later)",
      labelNames: ["outcome", "dry_run"],
      registers: [registry],
    }),
    duration: new Histogram({
      name: "cloudsim_reaper_sweep_duration_seconds",
      help: "Time one sweep took",
      buckets: [0.01, 0.05, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60],
      registers: [registry],
    }),
    lastSweep: new Gauge({
      name: "cloudsim_reaper_last_sweep_timestamp_seconds",
      help: "When the last sweep finished (Unix time); a stuck reaper stops moving it",
      registers: [registry],
    }),
  };
  return {
    ...m,
    /** Records a sweep that ran: its count, when it finished and what it decided. */
    swept(result: SweepResult) {
      m.sweeps.inc();
      m.lastSweep.set(result.finishedAt.getTime() / 1000);
      const dryRun = String(result.dryRun);
      for (const outcome of ["reaped", "spared", "error"] as const) {
        m.decisions.inc({ outcome, dry_run: dryRun }, result[outcome === "error" ? "errors" : outcome]);
      }
    },
  };
}
export type ReaperMetrics = ReturnType<typeof reaperMetrics>;
