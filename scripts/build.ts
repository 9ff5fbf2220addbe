/**
 * `pnpm build`: each service as one ES module bundle (services/<name>/dist/main.js) with its
 * migrations beside it, and the tracing preload (dist/tracing.js), run with plain node:
 *   node --import ./services/<name>/dist/tracing.js services/<name>/dist/main.js
 * and the whole system as one (`one-process`: packages/one-process/dist/main.js, every service's
 * migrations under db/migrations/<service>, where migrationsFolder finds them).
 * pg and @fastify/swagger-ui stay outside the bundle, and the preload registers the loader hook of
 * @opentelemetry/instrumentation by name: each service depends on what it keeps out.
 * `tsx scripts/build.ts [--outdir DIR] [service…]` builds only the services named, into
 * DIR/<name> (the tests build one bundle into a folder of their own).
 * `console` builds the web console (packages/console, Vite) into packages/console/dist; the gateway's
 * and the one-process bundles carry a copy of it in dist/console, where the gateway serves it from
 * (services/gateway/src/routes/console.ts), building it first when it is missing or stale.
 * Beside the bundle, runtime-packages.json names the packages it loads from node_modules, which
 * is all an image keeps of them (scripts/prune-deploy.ts).
 */
import { cpSync, existsSync, rmSync, writeFileSync } from "node:fs";
import { builtinModules } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { build } from "esbuild";
import { buildConsole, consoleDist, consoleStale } from "../packages/console/build.ts";

const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

const services = ["gateway", "lifecycle", "ipam", "billing", "reaper"];
/** What the one-process bundle (packages/one-process) is called on the command line. */
const oneProcess = "one-process";
/** The web console (packages/console), a static page built by Vite. */
const webConsole = "console";
const targets = [webConsole, ...services, oneProcess];
/** The bundles that serve the console, with a copy of it beside them. */
const servesConsole = ["gateway", oneProcess];
const { values: options, positionals: named } = parseArgs({
  options: { outdir: { type: "string" } },
  allowPositionals: true,
});
const unknown = named.filter((name) => !targets.includes(name));
if (unknown.length > 0) {
  process.stderr.write(`unknown service ${unknown.join(", ")}: expected some of ${targets.join(", ")}\n`);
  process.exit(2);
}
// CommonJS dependencies inside an ES module bundle still call require() and read __dirname.
const banner = [
  'import { createRequire as __createRequire } from "node:module";',
  'import { fileURLToPath as __fileURLToPath } from "node:url";',
  'import { dirname as __dirnameOf } from "node:path";',
  "const require = __createRequire(import.meta.url);",
  "const __filename = __fileURLToPath(import.meta.url);",
  "const __dirname = __dirnameOf(__filename);",
].join("\n");

// The preload registers the loader hook of @opentelemetry/instrumentation by name, out of esbuild's sight.
const loadedByName = ["@opentelemetry/instrumentation"];

for (const name of named.length > 0 ? named : targets) {
  if (name === webConsole) {
    const out = await buildConsole(options.outdir ? join(options.outdir, webConsole) : consoleDist);
    process.stdout.write(`built ${out}\n`);
    continue;
  }
  const root = join(workspaceRoot, name === oneProcess ? "packages" : "services", name);
  const out = options.outdir ? join(options.outdir, name) : join(root, "dist");
  rmSync(out, { recursive: true, force: true });
  const { metafile } = await build({
    entryPoints: {
      main: join(root, "src/main.ts"),
      tracing: join(workspaceRoot, "packages/shared/src/tracing.ts"),
    },
    outdir: out,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    sourcemap: true,
    // pg: so the OpenTelemetry instrumentation can hook it; swagger-ui: it serves files from its own folder.
    external: ["pg", "pg-native", "@fastify/swagger-ui"],
    banner: { js: banner },
    logLevel: "warning",
    metafile: true,
  });
  const imported = Object.values(metafile.outputs).flatMap((output) => output.imports);
  const packages = imported
    .filter(({ external, path }) => external && !path.startsWith("node:") && !builtinModules.includes(path))
    // A package's name, without a path into it (pg/lib/x, @scope/name/x).
    .map(({ path }) =>
      path
        .split("/")
        .slice(0, path.startsWith("@") ? 2 : 1)
        .join("/"),
    );
  writeFileSync(
    join(out, "runtime-packages.json"),
    `${JSON.stringify([...new Set([...packages, ...loadedByName])].sort())}\n`,
  );
  if (name === oneProcess)
    for (const service of services)
      copyMigrations(join(workspaceRoot, "services", service), join(out, "db/migrations", service));
  else copyMigrations(root, join(out, "db/migrations"));
  if (servesConsole.includes(name)) {
    // A stale console is built again; into --outdir's bundle alone when one is given, so the tests
    // that build bundles of their own never write packages/console/dist while another reads it.
    if (!consoleStale()) cpSync(consoleDist, join(out, "console"), { recursive: true });
    else if (options.outdir) await buildConsole(join(out, "console"));
    else cpSync(await buildConsole(), join(out, "console"), { recursive: true });
  }
  process.stdout.write(`built ${out}\n`);
}

function copyMigrations(serviceRoot: string, to: string) {
  const migrations = join(serviceRoot, "src/db/migrations");
  if (existsSync(migrations)) cpSync(migrations, to, { recursive: true });
}
