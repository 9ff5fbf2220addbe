import { createHash } from "node:crypto";
import pg from "pg";
import { describe, expect, it } from "vitest";
import { useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, bearer, expectProblem, keyed, newTenant } from "./tenancy-helpers.ts";

describe("API keys", () => {
  const ctx = useStack({ env: authEnv });
  const api = ctx.api;
  const keys: string[] = [ADMIN_KEY];

  it("answers 401 problem+json without a key, with a malformed header or with an unknown key", async () => {
    for (const headers of [
      {},
      { authorization: "Basic dXNlcjpwYXNz" },
      { authorization: "Bearer" },
      bearer("csk_not-a-key"),
    ]) {
      for (const path of [
        "/servers",
        "/billing/summary",
        "/ipam/pools",
        "/reaper/status",
        "/no/such/route",
      ]) {
        const res = await api.get(path, headers);
        expectProblem(res, 401, "UNAUTHORIZED");
        expect(res.headers.get("www-authenticate")).toMatch(/^Bearer/);
      }
      expectProblem(
        await api.post("/servers", { region: "us-east-1", type: "t2.nano" }, headers),
        401,
        "UNAUTHORIZED",
      );
    }
  });

  it("keeps health, metrics and the docs open", async () => {
    for (const path of [
      "/healthz",
      "/readyz",
      "/metrics",
      "/openapi.json",
      "/docs/static/index.html",
      "/swagger/index.html",
    ]) {
      expect((await api.get(path)).status, path).toBe(200);
    }
    const docs = await api.get("/docs/static/index.html");
    expect(docs.headers.get("content-security-policy")).toMatch(/frame-ancestors 'none'/);
    expect(docs.headers.get("x-content-type-options")).toBe("nosniff");
    expect(docs.headers.get("x-frame-options")).toBe("DENY");
    const spec = (await api.get("/openapi.json")).body;
    expect(spec.components.securitySchemes.apiKey).toEqual({ type: "http", scheme: "bearer" });
  });

  it("creates tenants and keys with the admin key; a tenant's key is 403 on the admin routes", async () => {
    const tenant = await newTenant(ctx.stack.url, "acme");
    keys.push(tenant.key);
    expect(tenant.key).toMatch(/^csk_[A-Za-z0-9_-]{43}$/);
    const admin = keyed(ctx.stack.url, ADMIN_KEY);
    const list = await admin.get("/admin/tenants");
    expect(list.status).toBe(200);
    expect(list.body.items.map((t: { id: string }) => t.id)).toEqual(
      expect.arrayContaining(["default", tenant.id]),
    );

    const own = keyed(ctx.stack.url, tenant.key);
    expect((await own.get("/servers")).status).toBe(200);
    expectProblem(await own.get("/admin/tenants"), 403, "FORBIDDEN");
    expectProblem(await own.post("/admin/tenants", { name: "mine" }), 403, "FORBIDDEN");
    expectProblem(await own.call("DELETE", `/admin/keys/${tenant.keyId}`), 403, "FORBIDDEN");
    expectProblem(await admin.post("/admin/tenants/no-such-tenant/keys"), 404, "NOT_FOUND");
    expectProblem(await admin.post("/admin/tenants", { name: "" }), 400, "VALIDATION");
  });

  it("stores only the SHA-256 of a key", async () => {
    const tenant = await newTenant(ctx.stack.url, "hashed");
    keys.push(tenant.key);
    const db = new pg.Client({ connectionString: ctx.stack.database.url });
    await db.connect();
    try {
      const { rows } = await db.query("SELECT * FROM lifecycle.api_keys WHERE id = $1", [tenant.keyId]);
      expect(rows[0].key_hash).toBe(createHash("sha256").update(tenant.key).digest("hex"));
      expect(JSON.stringify(rows)).not.toContain(tenant.key);
    } finally {
      await db.end();
    }
  });

  it("refuses a revoked key at once", async () => {
    const tenant = await newTenant(ctx.stack.url, "revoked");
    keys.push(tenant.key);
    const own = keyed(ctx.stack.url, tenant.key);
    expect((await own.get("/servers")).status).toBe(200); // now in the gateway's cache
    const admin = keyed(ctx.stack.url, ADMIN_KEY);
    expect((await admin.call("DELETE", `/admin/keys/${tenant.keyId}`)).status).toBe(204);
    expectProblem(await own.get("/servers"), 401, "UNAUTHORIZED");
    expect((await admin.call("DELETE", `/admin/keys/${tenant.keyId}`)).status).toBe(204);
    expectProblem(await admin.call("DELETE", "/admin/keys/nope"), 404, "NOT_FOUND");
  });

  it("writes no key and no Authorization header into any log line", async () => {
    const tenant = await newTenant(ctx.stack.url, "quiet");
    keys.push(tenant.key);
    const own = keyed(ctx.stack.url, tenant.key);
    await own.post("/servers", { region: "us-east-1", type: "t2.nano" });
    await own.get("/servers/not-a-server");
    await api.get("/servers", bearer(`${tenant.key}x`));
    const text = JSON.stringify(ctx.stack.logs.lines);
    expect(ctx.stack.logs.lines.length).toBeGreaterThan(10);
    for (const key of keys) expect(text).not.toContain(key);
    expect(text).not.toContain("csk_");
    expect(text.toLowerCase()).not.toContain("bearer ");
  });
});

describe("the rate limit", () => {
  const ctx = useStack({ env: { ...authEnv, RATE_LIMIT_PER_MINUTE: "120" } });

  it("answers 429 with Retry-After past the limit, per key, and recovers", async () => {
    const a = await newTenant(ctx.stack.url, "busy");
    const b = await newTenant(ctx.stack.url, "calm");
    const busy = keyed(ctx.stack.url, a.key);
    const answers = await Promise.all(Array.from({ length: 130 }, () => busy.get("/servers")));
    expect(answers.filter((r) => r.status === 200).length).toBeGreaterThanOrEqual(120);
    // Checked on an answer of the burst itself: the bucket refills two a second, so a request
    // sent after a slow burst could find a fresh token.
    const limited = answers.find((r) => r.status === 429);
    if (!limited) throw new Error("no answer of the burst was 429");
    expectProblem(limited, 429, "RATE_LIMITED");
    expect(Number(limited.headers.get("retry-after"))).toBeGreaterThanOrEqual(1);
    // Another key has its own bucket; health is never limited.
    expect((await keyed(ctx.stack.url, b.key).get("/servers")).status).toBe(200);
    expect((await ctx.api.get("/healthz")).status).toBe(200);
    // Two requests a second come back.
    await new Promise((r) => setTimeout(r, 1_100));
    expect((await busy.get("/servers")).status).toBe(200);
  });
});
