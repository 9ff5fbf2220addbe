import fc from "fast-check";
import { beforeAll, expect, it } from "vitest";
import { useStack } from "./harness.ts";
import { ADMIN_KEY, authEnv, bearer, newTenant } from "./tenancy-helpers.ts";

/** Every route of the API, with `:id` where a path parameter goes. */
const routes: [method: string, path: string][] = [
  ["POST", "/servers"],
  ["POST", "/server"],
  ["GET", "/servers"],
  ["GET", "/servers/:id"],
  ["GET", "/servers/:id/logs"],
  ["GET", "/servers/:id/billing"],
  ["POST", "/servers/:id/action"],
  ["DELETE", "/servers/:id"],
  ["GET", "/billing/summary"],
  ["GET", "/ipam/pools"],
  ["GET", "/reaper/status"],
  ["POST", "/admin/tenants"],
  ["GET", "/admin/tenants"],
  ["PATCH", "/admin/tenants/:id"],
  ["POST", "/admin/tenants/:id/keys"],
  ["DELETE", "/admin/keys/:id"],
];
const queryKeys = ["region", "type", "state", "tag", "limit", "cursor", "from", "to", "tenant_id", "x"];

const huge = fc.constantFrom("a".repeat(70_000), "\u0000".repeat(1_000), "9".repeat(400), "é".repeat(5_000));
// Long, but under Node's own 16 KiB header limit (past it Node answers 431 before the app sees the request).
const longParam = fc.constantFrom("a".repeat(1_000), "%".repeat(300), "\u0000".repeat(300));
const scalar = fc.oneof(
  fc.string(),
  fc.string({ unit: "binary" }),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.constant(null),
  fc.constantFrom(
    "us-east-1",
    "t2.nano",
    "start",
    "running",
    "2020-01-01T00:00:00Z",
    "default",
    "-1",
    "1e309",
  ),
);
const value = fc.letrec((tie) => ({
  any: fc.oneof({ depthSize: "small" }, scalar, huge, fc.array(tie("any"), { maxLength: 5 }), tie("obj")),
  obj: fc.dictionary(
    fc.oneof(
      fc.string(),
      fc.constantFrom("region", "type", "name", "tags", "action", "max_servers", "__proto__"),
    ),
    tie("any"),
    { maxKeys: 5 },
  ),
})).any;
const deep = fc.integer({ min: 100, max: 5_000 }).map((n) => `${"[".repeat(n)}${"]".repeat(n)}`);

const request = fc.record({
  route: fc.constantFrom(...routes),
  id: fc.oneof(fc.string(), fc.uuid(), fc.string({ unit: "binary", maxLength: 300 }), fc.constant("default")),
  query: fc.array(
    fc.tuple(fc.oneof(fc.constantFrom(...queryKeys), fc.string()), fc.oneof(fc.string(), longParam)),
    {
      maxLength: 4,
    },
  ),
  body: fc.option(
    fc.oneof(
      value,
      deep.map((raw) => ({ raw })),
      fc.string().map((raw) => ({ raw })),
    ),
    {
      nil: undefined,
    },
  ),
  key: fc.constantFrom("admin", "tenant", "none", "bad"),
});

// Without the limit on failed authentications per address: a quarter of the requests carry a bad
// key, and past the limit the last check's good key would be refused too (auth-flood tests it).
const ctx = useStack({ env: { ...authEnv, AUTH_FAILURES_PER_MINUTE: "0" } });
let tenantKey: string;
beforeAll(async () => {
  tenantKey = (await newTenant(ctx.stack.url, "fuzz")).key;
});

it("answers every route with 2xx or 4xx problem+json, whatever the path, query and body", async () => {
  const api = ctx.api;
  await fc.assert(
    fc.asyncProperty(request, async ({ route: [method, template], id, query, body, key }) => {
      const path = template.replace(":id", encodeURIComponent(id));
      const qs = new URLSearchParams(query).toString();
      const headers: Record<string, string> =
        key === "admin"
          ? bearer(ADMIN_KEY)
          : key === "tenant"
            ? bearer(tenantKey)
            : key === "bad"
              ? bearer("x")
              : {};
      const raw =
        body === undefined
          ? undefined
          : typeof body === "object" && body !== null && "raw" in body && typeof body.raw === "string"
            ? body.raw
            : JSON.stringify(body);
      const res = await api.call(
        method === "GET" ? "GET" : method,
        `${path}${qs ? `?${qs}` : ""}`,
        method === "GET" ? undefined : raw,
        headers,
      );
      const what = `${res.status} (url ${path.length + qs.length}) ${JSON.stringify(res.body).slice(0, 300)} ← ${method} ${path.slice(0, 100)}?${qs.slice(0, 100)} ${String(raw).slice(0, 100)}`;
      expect(res.status, what).toBeLessThan(500);
      expect(res.status, what).toBeGreaterThanOrEqual(200);
      if (res.status >= 400) {
        expect(res.headers.get("content-type"), what).toMatch(/^application\/problem\+json/);
        expect(typeof res.body.code, what).toBe("string");
      }
    }),
    { numRuns: 300 },
  );
  // Everything still answers.
  expect((await api.get("/readyz")).status).toBe(200);
  const created = await api.post("/servers", { region: "us-east-1", type: "t2.nano" }, bearer(tenantKey));
  expect(created.status).toBe(201);
}, 120_000);

it("answers NUL bytes and other strings Postgres refuses with 4xx", async () => {
  const admin = ctx.api;
  const h = bearer(ADMIN_KEY);
  const cases: [string, string, unknown?][] = [
    ["POST", "/servers", { region: "us-east-1", type: "t2.nano", tags: { a: "\u0000" } }],
    ["POST", "/servers", { region: "us-east-1", type: "t2.nano", tags: { a: "\ud800" } }],
    ["GET", "/servers?tag=a:%00"],
    ["GET", "/servers?tag=a:%ED%A0%80"],
    ["GET", "/servers?cursor=%00"],
    ["GET", "/servers/%00"],
    ["GET", "/servers/%00/logs?cursor=%00"],
    ["PATCH", "/admin/tenants/%00", { max_servers: 1 }],
    ["POST", "/admin/tenants/%00/keys"],
    ["DELETE", "/admin/keys/%00"],
    ["POST", "/admin/tenants", { name: "a\u0000" }],
  ];
  for (const [method, path, body] of cases) {
    const res = await admin.call(method, path, body, h);
    expect(res.status, `${method} ${path}: ${JSON.stringify(res.body)}`).toBeLessThan(500);
  }
});
