import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { workspaceRoot } from "@cloudsim/shared/testing";

/** Runs a bench helper (bench/ceilings/*.ts) as its own process and waits for it to say "ready". */
export async function startHelper(file: string, args: string[]): Promise<ChildProcess> {
  const path = fileURLToPath(new URL(`../ceilings/${file}`, import.meta.url));
  const child = spawn(process.execPath, ["--import", "tsx", path, ...args], {
    stdio: ["ignore", "pipe", "inherit"],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on("data", (d) => String(d).includes("ready") && resolve());
    child.once("exit", (code) => reject(new Error(`${file} exited with ${code}`)));
  });
  return child;
}

export function stop(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    child.kill("SIGTERM");
  });
}

/** Peak resident memory of a process so far, in MB (Linux: VmHWM). */
export function peakRssMb(pid: number | undefined): number | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = Number(/VmHWM:\s+(\d+)/.exec(status)?.[1]);
    return Number.isFinite(kb) ? Math.round(kb / 1024) : null;
  } catch {
    return null;
  }
}

/** The heap bounds the Dockerfile gives every service (NODE_OPTIONS there). */
const productionHeap = ["--max-old-space-size=96", "--max-semi-space-size=8"];
/**
 * The one-process bundle's heap bound: room for five services' heaps, under the 5 × 96 MB of the
 * split processes (the system's memory target is 300 MB, Postgres and nats-server included).
 */
const oneProcessHeap = ["--max-old-space-size=256", "--max-semi-space-size=8"];

/** A bundle of scripts/build.ts: one service's, or the one-process bundle of all five. */
export type BuiltBundle = "gateway" | "lifecycle" | "ipam" | "billing" | "reaper" | "one-process";

/**
 * A service as it runs in production: its built bundle (`pnpm build`) under plain node, with the
 * production heap bounds. BENCH_NODE_ARGS adds node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 * "one-process" runs all five services in one node (packages/one-process): each service's own
 * settings come as `<SERVICE>__<NAME>` (GATEWAY__PORT=…).
 */
export function startBuiltService(name: BuiltBundle, env: Record<string, string | undefined>): ChildProcess {
  const oneProcess = name === "one-process";
  const dist = `${workspaceRoot}/${oneProcess ? "packages" : "services"}/${name}/dist`;
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  // With the OpenTelemetry preload, as in production (no exporter is set: spans carry context only).
  return spawn(
    process.execPath,
    [
      ...(oneProcess ? oneProcessHeap : productionHeap),
      ...nodeArgs,
      "--import",
      `${dist}/tracing.js`,
      `${dist}/main.js`,
    ],
    {
      env: { ...process.env, OTEL_SERVICE_NAME: oneProcess ? "cloudsim" : name, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
}
