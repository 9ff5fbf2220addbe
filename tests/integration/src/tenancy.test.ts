import { ALL_TENANTS, billing, lifecycle, reaper } from "@cloudsim/shared";
import { beforeAll, describe, expect, it } from "vitest";
import { busOf, eventually, useStack } from "./harness.ts";
import {
  ADMIN_KEY,
  authEnv,
  expectProblem,
  type Keyed,
  keyed,
  newTenant,
  runningServer,
} from "./tenancy-helpers.ts";

describe("tenant isolation", () => {
  const ctx = useStack({ env: { ...authEnv, BILLING_INTERVAL: "200ms" } });
  let a: Keyed;
  let b: Keyed;
  let admin: Keyed;
  let server: string;

  beforeAll(async () => {
    a = keyed(ctx.stack.url, (await newTenant(ctx.stack.url, "tenant-a")).key);
    b = keyed(ctx.stack.url, (await newTenant(ctx.stack.url, "tenant-b")).key);
    admin = keyed(ctx.stack.url, ADMIN_KEY);
    server = await runningServer(a);
    // Stopped: its interval is settled, so the ledger has lines for the summary.
    expect((await a.post(`/servers/${server}/action`, { action: "stop" })).status).toBe(202);
    await eventually(async () =>
      (await a.get(`/servers/${server}`)).body.state === "stopped" ? true : undefined,
    );
  });

  it("answers 404 for another tenant's server on every route", async () => {
    expectProblem(await b.get(`/servers/${server}`), 404, "NOT_FOUND");
    expectProblem(await b.get(`/servers/${server}/logs`), 404, "NOT_FOUND");
    expectProblem(await b.get(`/servers/${server}/billing`), 404, "NOT_FOUND");
    expectProblem(await b.post(`/servers/${server}/action`, { action: "start" }), 404, "NOT_FOUND");
    expectProblem(await b.call("DELETE", `/servers/${server}`), 404, "NOT_FOUND");
    // The owner still sees it, unchanged.
    const own = await a.get(`/servers/${server}`);
    expect(own.status).toBe(200);
    expect(own.body.state).toBe("stopped");
    expect((await a.get(`/servers/${server}/logs`)).status).toBe(200);
    expect((await a.get(`/servers/${server}/billing`)).status).toBe(200);
  });

  it("lists and bills only the caller's servers; the admin key sees every tenant", async () => {
    const ids = async (api: Keyed, query = "") =>
      (await api.get(`/servers?limit=100${query}`)).body.items.map((s: { id: string }) => s.id);
    expect(await ids(a)).toEqual([server]);
    expect(await ids(b)).toEqual([]);
    expect(await ids(b, "&state=stopped")).toEqual([]);
    expect(await ids(admin)).toContain(server);

    const summaryIds = async (api: Keyed) =>
      (await api.get("/billing/summary?limit=100")).body.by_server.map(
        (s: { server_id: string }) => s.server_id,
      );
    await eventually(async () => ((await summaryIds(a)).includes(server) ? true : undefined));
    expect(await summaryIds(b)).toEqual([]);
    expect((await b.get("/billing/summary")).body.total.amount).toMatch(/^0\.0+$/);
    expect(await summaryIds(admin)).toContain(server);
    expect((await admin.get(`/servers/${server}`)).status).toBe(200);
  });

  it("refuses a NATS request that names no tenant scope; only ALL_TENANTS sees every tenant", async () => {
    const bus = await busOf(ctx.stack);
    try {
      const unscoped = [
        bus.request(lifecycle.list, {} as never),
        bus.request(lifecycle.list, { tenant_id: null } as never),
        bus.request(lifecycle.get, { id: server } as never),
        bus.request(lifecycle.logs, { id: server } as never),
        bus.request(billing.summary, {} as never),
        bus.request(reaper.status, {} as never),
      ];
      for (const refused of await Promise.allSettled(unscoped)) {
        expect(refused.status).toBe("rejected");
        expect((refused as PromiseRejectedResult).reason).toMatchObject({ code: "VALIDATION" });
        expect((refused as PromiseRejectedResult).reason.message).toMatch(/tenant_id/);
      }
      const all = await bus.request(lifecycle.list, { tenant_id: ALL_TENANTS, limit: 100 });
      expect(all.items.map((s) => s.id)).toContain(server);
      const other = await bus
        .request(lifecycle.get, { id: server, tenant_id: "tenant-that-is-not" })
        .catch((e) => e);
      expect(other).toMatchObject({ code: "NOT_FOUND" });
    } finally {
      await bus.close();
    }
  });

  it("keeps Idempotency-Keys apart per tenant", async () => {
    const body = { region: "eu-west-1", type: "t2.nano" };
    const first = await a.post("/servers", body, { "idempotency-key": "shared-key" });
    const other = await b.post("/servers", body, { "idempotency-key": "shared-key" });
    expect(first.status).toBe(201);
    expect(other.status).toBe(201);
    expect(other.body.id).not.toBe(first.body.id);
    expect(other.headers.get("idempotent-replayed")).toBeNull();
    const replay = await b.post("/servers", body, { "idempotency-key": "shared-key" });
    expect(replay.body.id).toBe(other.body.id);
  });

  it("ignores a tenant_id in the request", async () => {
    expectProblem(await b.get(`/servers?tenant_id=default`), 400, "VALIDATION");
    const created = await b.post("/servers", { region: "us-east-1", type: "t2.nano", tenant_id: "x" });
    expectProblem(created, 400, "VALIDATION");
  });
});
