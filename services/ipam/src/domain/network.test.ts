import { formatCidr, ipToInt, parseCidr, usableRange, within } from "@cloudsim/shared/cidr";
import { describe, expect, it } from "vitest";
import { OPEN_RANGE, subnetBlock, vpcBlock, vpcRangeOf } from "./network.ts";

describe("VPC and subnet blocks", () => {
  it("takes a VPC of /16 to /28 and nothing else", () => {
    expect(formatCidr(vpcBlock("10.20.0.0/16"))).toBe("10.20.0.0/16");
    expect(formatCidr(vpcBlock("10.20.0.16/28"))).toBe("10.20.0.16/28");
    for (const bad of ["10.0.0.0/15", "10.0.0.0/29", "10.0.0.1/16", "nonsense"])
      expect(() => vpcBlock(bad)).toThrow(
        expect.objectContaining({ details: expect.objectContaining({ reason: "vpc_range" }) }),
      );
  });

  it("takes a subnet inside its VPC, overlapping no sibling", () => {
    const vpc = parseCidr("10.20.0.0/16");
    expect(formatCidr(subnetBlock("10.20.1.0/24", vpc, ["10.20.0.0/24"]))).toBe("10.20.1.0/24");
    const range = expect.objectContaining({ details: expect.objectContaining({ reason: "subnet_range" }) });
    expect(() => subnetBlock("10.21.0.0/24", vpc, [])).toThrow(range);
    expect(() => subnetBlock("10.20.0.0/15", vpc, [])).toThrow(range);
    expect(() => subnetBlock("10.20.0.0/29", vpc, [])).toThrow(range);
    const conflict = expect.objectContaining({
      code: "CONFLICT",
      details: expect.objectContaining({ reason: "subnet_conflict" }),
    });
    expect(() => subnetBlock("10.20.0.128/25", vpc, ["10.20.0.0/24"])).toThrow(conflict);
    expect(() => subnetBlock("10.20.0.0/16", vpc, ["10.20.9.0/28"])).toThrow(conflict);
  });

  it("knows containment both ways and a subnet's usable addresses (AWS keeps five)", () => {
    expect(within(parseCidr("10.20.1.0/24"), parseCidr("10.20.0.0/16"))).toBe(true);
    expect(within(parseCidr("10.20.0.0/16"), parseCidr("10.20.1.0/24"))).toBe(false);
    expect(usableRange(parseCidr("10.20.1.0/24"), 4)).toEqual({
      first: ipToInt("10.20.1.4"),
      last: ipToInt("10.20.1.254"),
      size: 251,
    });
    expect(usableRange(parseCidr("10.20.2.0/28"), 4).size).toBe(11);
  });

  it("lets a network's open range hold any subnet block, still none overlapping", () => {
    const open = vpcRangeOf(OPEN_RANGE);
    expect(formatCidr(subnetBlock("192.168.10.0/24", open, ["10.0.0.0/16"]))).toBe("192.168.10.0/24");
    expect(() => subnetBlock("10.0.3.0/24", open, ["10.0.0.0/16"])).toThrow(
      expect.objectContaining({ code: "CONFLICT" }),
    );
    expect(vpcRangeOf("10.20.0.0/16")).toEqual(parseCidr("10.20.0.0/16"));
  });
});
