import { randomBytes } from "node:crypto";
import { createTestDatabase, type TestDatabase } from "@cloudsim/shared/testing";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { client, eventually, fastEnv } from "./harness.ts";
import { runToExit, type ServiceProcess, startProcess } from "./processes.ts";

describe("lifecycle killed while servers are provisioning", () => {
  let database: TestDatabase;
  const processes: ServiceProcess[] = [];
  let env: Record<string, string | undefined>;

  beforeAll(async () => {
    database = await createTestDatabase(inject("postgresAdminUrl"));
    env = {
      ...fastEnv,
      LOG_LEVEL: "warn",
      PROVISION_DELAY: "2s",
      DATABASE_URL: database.url,
      NATS_URL: inject("natsUrl"),
      NATS_SUBJECT_PREFIX: `t${randomBytes(5).toString("hex")}.`,
    };
  });
  afterAll(async () => {
    for (const p of processes) await p.stop();
    await database?.drop();
  });

  it("finishes every transition after a restart", async () => {
    const [ipam, lifecycle, gateway] = await Promise.all(
      (["ipam", "lifecycle", "gateway"] as const).map((name) => startProcess(name, env)),
    );
    processes.push(ipam as ServiceProcess, gateway as ServiceProcess);
    const api = client(`http://127.0.0.1:${gateway?.port}`);
    await eventually(async () =>
      (await api.get("/readyz").catch(() => undefined))?.status === 200 ? true : undefined,
    );

    const startedAt = Date.now();
    const created = await Promise.all(
      Array.from({ length: 20 }, () => api.post("/servers", { region: "us-west-2", type: "t2.small" })),
    );
    expect(created.map((c) => c.status)).toEqual(Array(20).fill(201));
    // Killed well inside PROVISION_DELAY, so every server is still provisioning.
    await lifecycle?.kill();
    expect(Date.now() - startedAt).toBeLessThan(1_500);

    // Nothing can move while lifecycle is down: the timer lives in its database rows.
    await new Promise((r) => setTimeout(r, 2_500));
    const restarted = await startProcess("lifecycle", env);
    processes.push(restarted);

    for (const { body } of created) {
      const server = await eventually(async () => {
        const r = await api.get(`/servers/${body.id}`);
        return r.body.state === "running" ? r.body : undefined;
      }, 15_000);
      expect(server.ip_address).toBe(body.ip_address);
    }
    const log = await api.get(`/servers/${created[0]?.body.id}/logs`);
    expect(log.body.items.filter((e: { to_state: string }) => e.to_state === "running")).toHaveLength(1);
  });
});

describe("configuration", () => {
  it("stops start-up naming every bad variable", async () => {
    const { code, output } = await runToExit("lifecycle", {
      PROVISION_DELAY: "soon",
      DB_PORT: "99999",
      LOG_LEVEL: "loud",
    });
    expect(code).toBe(1);
    expect(output).toMatch(/PROVISION_DELAY: expected a duration like 500ms, 2s, 30m or 2h \(got "soon"\)/);
    expect(output).toMatch(/DB_PORT: .*"99999"/);
    expect(output).toMatch(/LOG_LEVEL: .*"loud"/);
  });

  it("refuses an IPAM_POOLS it cannot use", async () => {
    const { code, output } = await runToExit("ipam", {
      IPAM_POOLS: "mars-1=10.0.0.0/24,us-east-1=10.0.0.7/24",
    });
    expect(code).toBe(1);
    expect(output).toMatch(/IPAM_POOLS: unknown region "mars-1"/);
    expect(output).toMatch(/did you mean 10.0.0.0\/24/);
  });
});
