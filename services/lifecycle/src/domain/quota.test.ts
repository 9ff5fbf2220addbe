import { AppError } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { assertWithinQuota, quotaRoom, type TenantQuota } from "./quota.ts";

const defaults = { maxServers: 10, maxVcpus: 8 };
const tenant = (over: Partial<TenantQuota> = {}): TenantQuota => ({
  maxServers: null,
  maxVcpus: null,
  serversInUse: 0,
  vcpusInUse: 0,
  ...over,
});
const refusal = (fn: () => void) => {
  try {
    fn();
  } catch (err) {
    return err as AppError;
  }
  throw new Error("expected a refusal");
};

describe("assertWithinQuota", () => {
  it("allows up to the limit, the default when the tenant has none", () => {
    expect(() =>
      assertWithinQuota("t", tenant({ serversInUse: 9, vcpusInUse: 7 }), { servers: 1, vcpus: 1 }, defaults),
    ).not.toThrow();
  });

  it("refuses past max_servers with the limit, usage and request", () => {
    const err = refusal(() =>
      assertWithinQuota("t", tenant({ serversInUse: 10 }), { servers: 1, vcpus: 1 }, defaults),
    );
    expect(err).toBeInstanceOf(AppError);
    expect(err.code).toBe("QUOTA_EXCEEDED");
    expect(err.details).toMatchObject({ quota: "max_servers", limit: 10, usage: 10, requested: 1 });
  });

  it("uses the tenant's own limits over the defaults", () => {
    const own = tenant({ maxServers: 100, maxVcpus: 2, vcpusInUse: 1 });
    expect(() => assertWithinQuota("t", own, { servers: 1, vcpus: 1 }, defaults)).not.toThrow();
    const err = refusal(() => assertWithinQuota("t", own, { servers: 0, vcpus: 2 }, defaults));
    expect(err.details).toMatchObject({ quota: "max_vcpus", limit: 2, usage: 1, requested: 2 });
  });

  it("never refuses what adds nothing, even over a lowered limit", () => {
    const over = tenant({ maxServers: 1, maxVcpus: 1, serversInUse: 5, vcpusInUse: 5 });
    expect(() => assertWithinQuota("t", over, { servers: 0, vcpus: 0 }, defaults)).not.toThrow();
  });

  it("is NOT_FOUND without the tenant", () => {
    expect(refusal(() => assertWithinQuota("t", undefined, { servers: 1, vcpus: 1 }, defaults)).code).toBe(
      "NOT_FOUND",
    );
  });
});

describe("quotaRoom", () => {
  it("is the fewer of the servers and the whole servers' vCPUs left, never below 0", () => {
    expect(quotaRoom(tenant({ serversInUse: 7 }), 2, defaults)).toBe(3);
    expect(quotaRoom(tenant({ vcpusInUse: 3 }), 2, defaults)).toBe(2);
    expect(quotaRoom(tenant({ maxServers: 1, serversInUse: 5 }), 1, defaults)).toBe(0);
  });

  it("is 0 without the tenant", () => {
    expect(quotaRoom(undefined, 1, defaults)).toBe(0);
  });
});
