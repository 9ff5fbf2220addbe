import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The root of the workspace, where services/ lives. */
export const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");

export type ServiceProcessName = "gateway" | "lifecycle" | "ipam" | "billing" | "reaper";

/**
 * Runs a service's main.ts as its own process through tsx; `watch` restarts it when its
 * code (or the shared package) changes.
 */
export function spawnService(
  name: ServiceProcessName,
  env: Record<string, string | undefined>,
  options: { watch?: boolean; stdio?: "inherit" | "pipe" } = {},
): ChildProcess {
  const main = join(workspaceRoot, "services", name, "src", "main.ts");
  const args = options.watch ? [tsxCli, "watch", "--clear-screen=false", main] : ["--import", "tsx", main];
  return spawn(process.execPath, args, {
    cwd: workspaceRoot,
    env: { ...process.env, ...env },
    stdio: ["ignore", options.stdio ?? "pipe", options.stdio ?? "pipe"],
  });
}
