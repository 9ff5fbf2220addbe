import {
  type Clock,
  type Logger,
  migrationsFolder,
  type RunningService,
  startRuntime,
} from "@cloudsim/shared";
import type { ReaperConfig } from "./config.ts";
import { ReaperRepository } from "./db/repository.ts";
import { serveReaper } from "./handlers.ts";
import { reaperMetrics } from "./metrics.ts";
import { serveCatchUp } from "./workers/catch-up.ts";
import { startSweeps } from "./workers/sweep.ts";
import { watchServers } from "./workers/watch.ts";

const migrations = { schema: "reaper", folder: migrationsFolder(import.meta.url, "reaper") };

/**
 * Starts reaper: migrations, the state watcher, the sweeps, status. `clock` is the time idle
 * servers are judged on (the runtime's real clock when left out).
 */
export function startReaper(config: ReaperConfig, log: Logger, clock?: Clock): Promise<RunningService> {
  const storage = { ...migrations, clock };
  return startRuntime("reaper", config, log, storage, async (runtime) => {
    const { bus, database, registry, metrics, clock, settled } = runtime;
    const repo = new ReaperRepository(database.db, database.pool, clock);
    const sweeper = { bus, repo, config, metrics: reaperMetrics(registry), clock, log };
    serveReaper(bus, repo, config, metrics);
    serveCatchUp(sweeper, settled, metrics);
    return [await watchServers(bus, repo, config.REAPER_EXEMPT_TAG, log), startSweeps(sweeper)];
  });
}
