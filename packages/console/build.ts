/**
 * Builds the console (Vite, through its JS API) into packages/console/dist, and tells whether that
 * build is missing or older than the console's sources: scripts/build.ts (the `console` target),
 * scripts/bundles.ts (make run) and tests/console use both.
 */
import { existsSync, readdirSync, statSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

export const consoleRoot = dirname(fileURLToPath(import.meta.url));
export const consoleDist = join(consoleRoot, "dist");
const sources = ["src", "index.html", "vite.config.ts", "package.json"];

function newest(path: string): number {
  if (!existsSync(path)) return 0;
  const stat = statSync(path);
  if (!stat.isDirectory()) return stat.mtimeMs;
  return Math.max(0, ...readdirSync(path).map((entry) => newest(join(path, entry))));
}

/** True when dist/index.html is missing or older than any source of the console. */
export function consoleStale(dist = consoleDist): boolean {
  const index = join(dist, "index.html");
  if (!existsSync(index)) return true;
  const built = statSync(index).mtimeMs;
  return sources.some((source) => newest(join(consoleRoot, source)) > built);
}

/** Builds the console into `outDir` (default packages/console/dist). */
export async function buildConsole(outDir = consoleDist): Promise<string> {
  const { build } = await import("vite");
  await build({
    configFile: join(consoleRoot, "vite.config.ts"),
    root: consoleRoot,
    build: { outDir, emptyOutDir: true },
    logLevel: "warn",
  });
  return outDir;
}
