import { fileURLToPath } from "node:url";
import { type Logger, type RunningService, startRuntime } from "@cloudsim/shared";
import type { ReaperConfig } from "./config.ts";
import { ReaperRepository } from "./db/repository.ts";
import { serveReaper } from "./handlers.ts";
import { reaperMetrics } from "./metrics.ts";
import { startSweeps } from "./workers/sweep.ts";
import { watchServers } from "./workers/watch.ts";

const migrations = { schema: "reaper", folder: fileURLToPath(new URL("./db/migrations", import.meta.url)) };

/** Starts reaper: migrations, the state watcher, the sweeps, status. */
export function startReaper(config: ReaperConfig, log: Logger): Promise<RunningService> {
  return startRuntime("reaper", config, log, migrations, async ({ bus, database, registry, metrics }) => {
    const repo = new ReaperRepository(database.db, database.pool);
    serveReaper(bus, repo, config, metrics);
    return [
      await watchServers(bus, repo, config.REAPER_EXEMPT_TAG, log),
      startSweeps(bus, repo, config, reaperMetrics(registry), log),
    ];
  });
}
