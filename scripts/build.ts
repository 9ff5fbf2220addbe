/**
 * `pnpm build`: each service as one ES module bundle (services/<name>/dist/main.js) with its
 * migrations beside it, and the tracing preload (dist/tracing.js), run with plain node:
 *   node --import ./services/<name>/dist/tracing.js services/<name>/dist/main.js
 * pg and @fastify/swagger-ui stay outside the bundle, and the preload registers the loader hook of
 * @opentelemetry/instrumentation by name: each service depends on what it keeps out.
 */
import { cpSync, existsSync, rmSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const workspaceRoot = join(dirname(fileURLToPath(import.meta.url)), "..");

const services = ["gateway", "lifecycle", "ipam", "billing", "reaper"];
// CommonJS dependencies inside an ES module bundle still call require() and read __dirname.
const banner = [
  'import { createRequire as __createRequire } from "node:module";',
  'import { fileURLToPath as __fileURLToPath } from "node:url";',
  'import { dirname as __dirnameOf } from "node:path";',
  "const require = __createRequire(import.meta.url);",
  "const __filename = __fileURLToPath(import.meta.url);",
  "const __dirname = __dirnameOf(__filename);",
].join("\n");

for (const name of services) {
  const root = join(workspaceRoot, "services", name);
  const out = join(root, "dist");
  rmSync(out, { recursive: true, force: true });
  await build({
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
  });
  const migrations = join(root, "src/db/migrations");
  if (existsSync(migrations)) cpSync(migrations, join(out, "db/migrations"), { recursive: true });
  process.stdout.write(`built services/${name}/dist\n`);
}
