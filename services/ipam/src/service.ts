import { fileURLToPath } from "node:url";
import { type Logger, type RunningService, startRuntime } from "@cloudsim/shared";
import type { IpamConfig } from "./config.ts";
import { IpamRepository } from "./db/repository.ts";
import { serveIpam } from "./handlers.ts";

const migrations = { schema: "ipam", folder: fileURLToPath(new URL("./db/migrations", import.meta.url)) };

/** Starts ipam: migrations, pools, handlers, health. */
export function startIpam(config: IpamConfig, log: Logger): Promise<RunningService> {
  return startRuntime("ipam", config, log, migrations, async ({ bus, database, metrics }) => {
    const repo = new IpamRepository(database.db, database.pool);
    await repo.ensurePools(config.IPAM_POOLS);
    serveIpam(bus, repo, config, metrics);
    return { stop: async () => {} };
  });
}
