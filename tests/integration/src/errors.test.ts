import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { type Answer, useStack } from "./harness.ts";

/** A problem+json answer with this status and code, whose request_id is the one in the header. */
function expectProblem(res: Answer, status: number, code: string) {
  expect(res.status, JSON.stringify(res.body)).toBe(status);
  expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
  expect(res.body).toMatchObject({ status, code, title: expect.any(String), detail: expect.any(String) });
  expect(res.body.type).toBe(`urn:cloudsim:problem:${code.toLowerCase()}`);
  expect(res.body.request_id).toEqual(expect.any(String));
  expect(res.body.request_id).toBe(res.headers.get("x-request-id"));
}

/** A 400 whose fields and detail both name `field`. */
function expectInvalidField(res: Answer, field: string) {
  expectProblem(res, 400, "VALIDATION");
  expect(res.body.fields, JSON.stringify(res.body)).toEqual(expect.any(Array));
  expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(field);
  expect(res.body.detail).toContain(field);
}

describe("errors", () => {
  const ctx = useStack();
  const api = ctx.api;
  const valid = { region: "us-east-1", type: "t2.micro" };

  describe("404 on every route", () => {
    it("GET /servers/{unknown uuid}", async () => {
      const id = randomUUID();
      const res = await api.get(`/servers/${id}`);
      expectProblem(res, 404, "NOT_FOUND");
      expect(res.body.detail).toContain(id);
      expect(res.body.instance).toBe(`/servers/${id}`);
    });

    it("GET /servers/not-a-uuid", async () => {
      expectProblem(await api.get("/servers/not-a-uuid"), 404, "NOT_FOUND");
    });

    it("GET /servers/{unknown uuid}/logs", async () => {
      expectProblem(await api.get(`/servers/${randomUUID()}/logs`), 404, "NOT_FOUND");
    });

    it("an unknown route", async () => {
      for (const [method, path] of [
        ["GET", "/nothing-here"],
        ["DELETE", "/servers"],
        ["GET", "/servers/a/b/c"],
      ] as const) {
        const res = await api.call(method, path);
        expectProblem(res, 404, "NOT_FOUND");
        expect(res.body.detail).toContain(path);
      }
    });
  });

  describe("a bad body is 400 naming the field", () => {
    it.each([
      ["missing region", { type: "t2.micro" }, "region"],
      ["missing type", { region: "us-east-1" }, "type"],
      ["unknown region", { ...valid, region: "mars-1" }, "region"],
      ["unknown type", { ...valid, type: "t9.huge" }, "type"],
      ["name too long", { ...valid, name: "n".repeat(64) }, "name"],
      ["name with invalid characters", { ...valid, name: "web server!" }, "name"],
      ["name starting with a dash", { ...valid, name: "-web" }, "name"],
      ["name not a string", { ...valid, name: 42 }, "name"],
      ["tags not an object", { ...valid, tags: "env=prod" }, "tags"],
      ["tags an array", { ...valid, tags: ["env"] }, "tags"],
      ["tag value too long", { ...valid, tags: { env: "v".repeat(257) } }, "tags.env"],
      ["tag value not a string", { ...valid, tags: { size: 3 } }, "tags.size"],
      ["tag key with invalid characters", { ...valid, tags: { "bad key": "x" } }, "tags.bad key"],
      [
        "too many tags",
        { ...valid, tags: Object.fromEntries([...Array(51)].map((_, i) => [`k${i}`, "v"])) },
        "tags",
      ],
      ["an unknown extra key", { ...valid, colour: "blue" }, "colour"],
    ])("%s", async (_what, body, field) => {
      expectInvalidField(await api.post("/servers", body), field);
    });

    it("a body that is not JSON", async () => {
      expectInvalidField(await api.post("/servers", "{region: us-east-1"), "body");
    });

    it("a JSON array body", async () => {
      expectInvalidField(await api.post("/servers", [valid]), "body");
    });

    it("no body at all", async () => {
      expectInvalidField(await api.post("/servers"), "body");
    });

    it("a text/plain body", async () => {
      expectInvalidField(
        await api.call("POST", "/servers", "region=us-east-1", { "content-type": "text/plain" }),
        "body",
      );
    });

    it("an empty body that says it is JSON", async () => {
      expectInvalidField(
        await api.call("POST", "/servers", "", { "content-type": "application/json" }),
        "body",
      );
    });

    it("a body over BODY_LIMIT is 413 naming the body", async () => {
      const res = await api.post("/servers", { ...valid, tags: { big: "x".repeat(70_000) } });
      expect(res.status).toBe(413);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe("VALIDATION");
      expect(res.body.fields.map((f: { field: string }) => f.field)).toEqual(["body"]);
    });

    it("a body of a media type the API does not take is 415 naming the body", async () => {
      const res = await api.call("POST", "/servers", "<server region='us-east-1'/>", {
        "content-type": "application/xml",
      });
      expect(res.status).toBe(415);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.body.fields.map((f: { field: string }) => f.field)).toEqual(["body"]);
    });

    it("the original path /server validates the same way", async () => {
      expectInvalidField(await api.post("/server", { type: "t2.micro" }), "region");
    });

    it("a bad Idempotency-Key header", async () => {
      expectInvalidField(
        await api.post("/servers", valid, { "idempotency-key": "k".repeat(256) }),
        "idempotency-key",
      );
    });

    it("every problem in one answer", async () => {
      const res = await api.post("/servers", { region: "mars-1", type: "t9.huge", name: "" });
      expectProblem(res, 400, "VALIDATION");
      const fields = res.body.fields.map((f: { field: string }) => f.field);
      expect(fields).toEqual(expect.arrayContaining(["region", "type", "name"]));
    });

    it("created nothing: the list is empty and no address is in use", async () => {
      const list = await api.get("/servers");
      expect(list.status).toBe(200);
      expect(list.body).toEqual({ items: [], next_cursor: null });
      const pools = await api.get("/ipam/pools");
      expect(pools.status).toBe(200);
      expect(pools.body.items.length).toBeGreaterThan(0);
      for (const pool of pools.body.items) expect(pool.used).toBe(0);
    });
  });
});

describe("lifecycle not running", () => {
  const timeoutMs = 500;
  const ctx = useStack({ skip: ["lifecycle"], env: { REQUEST_TIMEOUT: `${timeoutMs}ms` } });
  const api = ctx.api;

  const timed = async (request: () => Promise<Answer>) => {
    const started = Date.now();
    const res = await request();
    return { res, elapsed: Date.now() - started };
  };

  it("GET /servers answers 503 UNAVAILABLE within about REQUEST_TIMEOUT, never a hang", async () => {
    const { res, elapsed } = await timed(() => api.get("/servers"));
    expectProblem(res, 503, "UNAVAILABLE");
    expect(res.headers.get("retry-after")).toBe("1");
    expect(res.body.detail).toContain("lifecycle");
    expect(elapsed).toBeLessThan(timeoutMs + 1_500);
  });

  it("every lifecycle route answers 503 the same way", async () => {
    for (const request of [
      () => api.post("/servers", { region: "us-east-1", type: "t2.micro" }),
      () => api.get(`/servers/${randomUUID()}`),
      () => api.get(`/servers/${randomUUID()}/logs`),
    ]) {
      const { res, elapsed } = await timed(request);
      expectProblem(res, 503, "UNAVAILABLE");
      expect(elapsed).toBeLessThan(timeoutMs + 1_500);
    }
  });

  it("while ipam, which is up, still answers", async () => {
    const res = await api.get("/ipam/pools");
    expect(res.status).toBe(200);
    expect(res.body.items.length).toBeGreaterThan(0);
  });
});
