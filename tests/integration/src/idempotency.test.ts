import { randomUUID } from "node:crypto";
import { describe, expect, it } from "vitest";
import { useStack } from "./harness.ts";

/**
 * Each test provisions into a region of its own, so the server count and address use of
 * that region belong to the test alone.
 */
describe("Idempotency-Key", () => {
  const ctx = useStack();
  const api = ctx.api;

  const used = async (region: string): Promise<number> => {
    const res = await api.get("/ipam/pools");
    expect(res.status).toBe(200);
    const pool = res.body.items.find((p: { region: string }) => p.region === region);
    expect(pool, `a pool for ${region}`).toBeDefined();
    return pool.used;
  };
  const serverIds = async (region: string): Promise<string[]> => {
    const res = await api.get(`/servers?region=${region}&limit=100`);
    expect(res.status).toBe(200);
    return res.body.items.map((s: { id: string }) => s.id);
  };

  it("the same key and body return the same server, marked as replayed", async () => {
    const region = "us-east-1";
    const key = randomUUID();
    const body = { region, type: "t2.micro", name: "idem-1", tags: { a: "1", b: "2" } };

    const first = await api.post("/servers", body, { "idempotency-key": key });
    expect(first.status).toBe(201);
    expect(first.headers.get("idempotent-replayed")).toBeNull();

    const second = await api.post("/servers", body, { "idempotency-key": key });
    expect(second.status).toBe(201);
    expect(second.headers.get("idempotent-replayed")).toBe("true");
    expect(second.headers.get("location")).toBe(`/servers/${first.body.id}`);
    expect(second.body).toMatchObject({
      id: first.body.id,
      name: "idem-1",
      ip_address: first.body.ip_address,
      created_at: first.body.created_at,
    });

    // The same fields in another order are the same body; /server shares the keys of /servers.
    const reordered = await api.post(
      "/server",
      { tags: { b: "2", a: "1" }, type: "t2.micro", name: "idem-1", region },
      { "idempotency-key": key },
    );
    expect(reordered.status).toBe(201);
    expect(reordered.headers.get("idempotent-replayed")).toBe("true");
    expect(reordered.body.id).toBe(first.body.id);

    expect(await serverIds(region)).toEqual([first.body.id]);
    expect(await used(region)).toBe(1);
  });

  it("the same key with another body is 409 CONFLICT and changes nothing", async () => {
    const region = "us-west-2";
    const key = randomUUID();
    const first = await api.post("/servers", { region, type: "t2.micro" }, { "idempotency-key": key });
    expect(first.status).toBe(201);
    const totalBefore = (await api.get("/servers?limit=100")).body.items.length;

    for (const other of [
      { region, type: "t2.small" },
      { region, type: "t2.micro", name: "renamed" },
      { region: "eu-west-1", type: "t2.micro" },
    ]) {
      const res = await api.post("/servers", other, { "idempotency-key": key });
      expect(res.status, JSON.stringify(res.body)).toBe(409);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe("CONFLICT");
      expect(res.body.request_id).toEqual(expect.any(String));
      expect(res.headers.get("idempotent-replayed")).toBeNull();
    }

    expect(await serverIds(region)).toEqual([first.body.id]);
    expect(await used(region)).toBe(1);
    expect((await api.get("/servers?limit=100")).body.items).toHaveLength(totalBefore);
  });

  it("20 concurrent requests with one key and one body make one server with one address", async () => {
    const region = "eu-west-1";
    const key = randomUUID();
    const body = { region, type: "m5.large", tags: { batch: "20" } };

    const answers = await Promise.all(
      Array.from({ length: 20 }, () => api.post("/servers", body, { "idempotency-key": key })),
    );
    for (const res of answers) expect(res.status, JSON.stringify(res.body)).toBe(201);
    const ids = new Set(answers.map((res) => res.body.id));
    expect(ids.size).toBe(1);
    const addresses = new Set(answers.map((res) => res.body.ip_address));
    expect(addresses.size).toBe(1);
    const fresh = answers.filter((res) => res.headers.get("idempotent-replayed") === null);
    expect(fresh).toHaveLength(1);
    expect(answers.filter((res) => res.headers.get("idempotent-replayed") === "true")).toHaveLength(19);

    expect(await serverIds(region)).toEqual([...ids]);
    expect(await used(region)).toBe(1);
  });

  it("different keys make different servers", async () => {
    const region = "eu-central-1";
    const body = { region, type: "t2.nano" };
    const answers = await Promise.all(
      Array.from({ length: 5 }, () => api.post("/servers", body, { "idempotency-key": randomUUID() })),
    );
    for (const res of answers) {
      expect(res.status).toBe(201);
      expect(res.headers.get("idempotent-replayed")).toBeNull();
    }
    const ids = answers.map((res) => res.body.id);
    expect(new Set(ids).size).toBe(5);
    expect(new Set(answers.map((res) => res.body.ip_address)).size).toBe(5);
    expect((await serverIds(region)).sort()).toEqual([...ids].sort());
    expect(await used(region)).toBe(5);
  });

  it("no key at all makes a new server every time", async () => {
    const region = "ap-southeast-1";
    const body = { region, type: "t2.nano" };
    const a = await api.post("/servers", body);
    const b = await api.post("/servers", body);
    expect(a.status).toBe(201);
    expect(b.status).toBe(201);
    expect(a.body.id).not.toBe(b.body.id);
    expect(await used(region)).toBe(2);
  });
});
