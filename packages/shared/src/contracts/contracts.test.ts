import { describe, expect, it } from "vitest";
import { billing } from "./billing.ts";
import { instanceSpec, instanceTypeNames } from "./catalogue.ts";
import { subject } from "./command.ts";
import { ipam } from "./ipam.ts";
import { reaper } from "./reaper.ts";
import { ListServersQuery, lifecycle, ProvisionBody } from "./servers.ts";
import { ALL_TENANTS } from "./tenants.ts";

describe("subjects", () => {
  it("are built from checked tokens", () => {
    expect(subject("ipam", "allocate")).toBe("ipam.allocate");
    for (const bad of ["", "a.b", "*", ">", "A", "has space"])
      expect(() => subject("ipam", bad)).toThrow(/invalid subject token/);
  });
  it("are unique across every command", () => {
    const all = [...Object.values(lifecycle), ...Object.values(ipam), ...Object.values(billing)].map(
      (c) => c.subject,
    );
    expect(new Set(all).size).toBe(all.length);
  });
});

describe("the instance type catalogue", () => {
  it("gives every type a size", () => {
    for (const type of instanceTypeNames) {
      const spec = instanceSpec(type);
      expect(spec.vcpus).toBeGreaterThan(0);
      expect(spec.memory_mib).toBeGreaterThanOrEqual(512);
    }
    expect(instanceSpec("t2.micro")).toEqual({ vcpus: 1, memory_mib: 1024 });
  });
  it("is what the provision body accepts, and nothing else", () => {
    expect(ProvisionBody.safeParse({ region: "us-east-1", type: "t2.micro" }).success).toBe(true);
    expect(ProvisionBody.safeParse({ region: "us-east-1", type: "t9.huge" }).success).toBe(false);
    expect(ProvisionBody.safeParse({ region: "moon-1", type: "t2.micro" }).success).toBe(false);
  });
});

describe("the tag filter", () => {
  const parse = (tag: string | string[]) => ListServersQuery.safeParse({ tag });
  it("takes key:value, one or many, with any value a tag can hold", () => {
    expect(parse("env:prod").data?.tag).toEqual(["env:prod"]);
    expect(parse(["env:prod", "team:web"]).data?.tag).toEqual(["env:prod", "team:web"]);
    for (const value of ["", "a:b", "line one\nline two", "x".repeat(256)])
      expect(parse(`k:${value}`).success, JSON.stringify(value)).toBe(true);
  });
  it("refuses anything else", () => {
    for (const bad of ["novalue", "", ":v", `k:${"x".repeat(257)}`, `${"k".repeat(65)}:v`])
      expect(parse(bad).success, JSON.stringify(bad)).toBe(false);
  });
});

describe("the tenant scope of a request", () => {
  const scoped = [
    [lifecycle.get.request, { id: "x" }],
    [lifecycle.list.request, {}],
    [reaper.status.request, {}],
    [billing.summary.request, {}],
  ] as const;
  it("is required: a request that names none, or null, is refused", () => {
    for (const [schema, base] of scoped) {
      for (const scope of [{}, { tenant_id: null }, { tenant_id: "" }])
        expect(schema.safeParse({ ...base, ...scope }).success, JSON.stringify(scope)).toBe(false);
    }
  });
  it("is one tenant, or every tenant only when it says ALL_TENANTS", () => {
    for (const [schema, base] of scoped) {
      expect(schema.parse({ ...base, tenant_id: "acme" }).tenant_id).toBe("acme");
      expect(schema.parse({ ...base, tenant_id: ALL_TENANTS }).tenant_id).toBeNull();
    }
  });
});
