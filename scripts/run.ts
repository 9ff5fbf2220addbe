/**
 * `make run` / `pnpm start`: the whole system on this machine, by default the five services in
 * one process (packages/one-process), `--split` one process each; both run the built bundles,
 * built again when a source changed. `--watch` (`make dev`) runs the sources under tsx watch
 * instead and restarts on a change.
 * Uses DATABASE_URL and NATS_URL when set; otherwise starts an embedded Postgres (data in
 * .data/postgres, or as root where the postgres OS user cannot reach that, in
 * /var/lib/cloudsim/data/<hash>) and a local nats-server with JetStream (store in .data/nats).
 * CLOUDSIM_DATA_DIR moves .data elsewhere, so two of them can run side by side.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { createRequire } from "node:module";
import { join, resolve } from "node:path";
import { createInterface } from "node:readline";
// The launcher's own pieces, not @cloudsim/shared/testing's index: it starts sooner without
// loading the NATS client and the rest of what the tests use.
import { ensureSchemaOwners } from "@cloudsim/shared/testing/db-roles";
import { portAnswers } from "@cloudsim/shared/testing/ports";
import {
  ensureDatabase,
  localPostgresSettings,
  startEmbeddedPostgres,
} from "@cloudsim/shared/testing/postgres";
import {
  type ServiceProcessName,
  spawnService,
  tracingPreload,
  workspaceRoot,
} from "@cloudsim/shared/testing/processes";
import { ensureBuilt, spawnBundle } from "./bundles.ts";

const tsxCli = createRequire(import.meta.url).resolve("tsx/cli");
const watch = process.argv.includes("--watch");
const split = process.argv.includes("--split");
const env = process.env;
const dataDir = resolve(env.CLOUDSIM_DATA_DIR || join(workspaceRoot, ".data"));
const say = (line: string) => process.stdout.write(`[run] ${line}\n`);
const stops: (() => Promise<void>)[] = [];

async function postgres(): Promise<string> {
  if (env.DATABASE_URL) return env.DATABASE_URL;
  const port = Number(env.EMBEDDED_PG_PORT ?? 54329);
  say(`starting embedded Postgres on 127.0.0.1:${port}`);
  // Its own process group: Ctrl-C reaches the services first, and Postgres stops after them.
  const server = await startEmbeddedPostgres({
    dataDir: join(dataDir, "postgres"),
    port,
    settings: localPostgresSettings,
    detached: true,
  });
  stops.push(server.stop);
  const url = await ensureDatabase(server.adminUrl, "cloudsim");
  say(`embedded Postgres is up (data in ${server.dataDir})`);
  return url;
}

/**
 * NATS_URL as it is (the services connect with whatever NATS_USER / NATS_PASSWORD you set), or
 * a local nats-server with the services' users and permissions, each service as its own user.
 */
async function nats(): Promise<{ url: string; user?: (name: ServiceProcessName) => Record<string, string> }> {
  if (env.NATS_URL) return { url: env.NATS_URL };
  // Loaded here, while Postgres starts: the contracts it builds the permissions from take a while.
  const { localNatsUser: user, startNatsServer } = await import("@cloudsim/shared/testing/nats-server");
  const port = Number(env.LOCAL_NATS_PORT ?? 14222);
  if (await portAnswers(port)) {
    say(`something already listens on 127.0.0.1:${port}; using it as NATS`);
    return { url: `nats://127.0.0.1:${port}`, user };
  }
  say(
    `starting nats-server with JetStream on 127.0.0.1:${port} (store in ${join(dataDir, "nats")}), one user per service`,
  );
  const server = await startNatsServer({
    port,
    storeDir: join(dataDir, "nats"),
    detached: true,
    subjectPrefix: env.NATS_SUBJECT_PREFIX ?? "",
    openToTests: false,
  }).catch((err) => {
    say((err as Error).message);
    process.exit(1);
  });
  stops.push(server.stop);
  return { url: server.url, user };
}

/** A process of the system: a service (split) or all five (one-process), with its output prefixed. */
function start(name: ServiceProcessName | "one-process", processEnv: Record<string, string>) {
  const child =
    name === "one-process"
      ? watch
        ? spawnOneProcessWatched(processEnv)
        : spawnBundle(name, processEnv)
      : watch
        ? spawnService(name, processEnv, { watch })
        : spawnBundle(name, processEnv);
  const prefix = `[${name === "one-process" ? "cloudsim" : name}] `.padEnd(12);
  for (const stream of [child.stdout, child.stderr]) {
    if (stream)
      createInterface({ input: stream }).on("line", (line) => process.stdout.write(`${prefix}${line}\n`));
  }
  child.on("exit", (code, signal) => {
    if (shuttingDown) return;
    say(`${name} exited (${signal ?? `code ${code}`}); stopping everything`);
    void shutdown(1);
  });
  stops.unshift(() => stopChild(child, () => child.kill("SIGTERM")));
}

function stopChild(child: ChildProcess, ask: () => void): Promise<void> {
  return new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve();
    child.once("exit", () => resolve());
    ask();
  });
}

let shuttingDown = false;
/** Stops everything started, last first, and exits; never resolves (the process ends). */
async function shutdown(code: number): Promise<never> {
  if (shuttingDown) return new Promise<never>(() => {});
  shuttingDown = true;
  for (const stop of stops) await stop().catch(() => {});
  process.exit(code);
}
process.on("SIGINT", () => void shutdown(0));
process.on("SIGTERM", () => void shutdown(0));

async function waitReady(url: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline && !shuttingDown) {
    const ok = await fetch(`${url}/readyz`)
      .then((r) => r.ok)
      .catch(() => false);
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

// Postgres and NATS start side by side; a failure of either stops whatever did start.
const [databaseUrl, natsServer] = await Promise.all([postgres(), nats()]).catch(async (err) => {
  say((err as Error).message);
  return shutdown(1);
});
// On its own Postgres the launcher gives each service the role that owns its schema; a
// DATABASE_URL of yours is used as it is by every service.
const serviceUrls: Partial<Record<ServiceProcessName, string>> = env.DATABASE_URL
  ? {}
  : await ensureSchemaOwners(databaseUrl);
// Local play: keyless requests act as tenant `default` unless AUTH_REQUIRED is set.
const authRequired = env.AUTH_REQUIRED ?? "false";
// A local admin key when none is given, so the launcher can hand out a ready API key.
const adminKey = env.ADMIN_API_KEY || `local-admin-${randomBytes(16).toString("hex")}`;
// API keys are sealed with it for SigV4 checks, so it outlives the session: kept in .data.
const awsSecretsKey = env.AWS_SECRETS_KEY || persistedSecret(join(dataDir, "aws-secrets-key"));
const gatewayPort = env.PORT ?? "8080";
const ports: Record<ServiceProcessName, string> = {
  gateway: gatewayPort,
  lifecycle: env.LIFECYCLE_PORT ?? "8081",
  ipam: env.IPAM_PORT ?? "8082",
  billing: env.BILLING_PORT ?? "8083",
  reaper: env.REAPER_PORT ?? "8084",
};
/** What each service is given of its own: its port, its database role, its NATS user. */
const ownEnv = (name: ServiceProcessName): Record<string, string> => ({
  DATABASE_URL: serviceUrls[name] ?? databaseUrl,
  ...natsServer.user?.(name),
  PORT: ports[name],
});
const commonEnv = {
  NATS_URL: natsServer.url,
  // Keyless by default, so reachable from this machine only unless HOST says otherwise.
  HOST: env.HOST ?? "127.0.0.1",
  AUTH_REQUIRED: authRequired,
  ADMIN_API_KEY: adminKey,
  AWS_SECRETS_KEY: awsSecretsKey,
};
const names = Object.keys(ports) as ServiceProcessName[];
if (!watch) ensureBuilt(split ? names : ["one-process"], say);
if (split) for (const name of names) start(name, { ...commonEnv, ...ownEnv(name) });
// One process: each service's own settings as <SERVICE>__<NAME> (packages/one-process).
else
  start("one-process", {
    ...commonEnv,
    ...Object.fromEntries(
      names.flatMap((name) =>
        Object.entries(ownEnv(name)).map(([key, value]) => [`${name.toUpperCase()}__${key}`, value]),
      ),
    ),
  });

const url = `http://localhost:${gatewayPort}`;
const ready = await Promise.all(Object.values(ports).map((port) => waitReady(`http://localhost:${port}`)));
if (ready.every(Boolean)) {
  say(`cloudsim is up: ${url}  (API docs: ${url}/docs)${watch ? "  — watching for changes" : ""}`);
  say(`the console: ${url}/console`);
  say(
    `${split ? "five processes" : "one process (--split: one per service)"}: ${names
      .map((name) => `${name} :${ports[name]}`)
      .join(", ")} (each with /healthz, /readyz, /metrics)`,
  );
  say(
    `try: curl -s -X POST ${url}/servers -H 'content-type: application/json' -d '{"region":"us-east-1","type":"t2.micro"}'`,
  );
  const key = await readyKey(url);
  say(
    authRequired === "false"
      ? "AUTH_REQUIRED=false: requests without a key act as tenant `default`"
      : "AUTH_REQUIRED: every request needs Authorization: Bearer <key>",
  );
  if (key) {
    say(
      `a ready API key for tenant default: ${key.key}  (curl -H 'authorization: Bearer ${key.key}' ${url}/servers)`,
    );
    say(`as AWS credentials (EC2 API): AWS_ACCESS_KEY_ID=${key.id} AWS_SECRET_ACCESS_KEY=${key.key}`);
  }
  say(`admin key (tenants and keys, /admin/*): ${env.ADMIN_API_KEY ? "$ADMIN_API_KEY" : adminKey}`);
  if (env.CLOCK === "simulated") await sayClock(url);
  say("stop with Ctrl-C");
} else if (!shuttingDown) {
  say(
    `the services did not all become ready (GET /readyz on ports ${Object.values(ports).join(", ")}) within 60 s`,
  );
  await shutdown(1);
}

/** Where a simulated clock stands, and how to move it (README: Testing over time). */
async function sayClock(base: string): Promise<void> {
  const answer = await fetch(`${base}/clock`, { headers: { authorization: `Bearer ${adminKey}` } }).catch(
    () => undefined,
  );
  const clock = answer?.ok ? ((await answer.json()) as { now: string; rate: number }) : undefined;
  say(
    `simulated clock (CLOCK=simulated): ${clock ? `${clock.now}, running at ${clock.rate}x` : "not answering yet"}; move it: curl -s -X POST ${base}/admin/clock -H 'authorization: Bearer <admin key>' -H 'content-type: application/json' -d '{"advance":"1d"}'`,
  );
}

/** A fresh key for tenant `default`, made with the admin key (shown once, like every key). */
async function readyKey(base: string): Promise<{ id: string; key: string } | undefined> {
  const answer = await fetch(`${base}/admin/tenants/default/keys`, {
    method: "POST",
    headers: { authorization: `Bearer ${adminKey}` },
  }).catch(() => undefined);
  if (!answer?.ok) return undefined;
  return (await answer.json()) as { id: string; key: string };
}

/** A random secret kept in `file` (made on first use, readable by its owner only). */
function persistedSecret(file: string): string {
  if (existsSync(file)) return readFileSync(file, "utf8").trim();
  mkdirSync(dataDir, { recursive: true });
  const secret = randomBytes(32).toString("hex");
  writeFileSync(file, `${secret}\n`, { mode: 0o600 });
  return secret;
}

/** The one-process system's sources under tsx watch (`make dev`): restarted when code changes. */
function spawnOneProcessWatched(processEnv: Record<string, string>) {
  const main = join(workspaceRoot, "packages/one-process/src/main.ts");
  return spawn(
    process.execPath,
    [tsxCli, "watch", "--clear-screen=false", "--import", tracingPreload, main],
    {
      cwd: workspaceRoot,
      env: { ...process.env, OTEL_SERVICE_NAME: "cloudsim", ...processEnv },
      stdio: ["ignore", "pipe", "pipe"],
    },
  );
}
