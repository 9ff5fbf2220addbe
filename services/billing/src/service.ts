import { fileURLToPath } from "node:url";
import { type Logger, type RunningService, startRuntime } from "@cloudsim/shared";
import type { BillingConfig } from "./config.ts";

const migrations = { schema: "billing", folder: fileURLToPath(new URL("./db/migrations", import.meta.url)) };

/** Starts billing. */
export function startBilling(config: BillingConfig, log: Logger): Promise<RunningService> {
  return startRuntime("billing", config, log, migrations, async () => ({ stop: async () => {} }));
}
