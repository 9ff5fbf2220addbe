import { formatCidr } from "@cloudsim/shared/cidr";
import { describe, expect, it } from "vitest";
import { defaultPools, parsePools } from "./pools.ts";

const asText = (text: string) =>
  Object.fromEntries(parsePools(text).map((p) => [p.region, formatCidr(p.cidr)]));

describe("parsePools", () => {
  it("gives every region its default pool when IPAM_POOLS is empty", () => {
    expect(asText("")).toEqual(defaultPools);
  });
  it("overrides the regions it names and keeps the others", () => {
    const pools = asText("us-east-1=10.9.0.0/24, eu-west-1 = 10.8.0.0/20");
    expect(pools["us-east-1"]).toBe("10.9.0.0/24");
    expect(pools["eu-west-1"]).toBe("10.8.0.0/20");
    expect(pools["us-west-2"]).toBe(defaultPools["us-west-2"]);
  });
  it("names unknown regions, bad entries and bad CIDRs together", () => {
    expect(() => parsePools("mars-1=10.9.0.0/24,us-east-1")).toThrow(
      /unknown region "mars-1".*"us-east-1" is not region=cidr/,
    );
    expect(() => parsePools("us-east-1=10.9.0.1/24")).toThrow(/us-east-1: .*did you mean 10.9.0.0\/24/);
  });
  it("refuses overlapping pools", () => {
    expect(() => parsePools("us-east-1=10.1.0.0/24")).toThrow(
      /us-east-1 10.1.0.0\/24 overlaps us-west-2 10.1.0.0\/16/,
    );
  });
});
