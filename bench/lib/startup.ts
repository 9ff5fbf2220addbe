import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startEmbeddedPostgres, startNatsServer } from "@cloudsim/shared/testing";

/**
 * The start-up ceiling: seconds from nothing to an embedded Postgres accepting queries and a
 * nats-server (JetStream) accepting connections, both started together on free ports in temp
 * folders. Cold: a new data folder (initdb first); warm: the same folders started again.
 */
export async function infrastructureStartup(): Promise<{ cold_s: number; warm_s: number }> {
  const pgDir = mkdtempSync(join(tmpdir(), "cloudsim-bench-pg-"));
  const natsDir = mkdtempSync(join(tmpdir(), "cloudsim-bench-nats-"));
  const dirs = [pgDir, natsDir];
  const once = async () => {
    const t0 = performance.now();
    const [postgres, nats] = await Promise.all([
      startEmbeddedPostgres({ dataDir: pgDir }),
      startNatsServer({ storeDir: natsDir }),
    ]);
    const s = Math.round(performance.now() - t0) / 1000;
    // As root the cluster lives in a stand-in folder (startEmbeddedPostgres): removed too.
    dirs.push(postgres.dataDir);
    await Promise.all([postgres.stop(), nats.stop()]);
    return s;
  };
  try {
    const cold_s = await once();
    const warm_s = await once();
    return { cold_s, warm_s };
  } finally {
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  }
}
