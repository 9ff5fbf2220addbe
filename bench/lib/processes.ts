import { type ChildProcess, spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { workspaceRoot } from "@cloudsim/shared/testing";
import { type BundleName, heapBounds } from "../../scripts/bundles.ts";

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

/**
 * A service as it runs in production: its built bundle (`pnpm build`) under plain node, with the
 * heap bounds `make run` and the image give it (scripts/bundles.ts). BENCH_NODE_ARGS adds node flags, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`.
 * "one-process" runs all five services in one node (packages/one-process): each service's own
 * settings come as `<SERVICE>__<NAME>` (GATEWAY__PORT=…).
 */
export function startBuiltService(name: BundleName, env: Record<string, string | undefined>): ChildProcess {
  const oneProcess = name === "one-process";
  const dist = `${workspaceRoot}/${oneProcess ? "packages" : "services"}/${name}/dist`;
  const nodeArgs = process.env.BENCH_NODE_ARGS?.split(" ").filter(Boolean) ?? [];
  // With the OpenTelemetry preload, as in production (no exporter is set: spans carry context only).
  return spawn(
    process.execPath,
    [...heapBounds(name), ...nodeArgs, "--import", `${dist}/tracing.js`, `${dist}/main.js`],
    {
      env: { ...process.env, OTEL_SERVICE_NAME: oneProcess ? "cloudsim" : name, ...env },
      stdio: ["ignore", "inherit", "inherit"],
    },
  );
}
