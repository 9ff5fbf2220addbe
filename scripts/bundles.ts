/**
 * The built bundles `make run` starts (scripts/build.ts): built again when any source is newer,
 * and started under plain node with the tracing preload, as the image runs them.
 */
import { execFileSync, spawn } from "node:child_process";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { workspaceRoot } from "@cloudsim/shared/testing/processes";

export type BundleName = "one-process" | "gateway" | "lifecycle" | "ipam" | "billing" | "reaper";

const distOf = (name: BundleName) =>
  join(workspaceRoot, name === "one-process" ? "packages" : "services", name, "dist");

/** The newest modification time under `dir` (skipping node_modules and dist), in ms. */
function newest(dir: string): number {
  let latest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    if (entry.name === "node_modules" || entry.name === "dist") continue;
    const path = join(dir, entry.name);
    latest = Math.max(latest, entry.isDirectory() ? newest(path) : statSync(path).mtimeMs);
  }
  return latest;
}

/** Builds the bundles that are missing or older than any source of the workspace or the lockfile. */
export function ensureBuilt(names: BundleName[], say: (line: string) => void): void {
  const sources = Math.max(
    ...["packages", "services"].map((dir) => newest(join(workspaceRoot, dir))),
    statSync(join(workspaceRoot, "pnpm-lock.yaml")).mtimeMs,
  );
  const stale = names.filter((name) => {
    const main = join(distOf(name), "main.js");
    // The bundles that serve the web console carry a copy of it (dist/console), built with them.
    const withConsole = name === "one-process" || name === "gateway";
    return (
      !existsSync(main) ||
      statSync(main).mtimeMs < sources ||
      (withConsole && !existsSync(join(distOf(name), "console/index.html")))
    );
  });
  if (stale.length === 0) return;
  say(`building ${stale.join(", ")} (scripts/build.ts): the sources changed since the last build`);
  execFileSync(process.execPath, ["--import", "tsx", join(workspaceRoot, "scripts/build.ts"), ...stale], {
    cwd: workspaceRoot,
    stdio: ["ignore", "ignore", "inherit"],
  });
}

/**
 * The heap bounds a bundle runs with, here and in the bench: a service's are the Dockerfile's
 * (NODE_OPTIONS there); the one process has room for five services' heaps, under the 5 × 96 MB
 * of the split processes (issue 21's target is 300 MB for the whole system).
 */
export function heapBounds(name: BundleName): string[] {
  return [`--max-old-space-size=${name === "one-process" ? 256 : 96}`, "--max-semi-space-size=8"];
}

/** Runs a bundle under plain node with its heap bounds and the tracing preload, output piped to the launcher. */
export function spawnBundle(name: BundleName, env: Record<string, string | undefined>) {
  const dist = distOf(name);
  return spawn(
    process.execPath,
    [...heapBounds(name), "--import", join(dist, "tracing.js"), join(dist, "main.js")],
    {
      cwd: workspaceRoot,
      env: { ...process.env, OTEL_SERVICE_NAME: name === "one-process" ? "cloudsim" : name, ...env },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}
