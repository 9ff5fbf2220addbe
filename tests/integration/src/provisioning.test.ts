import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { eventually, useStack } from "./harness.ts";

const uuidV7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
const uuidAny = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("provisioning a server", () => {
  const provisionDelayMs = 300;
  const ctx = useStack({ env: { PROVISION_DELAY: `${provisionDelayMs}ms` } });
  const api = ctx.api;

  const untilRunning = (id: string) =>
    eventually(
      async () => {
        const res = await api.get(`/servers/${id}`);
        return res.body.state === "running" ? res : undefined;
      },
      10_000,
      `server ${id} running`,
    );

  it("POST /servers answers 201 with a Location, the server in provisioning and an address", async () => {
    const tags = { env: "test", "team/owner": "infra", "a.b/c_d-e": "" };
    const res = await api.post("/servers", { region: "eu-central-1", type: "t2.small", tags });

    expect(res.status).toBe(201);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    const server = res.body;
    expect(server.id).toMatch(uuidV7);
    expect(res.headers.get("location")).toBe(`/servers/${server.id}`);
    expect(server).toMatchObject({
      name: `server-${server.id.slice(-8)}`,
      region: "eu-central-1",
      type: "t2.small",
      vcpus: 1,
      memory_mib: 2048,
      state: "provisioning",
      tags,
      running_since: null,
      uptime_seconds: 0,
    });
    // eu-central-1 is 10.3.0.0/22 in the harness; network and gateway are never handed out.
    expect(server.ip_address).toMatch(/^10\.3\.[0-3]\.\d{1,3}$/);
    expect(["10.3.0.0", "10.3.0.1", "10.3.3.255"]).not.toContain(server.ip_address);
    expect(Number.isNaN(Date.parse(server.created_at))).toBe(false);
  });

  it("reaches running after PROVISION_DELAY, with running_since set, and GET /servers/{id} returns it", async () => {
    const created = await api.post("/servers", { region: "us-east-1", type: "m5.large", name: "web-01" });
    expect(created.status).toBe(201);
    expect(created.body.state).toBe("provisioning");
    const id = created.body.id;

    const running = await untilRunning(id);
    expect(running.status).toBe(200);
    const server = running.body;
    expect(server).toMatchObject({
      id,
      name: "web-01",
      region: "us-east-1",
      type: "m5.large",
      vcpus: 2,
      memory_mib: 8192,
      state: "running",
      ip_address: created.body.ip_address,
      tags: {},
      created_at: created.body.created_at,
    });
    expect(server.running_since).not.toBeNull();
    const waited = Date.parse(server.running_since) - Date.parse(server.created_at);
    expect(waited).toBeGreaterThanOrEqual(provisionDelayMs);
    expect(waited).toBeLessThan(provisionDelayMs + 5_000);
    expect(Date.parse(server.updated_at)).toBeGreaterThanOrEqual(Date.parse(server.running_since));
    expect(server.uptime_seconds).toBeGreaterThanOrEqual(0);
  });

  it("POST /server (the original path) provisions the same way", async () => {
    const res = await api.post("/server", {
      region: "ap-southeast-1",
      type: "c5.large",
      tags: { via: "old" },
    });
    expect(res.status).toBe(201);
    expect(res.headers.get("location")).toBe(`/servers/${res.body.id}`);
    expect(res.body).toMatchObject({
      name: `server-${res.body.id.slice(-8)}`,
      region: "ap-southeast-1",
      type: "c5.large",
      state: "provisioning",
      tags: { via: "old" },
    });
    expect(res.body.ip_address).toMatch(/^10\.4\./);

    const fetched = await api.get(`/servers/${res.body.id}`);
    expect(fetched.status).toBe(200);
    expect(fetched.body.id).toBe(res.body.id);
    const running = await untilRunning(res.body.id);
    expect(running.body.running_since).not.toBeNull();
  });

  describe("X-Request-Id", () => {
    it("is echoed when the client sends a sane one, on success and on error", async () => {
      const rid = `client-${randomBytes(6).toString("hex")}`;
      const ok = await api.post(
        "/servers",
        { region: "us-west-2", type: "t2.nano" },
        { "x-request-id": rid },
      );
      expect(ok.status).toBe(201);
      expect(ok.headers.get("x-request-id")).toBe(rid);

      const missing = await api.get("/servers/not-a-server", { "x-request-id": `${rid}-2` });
      expect(missing.status).toBe(404);
      expect(missing.headers.get("x-request-id")).toBe(`${rid}-2`);
      expect(missing.body.request_id).toBe(`${rid}-2`);
    });

    it("is generated when absent, a new one per request", async () => {
      const a = await api.get("/servers");
      const b = await api.get("/servers");
      expect(a.headers.get("x-request-id")).toMatch(uuidAny);
      expect(b.headers.get("x-request-id")).toMatch(uuidAny);
      expect(a.headers.get("x-request-id")).not.toBe(b.headers.get("x-request-id"));
    });

    it("replaces a garbage one (too long, or with characters that do not belong in a log)", async () => {
      for (const garbage of ["a".repeat(300), "two words", "x\u00e9y", "<script>"]) {
        const res = await api.get("/servers", { "x-request-id": garbage });
        expect(res.status).toBe(200);
        const echoed = res.headers.get("x-request-id");
        expect(echoed).not.toBe(garbage);
        expect(echoed).toMatch(uuidAny);
      }
    });

    it("is the request_id of every log line the request causes, in the gateway and in lifecycle", async () => {
      const rid = `trace-${randomBytes(6).toString("hex")}`;
      const res = await api.post(
        "/servers",
        { region: "us-west-2", type: "t2.micro" },
        { "x-request-id": rid },
      );
      expect(res.status).toBe(201);
      const id = res.body.id;

      // "request completed" is written as the response finishes, which may trail the answer a little.
      const lines = await eventually(
        async () => {
          const mine = ctx.stack.logs.lines.filter((l) => l.request_id === rid);
          return mine.some((l) => l.msg === "request completed") ? mine : undefined;
        },
        2_000,
        "the gateway's request completed line",
      );
      const services = new Set(lines.map((l) => l.service));
      expect(services).toContain("gateway");
      expect(services).toContain("lifecycle");
      // The lines that name the new server are this request's, and say so.
      const aboutServer = ctx.stack.logs.lines.filter((l) => JSON.stringify(l).includes(id));
      expect(aboutServer.length).toBeGreaterThan(0);
      for (const line of aboutServer) expect(line.request_id).toBe(rid);
    });

    it("a generated id is the one the log lines carry", async () => {
      const res = await api.post("/servers", { region: "us-west-2", type: "t2.micro" });
      expect(res.status).toBe(201);
      const rid = res.headers.get("x-request-id");
      expect(rid).toMatch(uuidAny);
      const services = new Set(
        ctx.stack.logs.lines.filter((l) => l.request_id === rid).map((l) => l.service),
      );
      expect([...services].sort()).toEqual(expect.arrayContaining(["gateway", "lifecycle"]));
    });
  });
});
