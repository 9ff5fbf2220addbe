import { randomBytes, randomUUID } from "node:crypto";
import { beforeAll, describe, expect, it } from "vitest";
import { eventually, useStack } from "./harness.ts";

interface Entry {
  id: string;
  at: string;
  type: string;
  message: string;
  from_state: string | null;
  to_state: string | null;
  actor: string;
  request_id: string | null;
  trace_id: string | null;
}

describe("a server's log", () => {
  const ctx = useStack({ skip: ["billing"] });
  const api = ctx.api;
  let server: { id: string; ip_address: string };
  let other: { id: string; ip_address: string };
  const rid = `logs-${randomBytes(6).toString("hex")}`;
  const otherRid = `logs-other-${randomBytes(6).toString("hex")}`;

  const provisionAndRun = async (region: string, requestId: string) => {
    const res = await api.post("/servers", { region, type: "t2.medium" }, { "x-request-id": requestId });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    await eventually(
      async () => ((await api.get(`/servers/${res.body.id}`)).body.state === "running" ? true : undefined),
      10_000,
      "server running",
    );
    return res.body;
  };

  beforeAll(async () => {
    // Without billing, whose billing.started entries arrive in the log at their own pace.
    server = await provisionAndRun("eu-west-1", rid);
    other = await provisionAndRun("us-east-1", otherRid);
  });

  it("is newest first: running, then the address, then the request that created it", async () => {
    const res = await api.get(`/servers/${server.id}/logs`);
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toMatch(/^application\/json/);
    expect(res.body.next_cursor).toBeNull();
    const items: Entry[] = res.body.items;
    expect(items.map((e) => [e.type, e.from_state, e.to_state])).toEqual([
      ["state.changed", "provisioning", "running"],
      ["ip.allocated", null, null],
      ["state.changed", null, "provisioning"],
    ]);
    const [ran, allocated, createdEntry] = items;
    expect(ran).toMatchObject({ actor: "system", request_id: rid });
    expect(allocated).toMatchObject({ actor: "system", request_id: rid });
    expect(allocated?.message).toContain(server.ip_address);
    expect(createdEntry).toMatchObject({ actor: "user", request_id: rid });
    expect(createdEntry?.message).toContain("t2.medium");
    expect(createdEntry?.message).toContain("eu-west-1");

    // Ids and times only go back in time down the page.
    const ids = items.map((e) => Number(e.id));
    expect([...ids].sort((a, b) => b - a)).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    const times = items.map((e) => Date.parse(e.at));
    for (let i = 1; i < times.length; i++) expect(times[i]).toBeLessThanOrEqual(times[i - 1] ?? 0);
  });

  it("holds only the server's own entries", async () => {
    const res = await api.get(`/servers/${other.id}/logs`);
    expect(res.status).toBe(200);
    expect(res.body.items).toHaveLength(3);
    for (const e of res.body.items as Entry[]) expect(e.request_id).toBe(otherRid);
    expect(res.body.items[1].message).toContain(other.ip_address);
  });

  it("pages with limit=1 and the cursor, each entry once, in order", async () => {
    const all: Entry[] = (await api.get(`/servers/${server.id}/logs`)).body.items;
    const seen: Entry[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const path: string = `/servers/${server.id}/logs?limit=1${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`;
      const res = await api.get(path);
      expect(res.status).toBe(200);
      expect(res.body.items).toHaveLength(1);
      seen.push(...res.body.items);
      cursor = res.body.next_cursor;
      pages++;
      if (pages < all.length) expect(cursor).toEqual(expect.any(String));
    } while (cursor && pages < 10);
    expect(pages).toBe(3);
    expect(seen).toEqual(all);
  });

  it("limit=2 then the rest", async () => {
    const first = await api.get(`/servers/${server.id}/logs?limit=2`);
    expect(first.body.items).toHaveLength(2);
    expect(first.body.next_cursor).toEqual(expect.any(String));
    const rest = await api.get(
      `/servers/${server.id}/logs?limit=2&cursor=${encodeURIComponent(first.body.next_cursor)}`,
    );
    expect(rest.status).toBe(200);
    expect(rest.body.items.map((e: Entry) => e.to_state)).toEqual(["provisioning"]);
    expect(rest.body.next_cursor).toBeNull();
  });

  it("is 404 problem+json for a server that does not exist", async () => {
    for (const id of [randomUUID(), "not-a-uuid"]) {
      const res = await api.get(`/servers/${id}/logs`);
      expect(res.status).toBe(404);
      expect(res.headers.get("content-type")).toMatch(/^application\/problem\+json/);
      expect(res.body.code).toBe("NOT_FOUND");
      expect(res.body.detail).toContain(id);
    }
  });

  it("refuses a bad limit or cursor with 400 naming it", async () => {
    const badLimit = await api.get(`/servers/${server.id}/logs?limit=0`);
    expect(badLimit.status).toBe(400);
    expect(badLimit.body.fields.map((f: { field: string }) => f.field)).toContain("limit");
    const badCursor = await api.get(
      `/servers/${server.id}/logs?cursor=${Buffer.from("x1").toString("base64url")}`,
    );
    expect(badCursor.status).toBe(400);
    expect(badCursor.body.fields.map((f: { field: string }) => f.field)).toContain("cursor");
  });
});
