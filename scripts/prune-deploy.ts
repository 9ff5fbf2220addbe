/**
 * `node scripts/prune-deploy.ts DIR` (Node 24 runs it as it is): in a `pnpm deploy` of one service whose bundle is in DIR/dist,
 * keeps only the packages the bundle loads at run time (dist/runtime-packages.json, written by
 * scripts/build.ts) and what they depend on; the rest of the production dependencies are inside
 * the bundle already. The Dockerfile runs it, so an image carries a few MB of node_modules
 * instead of every dependency of the workspace packages.
 * In pnpm's layout each package sits in node_modules/.pnpm/<entry>/node_modules/<name>, beside
 * links to its own dependencies: the entries reached from the bundle's packages through those
 * links are kept, and links into removed entries go too.
 */
import { lstatSync, readdirSync, readFileSync, realpathSync, rmSync } from "node:fs";
import { join, relative, sep } from "node:path";

const [dir] = process.argv.slice(2);
if (!dir) {
  process.stderr.write(
    "usage: node scripts/prune-deploy.ts DIR (a pnpm deploy with the bundle in DIR/dist)\n",
  );
  process.exit(2);
}
const nodeModules = join(dir, "node_modules");
const store = join(nodeModules, ".pnpm");
const loaded = JSON.parse(readFileSync(join(dir, "dist/runtime-packages.json"), "utf8")) as string[];

/** The packages in a node_modules folder, scoped ones (@scope/name) included. */
const packagesIn = (folder: string): string[] =>
  readdirSync(folder)
    .filter((name) => !name.startsWith("."))
    .flatMap((name) =>
      name.startsWith("@") ? readdirSync(join(folder, name)).map((inner) => `${name}/${inner}`) : [name],
    );
const isLink = (path: string) => lstatSync(path).isSymbolicLink();
/** The store entry a package lives in, or undefined for one outside the store (a workspace package). */
const entryOf = (path: string) => {
  const inStore = relative(realpathSync(store), realpathSync(path));
  return inStore.startsWith("..") ? undefined : inStore.split(sep)[0];
};

const kept = new Set<string>();
const keep = (path: string) => {
  const entry = entryOf(path);
  if (entry === undefined || kept.has(entry)) return;
  kept.add(entry);
  const siblings = join(store, entry, "node_modules");
  for (const name of packagesIn(siblings)) keep(join(siblings, name));
};
for (const name of loaded) keep(join(nodeModules, name));

for (const entry of readdirSync(store))
  if (entry !== "node_modules" && !kept.has(entry))
    rmSync(join(store, entry), { recursive: true, force: true });
// pnpm's hoisted links (.pnpm/node_modules) and the top level: links into what is gone go too.
const dangling = (path: string) => {
  try {
    realpathSync(path);
    return false;
  } catch {
    return true;
  }
};
for (const folder of [join(store, "node_modules"), nodeModules])
  for (const name of packagesIn(folder)) {
    const path = join(folder, name);
    if (isLink(path) && (dangling(path) || (folder === nodeModules && !loaded.includes(name))))
      rmSync(path, { force: true });
  }
process.stdout.write(`kept ${kept.size} of the deploy's packages for ${loaded.join(", ")}\n`);
