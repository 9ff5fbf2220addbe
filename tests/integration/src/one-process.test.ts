import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { type ServiceName, serviceNames } from "@cloudsim/one-process";
import type { Env } from "@cloudsim/shared";
import {
  createTestDatabase,
  ensureSchemaOwners,
  freePort,
  localNatsUser,
  type TestDatabase,
  workspaceRoot,
} from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { client, eventually } from "./harness.ts";
import { servers } from "./server-helpers.ts";

/**
 * The one-process bundle as `make run` starts it (packages/one-process, built by scripts/build.ts):
 * the five services in one node process, each with its own port, database role and NATS user,
 * given as <SERVICE>__<NAME>.
 */
describe("the one-process bundle", () => {
  let folder: string;
  let database: TestDatabase;
  let env: Env;
  let ports: Record<ServiceName, number>;

  beforeAll(async () => {
    folder = mkdtempSync(join(tmpdir(), "cloudsim-one-process-"));
    await promisify(execFile)(
      process.execPath,
      ["--import", "tsx", "scripts/build.ts", "--outdir", folder, "one-process"],
      { cwd: workspaceRoot },
    );
    symlinkSync(
      join(workspaceRoot, "packages/one-process/node_modules"),
      join(folder, "one-process/node_modules"),
    );
    database = await createTestDatabase(inject("postgresAdminUrl"));
    const owners = await ensureSchemaOwners(database.url);
    ports = Object.fromEntries(
      await Promise.all(serviceNames.map(async (name) => [name, await freePort()])),
    ) as Record<ServiceName, number>;
    const own = (name: ServiceName): Env => ({
      DATABASE_URL: name === "gateway" ? undefined : owners[name],
      ...localNatsUser(name),
      PORT: String(ports[name]),
    });
    env = {
      NATS_URL: inject("natsUrl"),
      NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
      AUTH_REQUIRED: "false",
      PROVISION_DELAY: "300ms",
      TIMER_INTERVAL: "25ms",
      IPAM_POOLS: "us-east-1=10.0.0.0/24",
      LOG_LEVEL: "info",
      LOG_PRETTY: "false",
      ...Object.fromEntries(
        serviceNames.flatMap((name) =>
          Object.entries(own(name))
            .filter(([, value]) => value !== undefined)
            .map(([key, value]) => [`${name.toUpperCase()}__${key}`, value]),
        ),
      ),
    };
  });
  afterAll(async () => {
    rmSync(folder, { recursive: true, force: true });
    await database?.drop();
  });

  const start = (extra: Env = {}) => {
    const bundle = join(folder, "one-process");
    const child = spawn(process.execPath, ["--import", "./tracing.js", "main.js"], {
      cwd: bundle,
      env: { PATH: process.env.PATH, ...env, ...extra },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let output = "";
    for (const stream of [child.stdout, child.stderr]) stream.on("data", (d) => (output += String(d)));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, exited, output: () => output };
  };

  it("runs every service on its own port and serves the API; SIGTERM stops them, the gateway first", async () => {
    const system = start();
    try {
      await eventually(
        async () => {
          if (system.child.exitCode !== null) throw new Error(`exited:\n${system.output()}`);
          return (await readyAll(ports)) || undefined;
        },
        30_000,
        "every service's /readyz",
      );
      const api = client(`http://127.0.0.1:${ports.gateway}`);
      const s = servers(api);
      const created = await s.provision();
      await s.until(created.id, "running");
      // Each service logs as itself, on the one process's output (they start side by side).
      const started = lines(system.output()).filter((l) => String(l.msg).endsWith(" started"));
      expect(started.map((l) => l.service).sort()).toEqual([...serviceNames].sort());
    } finally {
      system.child.kill("SIGTERM");
    }
    expect(await system.exited).toBe(0);
    const stopping = lines(system.output()).filter((l) => String(l.msg).endsWith(" stopping"));
    expect(stopping.map((l) => l.service)).toEqual(serviceNames.toReversed());
  });

  it("refuses a bad setting of one service, naming the service and the variable, and starts nothing", async () => {
    const system = start({ REAPER__IDLE_TIMEOUT: "soon" });
    expect(await system.exited).toBe(1);
    expect(system.output()).toContain("reaper: invalid configuration");
    expect(system.output()).toContain(
      'IDLE_TIMEOUT: expected a duration like 500ms, 2s, 30m or 2h (got "soon")',
    );
    expect(await readyAll(ports)).toBe(false);
  });
});

async function readyAll(ports: Record<ServiceName, number>): Promise<boolean> {
  const answers = await Promise.all(
    Object.values(ports).map((port) =>
      fetch(`http://127.0.0.1:${port}/readyz`).then(
        (r) => r.ok,
        () => false,
      ),
    ),
  );
  return answers.every(Boolean);
}

function lines(output: string): Record<string, unknown>[] {
  return output
    .split("\n")
    .filter((line) => line.startsWith("{"))
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}
