import { type ChildProcess, spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort, startEmbeddedPostgres, startNatsServer, workspaceRoot } from "@cloudsim/shared/testing";

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

/**
 * `make run`'s start-up as a user meets it: the launcher (`pnpm start`, scripts/run.ts, with
 * `--split` for five processes) on a data folder of its own and free ports, timed from its
 * spawn to the first POST /servers answered 201, then stopped. New: an empty data folder
 * (initdb, migrations, pools); existing: started again on what the first run left.
 */
export async function launcherStartup(split: boolean): Promise<{ new_s: number; existing_s: number }> {
  const dataDir = mkdtempSync(join(tmpdir(), "cloudsim-bench-run-"));
  const ports = await Promise.all(Array.from({ length: 7 }, () => freePort()));
  const [pg, nats, gateway, lifecycle, ipam, billing, reaper] = ports.map(String);
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    CLOUDSIM_DATA_DIR: dataDir,
    EMBEDDED_PG_PORT: pg,
    LOCAL_NATS_PORT: nats,
    PORT: gateway,
    LIFECYCLE_PORT: lifecycle,
    IPAM_PORT: ipam,
    BILLING_PORT: billing,
    REAPER_PORT: reaper,
    LOG_LEVEL: "warn",
  };
  for (const name of ["DATABASE_URL", "NATS_URL", "ADMIN_API_KEY"]) delete env[name];
  const once = async () => {
    const t0 = performance.now();
    const launcher = spawn(
      process.execPath,
      ["--import", "tsx", "scripts/run.ts", ...(split ? ["--split"] : [])],
      {
        cwd: workspaceRoot,
        env,
        stdio: ["ignore", "ignore", "inherit"],
      },
    );
    try {
      await firstProvision(`http://127.0.0.1:${gateway}`, launcher);
      return Math.round(performance.now() - t0) / 1000;
    } finally {
      await stopLauncher(launcher);
    }
  };
  try {
    const new_s = await once();
    const existing_s = await once();
    return { new_s, existing_s };
  } finally {
    rmSync(dataDir, { recursive: true, force: true });
  }
}

/** Polls POST /servers until it is answered 201 (every 10 ms, for at most two minutes). */
async function firstProvision(url: string, launcher: ChildProcess): Promise<void> {
  const deadline = performance.now() + 120_000;
  while (performance.now() < deadline) {
    if (launcher.exitCode !== null) throw new Error(`the launcher exited with code ${launcher.exitCode}`);
    const status = await fetch(`${url}/servers`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ region: "us-east-1", type: "t2.micro" }),
    })
      .then((r) => r.status)
      .catch(() => 0);
    if (status === 201) return;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error("make run answered no POST /servers with 201 within 120 s");
}

/** Ctrl-C, as a user stops it: the launcher stops the services, then NATS and Postgres. */
function stopLauncher(launcher: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (launcher.exitCode !== null || launcher.signalCode !== null) return resolve();
    launcher.once("exit", () => resolve());
    launcher.kill("SIGINT");
  });
}
