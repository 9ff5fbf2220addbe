/**
 * Prints coverage/coverage-summary.json (vitest's json-summary reporter) as one row per
 * workspace package: `make coverage` runs it after the tests.
 */
import { readFileSync } from "node:fs";
import { join, relative } from "node:path";

type Counts = { total: number; covered: number };
const metrics = ["statements", "branches", "functions", "lines"] as const;
type Metric = (typeof metrics)[number];
type Summary = Record<string, Record<Metric, Counts>>;
const zero = (): Record<Metric, Counts> => ({
  statements: { total: 0, covered: 0 },
  branches: { total: 0, covered: 0 },
  functions: { total: 0, covered: 0 },
  lines: { total: 0, covered: 0 },
});

const root = join(import.meta.dirname, "..");
const summary = JSON.parse(readFileSync(join(root, "coverage/coverage-summary.json"), "utf8")) as Summary;

const packages = new Map<string, Record<Metric, Counts>>();
for (const [file, counts] of Object.entries(summary)) {
  if (file === "total") continue;
  const [kind, name] = relative(root, file).split("/");
  const key = `${kind}/${name}`;
  const sums = packages.get(key) ?? zero();
  for (const metric of metrics) {
    sums[metric].total += counts[metric].total;
    sums[metric].covered += counts[metric].covered;
  }
  packages.set(key, sums);
}

const percent = ({ total, covered }: Counts) =>
  total === 0 ? "-" : `${((100 * covered) / total).toFixed(1)}%`;
const rows = [...packages].sort(([a], [b]) => a.localeCompare(b));
const width = Math.max(...rows.map(([name]) => name.length), "package".length);
console.log(["package".padEnd(width), ...metrics.map((m) => m.padStart(10))].join("  "));
for (const [name, sums] of rows) {
  console.log([name.padEnd(width), ...metrics.map((m) => percent(sums[m]).padStart(10))].join("  "));
}
