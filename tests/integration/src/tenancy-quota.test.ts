import { describe, expect, it } from "vitest";
import { eventually, useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, expectProblem, keyed, newTenant, runningServer } from "./tenancy-helpers.ts";

describe("quotas", () => {
  // A burst of 50 provisions on a busy 2-core machine may take longer than the harness's 3 s.
  const ctx = useStack({
    env: { ...authEnv, TENANT_MAX_SERVERS: "20", TENANT_MAX_VCPUS: "40", REQUEST_TIMEOUT: "15s" },
  });

  it("shows the configured defaults and lets the admin set a tenant's own", async () => {
    const tenant = await newTenant(ctx.stack.url, "limits");
    const admin = keyed(ctx.stack.url, ADMIN_KEY);
    const shown = (await admin.get("/admin/tenants")).body.items.find(
      (t: { id: string }) => t.id === tenant.id,
    );
    expect(shown).toMatchObject({ max_servers: 20, max_vcpus: 40 });
    const patched = await admin.call("PATCH", `/admin/tenants/${tenant.id}`, { max_servers: 3 });
    expect(patched.body).toMatchObject({ id: tenant.id, max_servers: 3, max_vcpus: 40 });
    const reset = await admin.call("PATCH", `/admin/tenants/${tenant.id}`, { max_servers: null });
    expect(reset.body).toMatchObject({ max_servers: 20 });
    expectProblem(
      await admin.call("PATCH", `/admin/tenants/${tenant.id}`, { max_servers: -1 }),
      400,
      "VALIDATION",
    );
    expectProblem(await admin.call("PATCH", "/admin/tenants/nobody", { max_servers: 1 }), 404, "NOT_FOUND");
    expectProblem(
      await keyed(ctx.stack.url, tenant.key).call("PATCH", `/admin/tenants/${tenant.id}`, {
        max_servers: 99,
      }),
      403,
      "FORBIDDEN",
    );
  });

  it("never passes max_servers under 50 concurrent provisions, and leaks no address", async () => {
    const tenant = await newTenant(ctx.stack.url, "crowd");
    await keyed(ctx.stack.url, ADMIN_KEY).call("PATCH", `/admin/tenants/${tenant.id}`, { max_servers: 7 });
    const api = keyed(ctx.stack.url, tenant.key);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => api.post("/servers", { region: "ap-southeast-1", type: "t2.nano" })),
    );
    expect(answers.filter((r) => r.status === 201)).toHaveLength(7);
    for (const r of answers.filter((r) => r.status !== 201)) {
      expectProblem(r, 409, "QUOTA_EXCEEDED");
      expect(r.body).toMatchObject({ quota: "max_servers", limit: 7, requested: 1 });
      expect(r.body.usage).toBeGreaterThanOrEqual(7);
    }
    expect((await api.get("/servers?limit=100")).body.items).toHaveLength(7);
    // Refused provisions give back any address they took.
    await eventually(async () => {
      const pools = (await api.get("/ipam/pools")).body.items as { region: string; used: number }[];
      return pools.find((p) => p.region === "ap-southeast-1")?.used === 7 ? true : undefined;
    });
    // A terminated server makes room again.
    const first = answers.find((r) => r.status === 201)?.body.id;
    expect((await api.call("DELETE", `/servers/${first}`)).status).toBe(202);
    await eventually(async () =>
      (await api.get(`/servers/${first}`)).body.state === "terminated" ? true : undefined,
    );
    expect((await api.post("/servers", { region: "ap-southeast-1", type: "t2.nano" })).status).toBe(201);
  });

  it("counts the vCPUs of running servers, on provision and on start", async () => {
    const tenant = await newTenant(ctx.stack.url, "cpus");
    await keyed(ctx.stack.url, ADMIN_KEY).call("PATCH", `/admin/tenants/${tenant.id}`, { max_vcpus: 2 });
    const api = keyed(ctx.stack.url, tenant.key);
    const medium = await runningServer(api, "us-west-2", "t2.medium");
    const refused = await api.post("/servers", { region: "us-west-2", type: "t2.nano" });
    expectProblem(refused, 409, "QUOTA_EXCEEDED");
    expect(refused.body).toMatchObject({ quota: "max_vcpus", limit: 2, usage: 2, requested: 1 });
    expect((await api.post(`/servers/${medium}/action`, { action: "stop" })).status).toBe(202);
    await eventually(async () =>
      (await api.get(`/servers/${medium}`)).body.state === "stopped" ? true : undefined,
    );
    expect((await api.post("/servers", { region: "us-west-2", type: "t2.nano" })).status).toBe(201);
    const start = await api.post(`/servers/${medium}/action`, { action: "start" });
    expectProblem(start, 409, "QUOTA_EXCEEDED");
    expect(start.body).toMatchObject({ quota: "max_vcpus", limit: 2, usage: 1, requested: 2 });
    expect((await api.get(`/servers/${medium}`)).body.state).toBe("stopped");
  });
});
