import { type ChildProcess, spawn } from "node:child_process";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** The root of the workspace, where services/ lives. */
export const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), "../../../..");

const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
/** OpenTelemetry, loaded before the service's own code so http and pg are patched in time. */
export const tracingPreload = join(dirname(fileURLToPath(import.meta.url)), "..", "tracing.ts");

export type ServiceProcessName = "gateway" | "lifecycle" | "ipam" | "billing" | "reaper";

/**
 * Runs a service's main.ts as its own process through tsx, with the tracing preload
 * (`--import .../tracing.ts`) and OTEL_SERVICE_NAME set to the service unless `env` names one;
 * `watch` restarts it when its code (or the shared package) changes; `wrap` is an argv prefix
 * it runs under (a NetHost's `ip netns exec <ns>`, to run it on a host of its own).
 */
export function spawnService(
  name: ServiceProcessName,
  env: Record<string, string | undefined>,
  options: { watch?: boolean; stdio?: "inherit" | "pipe"; wrap?: string[] } = {},
): ChildProcess {
  const main = join(workspaceRoot, "services", name, "src", "main.ts");
  const preload = ["--import", tracingPreload];
  const args = options.watch
    ? [tsxCli, "watch", "--clear-screen=false", ...preload, main]
    : ["--import", "tsx", ...preload, main];
  const [command = process.execPath, ...argv] = [...(options.wrap ?? []), process.execPath, ...args];
  return spawn(command, argv, {
    cwd: workspaceRoot,
    env: { ...process.env, OTEL_SERVICE_NAME: name, ...env },
    stdio: ["ignore", options.stdio ?? "pipe", options.stdio ?? "pipe"],
  });
}
