import { describe, expect, it } from "vitest";
import { sample, useStack } from "./harness.ts";

describe("health, metrics and docs", () => {
  const ctx = useStack();
  const api = ctx.api;

  describe("gateway", () => {
    it("/healthz is 200", async () => {
      const res = await api.get("/healthz");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ status: "ok" });
    });

    it("/readyz is 200 with nats ok", async () => {
      const res = await api.get("/readyz");
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ ready: true, checks: { nats: "ok" } });
    });

    it("/metrics is Prometheus text that counts the requests answered", async () => {
      expect((await api.get("/servers")).status).toBe(200);
      expect((await api.get("/servers/not-a-uuid")).status).toBe(404);
      const res = await api.get("/metrics");
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = res.body as string;
      expect(text).toContain("# TYPE cloudsim_http_requests_total counter");
      expect(
        sample(text, "cloudsim_http_requests_total", { method: "GET", route: "/servers", status: "200" }),
      ).toBeGreaterThanOrEqual(1);
      // Labelled by route template, never by the raw URL.
      expect(
        sample(text, "cloudsim_http_requests_total", { method: "GET", route: "/servers/:id", status: "404" }),
      ).toBeGreaterThanOrEqual(1);
      expect(text).not.toContain("not-a-uuid");
      expect(text).toContain('service="gateway"');
    });

    it("/openapi.json is OpenAPI 3 with every route and the Server schema", async () => {
      const res = await api.get("/openapi.json");
      expect(res.status).toBe(200);
      const doc = res.body;
      expect(doc.openapi).toMatch(/^3\./);
      expect(Object.keys(doc.paths)).toEqual(
        expect.arrayContaining(["/servers", "/server", "/servers/{id}", "/servers/{id}/logs", "/ipam/pools"]),
      );
      expect(Object.keys(doc.paths["/servers"])).toEqual(expect.arrayContaining(["get", "post"]));
      expect(Object.keys(doc.paths["/server"])).toEqual(["post"]);
      for (const hidden of ["/healthz", "/readyz", "/metrics", "/openapi.json"]) {
        expect(doc.paths[hidden]).toBeUndefined();
      }
      const server = doc.components.schemas.Server;
      expect(server.type).toBe("object");
      expect(server.required).toEqual(expect.arrayContaining(["id", "name", "state", "ip_address", "tags"]));
      expect(doc.components.schemas.Problem).toBeDefined();
      // The docs say what the default name is, as the service makes it: the last 8 characters of the id.
      const body = doc.paths["/servers"].post.requestBody.content["application/json"].schema;
      expect(body.required).toEqual(["region", "type"]);
      expect(body.properties.name.description).toMatch(/last 8/);
    });

    it("/docs answers 200 with HTML", async () => {
      const res = await fetch(`${ctx.stack.url}/docs`, { redirect: "follow" });
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/html/);
      expect(await res.text()).toMatch(/swagger/i);
    });

    it.each(["/swagger", "/swagger/index.html"])(
      "%s (the original service's docs) leads to /docs",
      async (path) => {
        const res = await fetch(`${ctx.stack.url}${path}`, { redirect: "manual" });
        expect(res.status).toBe(301);
        expect(res.headers.get("location")).toBe("/docs");
        const followed = await fetch(`${ctx.stack.url}${path}`);
        expect(followed.status).toBe(200);
        expect(await followed.text()).toMatch(/swagger/i);
      },
    );
  });

  describe.each(["lifecycle", "ipam"] as const)("%s on its own port", (name) => {
    const base = () => {
      const service = ctx.stack.services.find((s) => s.name === name);
      if (!service) throw new Error(`no ${name} in the stack`);
      expect(service.running.port).toBeGreaterThan(0);
      expect(`http://127.0.0.1:${service.running.port}`).not.toBe(ctx.stack.url);
      return `http://127.0.0.1:${service.running.port}`;
    };

    it("/healthz is 200", async () => {
      const res = await fetch(`${base()}/healthz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({ status: "ok" });
    });

    it("/readyz is 200 with postgres, nats and the event consumers ok", async () => {
      const res = await fetch(`${base()}/readyz`);
      expect(res.status).toBe(200);
      expect(await res.json()).toEqual({
        ready: true,
        checks: { postgres: "ok", nats: "ok", event_consumers: "ok" },
      });
    });

    it("/metrics counts the NATS requests it answered", async () => {
      // One provision reaches both services: lifecycle.provision and ipam.allocate.
      const created = await api.post("/servers", { region: "us-east-1", type: "t2.nano" });
      expect(created.status).toBe(201);
      const res = await fetch(`${base()}/metrics`);
      expect(res.status).toBe(200);
      expect(res.headers.get("content-type")).toMatch(/^text\/plain/);
      const text = await res.text();
      expect(text).toContain("# TYPE cloudsim_nats_requests_total counter");
      const subject = name === "lifecycle" ? "lifecycle.provision" : "ipam.allocate";
      expect(sample(text, "cloudsim_nats_requests_total", { subject, outcome: "ok" })).toBeGreaterThanOrEqual(
        1,
      );
      expect(text).toContain(`service="${name}"`);
    });

    it("an unknown path is 404", async () => {
      expect((await fetch(`${base()}/nothing`)).status).toBe(404);
    });
  });
});
