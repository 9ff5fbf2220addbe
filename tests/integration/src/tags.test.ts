import { beforeAll, describe, expect, it } from "vitest";
import { allPages, useStack } from "./harness.ts";
import { expectInvalidField, servers } from "./server-helpers.ts";

type Tags = Record<string, string>;

describe("tags", () => {
  const ctx = useStack({ env: { TERMINATE_DELAY: "100ms" } });
  const api = ctx.api;
  const s = servers(api);
  const plan: { name: string; region: string; tags?: Tags }[] = [
    { name: "web-eu", region: "eu-west-1", tags: { env: "prod", team: "web" } },
    { name: "db-eu", region: "eu-west-1", tags: { env: "prod", team: "db" } },
    { name: "web-dev", region: "eu-west-1", tags: { env: "dev", team: "web" } },
    { name: "web-us", region: "us-east-1", tags: { env: "prod", team: "web", tier: "" } },
    { name: "untagged", region: "eu-west-1" },
    {
      name: "odd",
      region: "us-east-1",
      tags: {
        "team/owner": "a b&c=d",
        url: "http://x:8080/?q=1",
        "k.e_y-1": "ünïcode ✓",
        empty: "",
        note: "line one\nline two",
      },
    },
    { name: "gone", region: "eu-west-1", tags: { env: "prod", team: "web" } },
  ];
  const ids: Record<string, string> = {};
  const created: Record<string, { tags: Tags }> = {};

  /** The names of the servers a query lists, in any order. */
  const listed = async (query: string) => {
    const found = (await allPages(api, query, 100)).flatMap((p) => p.ids);
    return found.map((id) => Object.keys(ids).find((name) => ids[name] === id) ?? id).sort();
  };
  const tag = (key: string, value: string) => `tag=${encodeURIComponent(`${key}:${value}`)}`;

  beforeAll(async () => {
    for (const { name, region, tags } of plan) {
      const body = { name, region, type: "t2.nano", ...(tags ? { tags } : {}) };
      const server = await s.provision(body);
      ids[name] = server.id;
      created[name] = server;
    }
    expect((await s.remove(ids.gone as string)).status).toBe(202);
    await s.until(ids.gone as string, "terminated");
  });

  it("are returned as given at creation, by POST, GET and the listing", async () => {
    for (const { name, tags } of plan) {
      expect(created[name]?.tags, name).toEqual(tags ?? {});
      expect((await s.get(ids[name] as string)).tags, name).toEqual(tags ?? {});
    }
    const page = await api.get("/servers?limit=100");
    for (const item of page.body.items as { id: string; name: string; tags: Tags }[]) {
      expect(item.tags, item.name).toEqual(plan.find((p) => p.name === item.name)?.tags ?? {});
    }
  });

  it("tag=k:v lists the servers with that tag", async () => {
    expect(await listed(tag("env", "prod"))).toEqual(["db-eu", "web-eu", "web-us"]);
    expect(await listed(tag("team", "web"))).toEqual(["web-dev", "web-eu", "web-us"]);
    expect(await listed(tag("env", "dev"))).toEqual(["web-dev"]);
  });

  it("repeated tag filters must all match", async () => {
    expect(await listed(`${tag("env", "prod")}&${tag("team", "web")}`)).toEqual(["web-eu", "web-us"]);
    expect(await listed(`${tag("env", "prod")}&${tag("team", "web")}&${tag("tier", "")}`)).toEqual([
      "web-us",
    ]);
    // Two values of one key can never both match.
    expect(await listed(`${tag("env", "prod")}&${tag("env", "dev")}`)).toEqual([]);
    // The same filter twice is the filter once.
    expect(await listed(`${tag("env", "dev")}&${tag("env", "dev")}`)).toEqual(["web-dev"]);
  });

  it("a filter that matches nothing is an empty page, not an error", async () => {
    for (const query of [tag("env", "staging"), tag("nope", "prod"), tag("env", "PROD"), tag("env", "pro")]) {
      const res = await api.get(`/servers?${query}`);
      expect(res.status, query).toBe(200);
      expect(res.body, query).toEqual({ items: [], next_cursor: null });
    }
  });

  it("an empty value matches only a tag whose value is empty", async () => {
    expect(await listed(tag("tier", ""))).toEqual(["web-us"]);
    expect(await listed(tag("env", ""))).toEqual([]);
  });

  it("values may hold colons and characters that need encoding; the key ends at the first colon", async () => {
    expect(await listed(tag("team/owner", "a b&c=d"))).toEqual(["odd"]);
    expect(await listed(tag("url", "http://x:8080/?q=1"))).toEqual(["odd"]);
    expect(await listed(tag("k.e_y-1", "ünïcode ✓"))).toEqual(["odd"]);
    expect(await listed(`${tag("empty", "")}&${tag("url", "http://x:8080/?q=1")}`)).toEqual(["odd"]);
    // Any value a tag can hold can be filtered on, line breaks included.
    expect(await listed(tag("note", "line one\nline two"))).toEqual(["odd"]);
    expect(await listed(tag("note", "line one"))).toEqual([]);
  });

  it("combines with region (and the other filters)", async () => {
    expect(await listed(`region=eu-west-1&${tag("env", "prod")}`)).toEqual(["db-eu", "web-eu"]);
    expect(await listed(`region=us-east-1&${tag("env", "prod")}`)).toEqual(["web-us"]);
    expect(await listed(`region=eu-west-1&${tag("env", "prod")}&${tag("team", "web")}`)).toEqual(["web-eu"]);
    expect(await listed(`region=ap-southeast-1&${tag("env", "prod")}`)).toEqual([]);
    expect(await listed(`region=eu-west-1&type=t2.nano&${tag("team", "web")}`)).toEqual([
      "web-dev",
      "web-eu",
    ]);
    expect(await listed(`region=eu-west-1&type=m5.large&${tag("team", "web")}`)).toEqual([]);
  });

  it("hides terminated servers unless state=terminated is asked for", async () => {
    expect(await listed(`${tag("env", "prod")}&${tag("team", "web")}`)).not.toContain("gone");
    expect(await listed(`state=terminated&${tag("env", "prod")}&${tag("team", "web")}`)).toEqual(["gone"]);
    expect(await listed(`state=terminated&${tag("env", "dev")}`)).toEqual([]);
  });

  it("pages through a filtered listing with the cursor", async () => {
    const pages = await allPages(api, tag("env", "prod"), 1);
    expect(pages.map((p) => p.ids.length)).toEqual([1, 1, 1]);
    const names = pages.flatMap((p) => p.ids).map((id) => Object.keys(ids).find((n) => ids[n] === id));
    // Newest first.
    expect(names).toEqual(["web-us", "db-eu", "web-eu"]);
  });

  it("a malformed filter is 400 naming tag", async () => {
    for (const query of [
      "tag=novalue",
      "tag=",
      `tag=${encodeURIComponent(":value")}`,
      `${tag("env", "prod")}&tag=novalue`,
      `tag=${"k".repeat(65)}:v`,
      Array.from({ length: 11 }, (_, i) => tag(`k${i}`, "v")).join("&"),
    ]) {
      const res = await api.get(`/servers?${query}`);
      expectInvalidField(res, /^tag(\.|$)/);
      expect(res.body.detail, query).toContain("tag");
    }
  });

  it("invalid tags at creation are 400 naming the tag, and create nothing", async () => {
    const before = await listed("");
    for (const tags of [{ "bad key": "v" }, { "": "v" }, { k: "v".repeat(257) }, { k: 1 }]) {
      const res = await api.post("/servers", { region: "eu-west-1", type: "t2.nano", tags });
      expectInvalidField(res, /^tags/);
    }
    const many = Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, "v"]));
    expectInvalidField(
      await api.post("/servers", { region: "eu-west-1", type: "t2.nano", tags: many }),
      /^tags/,
    );
    expect(await listed("")).toEqual(before);
  });
});
