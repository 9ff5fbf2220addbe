import { mkdirSync, writeFileSync } from "node:fs";
import { workspaceRoot } from "@cloudsim/shared/testing";

/** Writes one run's figures to bench/results/<time>-<kind>.json (git-ignored), so runs can be compared. */
export function writeResults(kind: string, data: unknown): string {
  mkdirSync(`${workspaceRoot}/bench/results`, { recursive: true });
  const file = `${workspaceRoot}/bench/results/${new Date().toISOString().replace(/[:.]/g, "-")}-${kind}.json`;
  writeFileSync(file, `${JSON.stringify(data, null, 2)}\n`);
  return file;
}
