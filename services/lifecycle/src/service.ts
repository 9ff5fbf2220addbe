import { fileURLToPath } from "node:url";
import { type Logger, type RunningService, startRuntime } from "@cloudsim/shared";
import type { LifecycleConfig } from "./config.ts";
import { LifecycleRepository } from "./db/repository.ts";
import { serveLifecycle } from "./handlers.ts";
import { startTimers } from "./workers/timers.ts";

const migrations = {
  schema: "lifecycle",
  folder: fileURLToPath(new URL("./db/migrations", import.meta.url)),
};

/** Starts lifecycle: migrations, handlers, the durable timer, health. */
export function startLifecycle(config: LifecycleConfig, log: Logger): Promise<RunningService> {
  return startRuntime("lifecycle", config, log, migrations, ({ bus, database, metrics }) => {
    const repo = new LifecycleRepository(database.db);
    serveLifecycle(bus, repo, config, metrics);
    return startTimers(repo, { intervalMs: config.TIMER_INTERVAL, batch: config.TIMER_BATCH, log });
  });
}
