import { fileURLToPath } from "node:url";
import { type Logger, type RunningService, startRuntime } from "@cloudsim/shared";
import type { ReaperConfig } from "./config.ts";

const migrations = { schema: "reaper", folder: fileURLToPath(new URL("./db/migrations", import.meta.url)) };

/** Starts reaper. */
export function startReaper(config: ReaperConfig, log: Logger): Promise<RunningService> {
  return startRuntime("reaper", config, log, migrations, async () => ({ stop: async () => {} }));
}
