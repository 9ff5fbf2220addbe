import { describe, expect, it } from "vitest";
import { OsError } from "./errors.ts";
import { MAX_MINOR, microversionHeaders, microversionOf } from "./microversion.ts";

const refusal = (headers: Record<string, string>) => {
  try {
    microversionOf(headers);
  } catch (err) {
    return err as OsError;
  }
  throw new Error("no refusal");
};

describe("compute microversions", () => {
  it("read Nova's headers: the new one first, no header is 2.1, latest the maximum", () => {
    expect(microversionOf({})).toBe(1);
    expect(microversionOf({ "x-openstack-nova-api-version": "2.26" })).toBe(26);
    expect(
      microversionOf({ "openstack-api-version": "compute 2.37", "x-openstack-nova-api-version": "2.2" }),
    ).toBe(37);
    expect(microversionOf({ "openstack-api-version": "image 2.5, compute 2.40" })).toBe(40);
    expect(
      microversionOf({ "openstack-api-version": "image 2.5", "x-openstack-nova-api-version": "2.3" }),
    ).toBe(3);
    expect(microversionOf({ "openstack-api-version": "compute latest" })).toBe(MAX_MINOR);
  });

  it("refuse a version out of range with 406 and Nova's message, a malformed one with 400", () => {
    const over = refusal({ "openstack-api-version": "compute 2.61" });
    expect(over).toBeInstanceOf(OsError);
    expect(over.status).toBe(406);
    expect(over.message).toBe(
      `Version 2.61 is not supported by the API. Minimum is 2.1 and maximum is 2.${MAX_MINOR}.`,
    );
    expect(refusal({ "x-openstack-nova-api-version": "3.1" }).status).toBe(406);
    expect(refusal({ "x-openstack-nova-api-version": "2.0" }).status).toBe(406);
    const bad = refusal({ "x-openstack-nova-api-version": "two" });
    expect(bad.status).toBe(400);
    expect(bad.message).toMatch(/is of invalid format/);
  });

  it("echo both headers and Vary", () => {
    expect(microversionHeaders(47)).toEqual({
      "openstack-api-version": "compute 2.47",
      "x-openstack-nova-api-version": "2.47",
      vary: "OpenStack-API-Version, X-OpenStack-Nova-API-Version",
    });
  });
});
