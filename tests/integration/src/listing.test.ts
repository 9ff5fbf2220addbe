import { beforeAll, describe, expect, it } from "vitest";
import { allPages, eventually, useStack } from "./harness.ts";

interface Created {
  id: string;
  region: string;
  type: string;
  state: "running" | "provisioning";
}

describe("listing servers", () => {
  const ctx = useStack();
  const api = ctx.api;
  /** Oldest first, as created. */
  const created: Created[] = [];
  const newestFirst = (pick: (s: Created) => boolean = () => true) =>
    created
      .filter(pick)
      .map((s) => s.id)
      .reverse();

  const plan = [
    ["us-east-1", "t2.micro"],
    ["eu-west-1", "m5.large"],
    ["ap-southeast-1", "c5.large"],
    ["us-east-1", "m5.large"],
    ["eu-west-1", "t2.micro"],
    ["us-east-1", "c5.large"],
    ["ap-southeast-1", "t2.micro"],
    ["eu-west-1", "c5.large"],
    ["us-east-1", "t2.micro"],
  ] as const;
  const stillProvisioning = [
    ["eu-west-1", "t2.micro"],
    ["us-east-1", "m5.large"],
    ["ap-southeast-1", "t2.micro"],
  ] as const;

  const create = async (region: string, type: string, state: Created["state"]) => {
    const res = await api.post("/servers", { region, type });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    created.push({ id: res.body.id, region, type, state });
  };

  beforeAll(async () => {
    // One at a time, so creation order is unambiguous.
    for (const [region, type] of plan) await create(region, type, "running");
    await eventually(
      async () => {
        const res = await api.get("/servers?state=running&limit=100");
        return res.body.items.length === plan.length ? true : undefined;
      },
      10_000,
      "every server running",
    );
    // A lifecycle whose provisioning lasts an hour, so the next servers stay in provisioning.
    const lifecycle = ctx.stack.services.find((s) => s.name === "lifecycle");
    if (!lifecycle) throw new Error("no lifecycle in the stack");
    await ctx.stack.stopService(lifecycle.running);
    await ctx.stack.start("lifecycle", { PROVISION_DELAY: "1h" });
    for (const [region, type] of stillProvisioning) await create(region, type, "provisioning");
  });

  it("GET /servers is newest first", async () => {
    const res = await api.get("/servers?limit=100");
    expect(res.status).toBe(200);
    expect(res.body.next_cursor).toBeNull();
    expect(res.body.items.map((s: { id: string }) => s.id)).toEqual(newestFirst());
    const createdAt = res.body.items.map((s: { created_at: string }) => Date.parse(s.created_at));
    for (let i = 1; i < createdAt.length; i++) expect(createdAt[i]).toBeLessThanOrEqual(createdAt[i - 1]);
  });

  it("without a limit, all of them fit in the default page of 20", async () => {
    const res = await api.get("/servers");
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(created.length);
    expect(res.body.next_cursor).toBeNull();
  });

  it.each(["us-east-1", "eu-west-1", "ap-southeast-1"])(
    "region=%s returns exactly its servers",
    async (region) => {
      const res = await api.get(`/servers?region=${region}&limit=100`);
      expect(res.status).toBe(200);
      expect(res.body.items.map((s: { id: string }) => s.id)).toEqual(
        newestFirst((s) => s.region === region),
      );
      for (const s of res.body.items) expect(s.region).toBe(region);
    },
  );

  it.each(["t2.micro", "m5.large", "c5.large"])("type=%s returns exactly its servers", async (type) => {
    const res = await api.get(`/servers?type=${type}&limit=100`);
    expect(res.status).toBe(200);
    expect(res.body.items.map((s: { id: string }) => s.id)).toEqual(newestFirst((s) => s.type === type));
  });

  it.each(["running", "provisioning"] as const)("state=%s returns exactly its servers", async (state) => {
    const res = await api.get(`/servers?state=${state}&limit=100`);
    expect(res.status).toBe(200);
    const ids = res.body.items.map((s: { id: string }) => s.id);
    expect(ids).toEqual(newestFirst((s) => s.state === state));
    expect(ids.length).toBeGreaterThan(0);
    for (const s of res.body.items) expect(s.state).toBe(state);
  });

  it("status is another name for state, as the original API called it", async () => {
    const byState = await api.get("/servers?state=provisioning&limit=100");
    const byStatus = await api.get("/servers?status=provisioning&limit=100");
    expect(byStatus.status).toBe(200);
    expect(byStatus.body.items.length).toBeGreaterThan(0);
    expect(byStatus.body).toEqual(byState.body);
    expect((await api.get("/servers?status=running&state=running&limit=100")).body.items.length).toBe(
      newestFirst((s) => s.state === "running").length,
    );
  });

  it("status and state that disagree are 400 naming status", async () => {
    const res = await api.get("/servers?status=running&state=provisioning");
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("VALIDATION");
    expect(res.body.fields.map((f: { field: string }) => f.field)).toEqual(["status"]);
    expect(res.body.detail).toMatch(/another name for state/);
  });

  it("filters combine", async () => {
    const res = await api.get("/servers?region=us-east-1&type=m5.large&state=provisioning");
    expect(res.status).toBe(200);
    expect(res.body.items.map((s: { id: string }) => s.id)).toEqual(
      newestFirst((s) => s.region === "us-east-1" && s.type === "m5.large" && s.state === "provisioning"),
    );
    expect(res.body.items).toHaveLength(1);
  });

  it("an empty result is {items: [], next_cursor: null}", async () => {
    for (const query of [
      "region=eu-central-1",
      "type=t2.xlarge",
      "state=stopped",
      "region=us-west-2&limit=1",
    ]) {
      const res = await api.get(`/servers?${query}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({ items: [], next_cursor: null });
    }
  });

  it.each([1, 2, 5, 11, 12, 13])(
    "paging with limit=%i visits every server exactly once, in order",
    async (limit) => {
      const pages = await allPages(api, "", limit);
      const ids = pages.flatMap((p) => p.ids);
      expect(ids).toEqual(newestFirst());
      expect(new Set(ids).size).toBe(ids.length);
      expect(pages).toHaveLength(Math.max(1, Math.ceil(created.length / limit)));
      for (const page of pages.slice(0, -1)) expect(page.ids).toHaveLength(limit);
      expect(pages.at(-1)?.next_cursor).toBeNull();
    },
  );

  it("paging keeps the filter", async () => {
    const pages = await allPages(api, "region=eu-west-1", 2);
    expect(pages.flatMap((p) => p.ids)).toEqual(newestFirst((s) => s.region === "eu-west-1"));
  });

  it.each(["0", "101", "abc", "-1", "1.5", ""])("limit=%s is 400 naming limit", async (limit) => {
    const res = await api.get(`/servers?limit=${limit}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe("VALIDATION");
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain("limit");
    expect(res.body.detail).toContain("limit");
  });

  it.each([
    ["garbage", "!!!"],
    ["base64 of something else", Buffer.from("not-a-uuid").toString("base64url")],
    ["too long", "A".repeat(201)],
  ])("a bad cursor (%s) is 400 naming cursor", async (_what, cursor) => {
    const res = await api.get(`/servers?cursor=${encodeURIComponent(cursor)}`);
    expect(res.status).toBe(400);
    expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
    expect(res.body.code).toBe("VALIDATION");
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain("cursor");
    expect(res.body.detail).toContain("cursor");
  });

  it("an unknown query key is 400 naming it", async () => {
    const res = await api.get("/servers?colour=blue");
    expect(res.status).toBe(400);
    expect(res.body.code).toBe("VALIDATION");
    expect(res.body.fields.map((f: { field: string }) => f.field)).toContain("colour");
  });

  it("an unknown filter value is 400 naming the filter", async () => {
    for (const [key, value] of [
      ["region", "mars-1"],
      ["type", "t9.huge"],
      ["state", "sleeping"],
      ["status", "sleeping"],
    ]) {
      const res = await api.get(`/servers?${key}=${value}`);
      expect(res.status).toBe(400);
      expect(res.body.fields.map((f: { field: string }) => f.field)).toContain(key);
    }
  });
});
