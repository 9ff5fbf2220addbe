import { AppError, type Bus, type Clock, type Logger, lifecycle, startLoop } from "@cloudsim/shared";
import type { ReaperConfig } from "../config.ts";
import type { Candidate, ReaperRepository, SweepResult } from "../db/repository.ts";
import { formatIdle } from "../domain/idle.ts";
import type { Decision } from "../domain/sweep-figures.ts";
import type { ReaperMetrics } from "../metrics.ts";

/**
 * Every REAPER_INTERVAL, one replica sweeps: each server stopped for longer than IDLE_TIMEOUT
 * is handed to reapServer.
 */
export function startSweeps(sweeper: Sweeper) {
  return startLoop(
    "reaper sweep",
    async () => {
      await sweepOnce(sweeper);
      return 0;
    },
    { intervalMs: sweeper.config.REAPER_INTERVAL, batch: 1, log: sweeper.log },
  );
}

/** What a sweep needs: lifecycle to ask, the watched servers, the settings, its metrics, the clock idle time is on. */
export interface Sweeper {
  bus: Bus;
  repo: ReaperRepository;
  config: ReaperConfig;
  metrics: ReaperMetrics;
  clock: Clock;
  log: Logger;
}

/** One sweep, measured and logged; undefined when another replica was sweeping. */
export async function sweepOnce({
  bus,
  repo,
  config,
  metrics,
  clock,
  log,
}: Sweeper): Promise<SweepResult | undefined> {
  const dryRun = config.REAPER_DRY_RUN;
  const stop = metrics.duration.startTimer();
  const result = await repo.sweep(
    {
      idleMs: config.IDLE_TIMEOUT,
      batch: config.REAPER_BATCH,
      dryRun,
      concurrency: config.REAPER_CONCURRENCY,
    },
    (candidate) => reapServer(bus, clock, candidate, dryRun, log),
  );
  if (!result) return undefined;
  stop();
  metrics.swept(result);
  if (result.candidates > 0) log.info(result, "sweep finished");
  return result;
}

/**
 * Terminates an idle server through lifecycle with actor `reaper`, on the condition that it is
 * still stopped since the time the reaper saw, so a server started again meanwhile is spared.
 * An exempt server is spared; a dry run only logs what it would do. How long it was idle is
 * told on the clock.
 */
export async function reapServer(
  bus: Bus,
  clock: Clock,
  candidate: Candidate,
  dryRun: boolean,
  log: Logger,
): Promise<Decision> {
  const idleFor = formatIdle(clock.now() - candidate.stateSince.getTime());
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
}
