import {
  AppError,
  type Bus,
  Counter,
  Gauge,
  Histogram,
  type Logger,
  lifecycle,
  type Registry,
  startLoop,
} from "@cloudsim/shared";
import type { ReaperConfig } from "../config.ts";
import type { Candidate, Decision, ReaperRepository } from "../db/repository.ts";
import { formatIdle } from "../domain/idle.ts";

function sweepMetrics(registry: Registry) {
  return {
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
}

/**
 * Every REAPER_INTERVAL, one replica sweeps: each server stopped for longer than IDLE_TIMEOUT
 * is terminated through lifecycle with actor `reaper`, on the condition that it is still
 * stopped since the time the reaper saw, so a server started again meanwhile is spared.
 */
export function startSweeps(
  bus: Bus,
  repo: ReaperRepository,
  config: ReaperConfig,
  registry: Registry,
  log: Logger,
) {
  const metrics = sweepMetrics(registry);
  const dryRun = config.REAPER_DRY_RUN;

  const decide = async (candidate: Candidate): Promise<Decision> => {
    const idleFor = formatIdle(Date.now() - candidate.stateSince.getTime());
    if (candidate.exempt) {
      log.info({ server_id: candidate.serverId, idle_for: idleFor }, "idle but exempt by tag: spared");
      return "spared";
    }
    if (dryRun) {
      log.info({ server_id: candidate.serverId, idle_for: idleFor }, "dry run: would terminate");
      return "reaped";
    }
    try {
      await bus.request(lifecycle.action, {
        id: candidate.serverId,
        tenant_id: candidate.tenantId,
        action: "terminate",
        actor: "reaper",
        expected_state: "stopped",
        unchanged_since: candidate.stateSince.toISOString(),
        reason: `idle for ${idleFor}`,
      });
      log.info({ server_id: candidate.serverId, idle_for: idleFor }, "idle: terminating");
      return "reaped";
    } catch (err) {
      if (err instanceof AppError && (err.code === "CONFLICT" || err.code === "NOT_FOUND")) {
        log.info(
          { server_id: candidate.serverId, reason: err.message },
          "changed before the reaper acted: spared",
        );
        return "spared";
      }
      log.warn({ err, server_id: candidate.serverId }, "could not decide; retrying next sweep");
      return "error";
    }
  };

  return startLoop(
    "reaper sweep",
    async () => {
      const stop = metrics.duration.startTimer();
      const result = await repo.sweep(
        {
          idleMs: config.IDLE_TIMEOUT,
          batch: config.REAPER_BATCH,
          dryRun,
          concurrency: config.REAPER_CONCURRENCY,
        },
        decide,
      );
      if (!result) return 0;
      stop();
      metrics.sweeps.inc();
      metrics.lastSweep.set(result.finishedAt.getTime() / 1000);
      for (const outcome of ["reaped", "spared", "error"] as const) {
        metrics.decisions.inc(
          { outcome, dry_run: String(dryRun) },
          result[outcome === "error" ? "errors" : outcome],
        );
      }
      if (result.candidates > 0) log.info(result, "sweep finished");
      return 0;
    },
    { intervalMs: config.REAPER_INTERVAL, batch: 1, log },
  );
}
