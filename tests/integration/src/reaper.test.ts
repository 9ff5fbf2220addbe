import { AppError, lifecycle } from "@cloudsim/shared";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { busOf, type client, eventually, type ServiceName, useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, keyed, newTenant, runningServer } from "./tenancy-helpers.ts";

const reaperEnv = {
  IDLE_TIMEOUT: "1s",
  REAPER_INTERVAL: "150ms",
  PROVISION_DELAY: "100ms",
  START_DELAY: "100ms",
  STOP_DELAY: "100ms",
  TERMINATE_DELAY: "100ms",
};

type Api = ReturnType<typeof client>;
type Entry = { actor: string; message: string; to_state: string | null };

const useReaperStack = (
  env: Record<string, string> = {},
  replicas: Partial<Record<ServiceName, number>> = {},
) => useStack({ env: { ...reaperEnv, ...env }, replicas });

async function until(api: Api, id: string, state: string, timeoutMs = 10_000) {
  return eventually(
    async () => {
      const r = await api.get(`/servers/${id}`);
      return r.body.state === state ? r.body : undefined;
    },
    timeoutMs,
    `${id} ${state}`,
  );
}

async function stoppedServer(api: Api, tags: Record<string, string> = {}, region = "us-east-1") {
  const created = await api.post("/servers", { region, type: "t2.micro", tags });
  expect(created.status).toBe(201);
  await until(api, created.body.id, "running");
  expect((await api.post(`/servers/${created.body.id}/action`, { action: "stop" })).status).toBe(202);
  await until(api, created.body.id, "stopped");
  return created.body as { id: string; ip_address: string };
}

const reaperEntries = async (api: Api, id: string): Promise<Entry[]> =>
  (await api.get(`/servers/${id}/logs?limit=100`)).body.items.filter((e: Entry) => e.actor === "reaper");

const used = async (api: Api, region: string): Promise<number> =>
  (await api.get("/ipam/pools")).body.items.find((p: { region: string }) => p.region === region).used;

describe("the reaper", () => {
  const ctx = useReaperStack();

  it("terminates a server stopped for longer than IDLE_TIMEOUT, says so in its log, and frees its address", async () => {
    const server = await stoppedServer(ctx.api, {}, "eu-west-1");
    expect(await used(ctx.api, "eu-west-1")).toBe(1);
    await until(ctx.api, server.id, "terminated");
    const entries = await reaperEntries(ctx.api, server.id);
    expect(entries).toHaveLength(1);
    expect(entries[0]?.message).toMatch(/^idle for \d+s: terminate requested: stopped → terminating$/);
    await eventually(async () => ((await used(ctx.api, "eu-west-1")) === 0 ? true : undefined));
    const status = await ctx.api.get("/reaper/status");
    expect(status.status).toBe(200);
    expect(status.body).toMatchObject({
      dry_run: false,
      idle_timeout_seconds: 1,
      exempt_tag: "reaper.exempt=true",
    });
    expect(status.body.totals.reaped).toBeGreaterThanOrEqual(1);
    expect(status.body.last_sweep).not.toBeNull();
  });

  it("spares a server started again before it went idle", async () => {
    const server = await stoppedServer(ctx.api);
    expect((await ctx.api.post(`/servers/${server.id}/action`, { action: "start" })).status).toBe(202);
    await until(ctx.api, server.id, "running");
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await ctx.api.get(`/servers/${server.id}`)).body.state).toBe("running");
    expect(await reaperEntries(ctx.api, server.id)).toEqual([]);
  });

  it("spares a server with the exempt tag", async () => {
    const server = await stoppedServer(ctx.api, { "reaper.exempt": "true" });
    await new Promise((r) => setTimeout(r, 2_000));
    expect((await ctx.api.get(`/servers/${server.id}`)).body.state).toBe("stopped");
    expect(await reaperEntries(ctx.api, server.id)).toEqual([]);
    expect((await ctx.api.get("/reaper/status")).body.totals.spared).toBeGreaterThanOrEqual(1);
  });

  it("cannot terminate a server that changed since the reaper saw it: lifecycle re-checks", async () => {
    const bus = await busOf(ctx.stack);
    try {
      const created = await ctx.api.post("/servers", {
        region: "us-east-1",
        type: "t2.micro",
        tags: { "reaper.exempt": "true" },
      });
      const running = await until(ctx.api, created.body.id, "running");
      const attempt = (extra: Record<string, string>) =>
        bus.request(lifecycle.action, {
          id: created.body.id,
          tenant_id: "default",
          action: "terminate",
          actor: "reaper",
          ...extra,
        });
      await expect(attempt({ expected_state: "stopped" })).rejects.toMatchObject({ code: "CONFLICT" });
      const before = new Date(Date.parse(running.updated_at) - 1).toISOString();
      await expect(attempt({ unchanged_since: before })).rejects.toBeInstanceOf(AppError);
      expect((await ctx.api.get(`/servers/${created.body.id}`)).body.state).toBe("running");
    } finally {
      await bus.close();
    }
  });
});

describe("the reaper in dry run", () => {
  const ctx = useReaperStack({ REAPER_DRY_RUN: "true" });

  it("reports what it would reap and touches nothing", async () => {
    const server = await stoppedServer(ctx.api);
    await eventually(async () => {
      const status = await ctx.api.get("/reaper/status");
      return status.body.last_sweep?.reaped >= 1 ? status.body : undefined;
    });
    await new Promise((r) => setTimeout(r, 500));
    expect((await ctx.api.get(`/servers/${server.id}`)).body.state).toBe("stopped");
    expect(await reaperEntries(ctx.api, server.id)).toEqual([]);
    const status = await ctx.api.get("/reaper/status");
    expect(status.body).toMatchObject({ dry_run: true, last_sweep: { dry_run: true } });
    expect(status.body.watching).toMatchObject({ stopped: 1, idle: 1 });
  });
});

describe("three reaper replicas", () => {
  const ctx = useReaperStack({}, { reaper: 3 });

  it("terminate each idle server once", async () => {
    const servers = await Promise.all(Array.from({ length: 6 }, () => stoppedServer(ctx.api)));
    for (const server of servers) await until(ctx.api, server.id, "terminated");
    await new Promise((r) => setTimeout(r, 500));
    for (const server of servers) expect(await reaperEntries(ctx.api, server.id)).toHaveLength(1);
  });
});

describe("a reaper that was down", () => {
  const ctx = useReaperStack();

  it("catches up when it is back", async () => {
    const reaper = ctx.stack.services.find((s) => s.name === "reaper");
    if (!reaper) throw new Error("no reaper in the stack");
    await ctx.stack.stopService(reaper.running);
    const server = await stoppedServer(ctx.api);
    await new Promise((r) => setTimeout(r, 1_500));
    expect((await ctx.api.get(`/servers/${server.id}`)).body.state).toBe("stopped");
    expect((await ctx.api.get("/reaper/status")).status).toBe(503);
    await ctx.stack.start("reaper");
    await until(ctx.api, server.id, "terminated");
    expect(await reaperEntries(ctx.api, server.id)).toHaveLength(1);
  });
});

describe("the reaper's status, per tenant", () => {
  const ctx = useReaperStack(authEnv);

  it("counts a tenant's own servers; the admin key sees all", async () => {
    const a = await newTenant(ctx.stack.url, "a");
    const b = await newTenant(ctx.stack.url, "b");
    const apiA = keyed(ctx.stack.url, a.key);
    const id = await runningServer(apiA);
    expect((await apiA.post(`/servers/${id}/action`, { action: "stop" })).status).toBe(202);
    await eventually(async () =>
      (await apiA.get(`/servers/${id}`)).body.state === "terminated" ? true : undefined,
    );
    await eventually(async () => {
      const status = await apiA.get("/reaper/status");
      return status.body.totals.reaped === 1 ? true : undefined;
    });
    const ofB = await keyed(ctx.stack.url, b.key).get("/reaper/status");
    expect(ofB.status).toBe(200);
    expect(ofB.body.totals).toMatchObject({ reaped: 0, spared: 0 });
    expect(ofB.body.watching).toEqual({ stopped: 0, idle: 0 });
    const all = await keyed(ctx.stack.url, ADMIN_KEY).get("/reaper/status");
    expect(all.body.totals.reaped).toBeGreaterThanOrEqual(1);
  });
});

describe("a sweep's figures, per tenant", () => {
  // No sweep but the one at each start: the test restarts the reaper to run the sweep it reads.
  const ctx = useReaperStack({ ...authEnv, REAPER_INTERVAL: "1h" });

  it("counts each tenant's candidates, reaped, spared and errors of a real sweep", async () => {
    const apiA = keyed(ctx.stack.url, (await newTenant(ctx.stack.url, "a")).key);
    const apiB = keyed(ctx.stack.url, (await newTenant(ctx.stack.url, "b")).key);
    const admin = keyed(ctx.stack.url, ADMIN_KEY);
    const idle = await stoppedServer(apiA);
    await stoppedServer(apiA, { "reaper.exempt": "true" });
    const unanswered = await stoppedServer(apiB);
    for (const [api, stopped] of [
      [apiA, 2],
      [apiB, 1],
    ] as const)
      await eventually(async () => {
        const { watching } = (await api.get("/reaper/status")).body;
        return watching.stopped === stopped && watching.idle === stopped ? true : undefined;
      });
    const sweepsBefore = (await admin.get("/reaper/status")).body.totals.sweeps;

    // B's server row stays locked, so lifecycle cannot answer its terminate in time: an error.
    const lock = new pg.Client({ connectionString: ctx.stack.database.url });
    await lock.connect();
    try {
      await lock.query("BEGIN");
      await lock.query("SELECT 1 FROM lifecycle.servers WHERE id = $1 FOR UPDATE", [unanswered.id]);
      const reaper = ctx.stack.services.find((s) => s.name === "reaper");
      if (!reaper) throw new Error("no reaper in the stack");
      await ctx.stack.stopService(reaper.running);
      await ctx.stack.start("reaper", { REQUEST_TIMEOUT: "500ms" });
      await eventually(async () => {
        const { totals } = (await admin.get("/reaper/status")).body;
        return totals.sweeps === sweepsBefore + 1 ? true : undefined;
      });
    } finally {
      await lock.end();
    }

    const lastSweep = async (api: typeof admin) => (await api.get("/reaper/status")).body.last_sweep;
    expect(await lastSweep(apiA)).toMatchObject({
      dry_run: false,
      candidates: 2,
      reaped: 1,
      spared: 1,
      errors: 0,
    });
    expect(await lastSweep(apiB)).toMatchObject({
      dry_run: false,
      candidates: 1,
      reaped: 0,
      spared: 0,
      errors: 1,
    });
    expect(await lastSweep(admin)).toMatchObject({ candidates: 3, reaped: 1, spared: 1, errors: 1 });
    await until(apiA, idle.id, "terminated");
  });
});
