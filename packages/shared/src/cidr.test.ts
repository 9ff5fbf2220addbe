import { describe, expect, it } from "vitest";
import { contains, formatCidr, intToIp, ipToInt, overlaps, parseCidr, usableRange } from "./cidr.ts";

describe("ipToInt / intToIp", () => {
  it("round-trips the ends of the address space", () => {
    for (const ip of ["0.0.0.0", "10.0.0.1", "192.168.255.254", "255.255.255.255"]) {
      expect(intToIp(ipToInt(ip))).toBe(ip);
    }
    expect(ipToInt("255.255.255.255")).toBe(4294967295);
  });
  it("rejects what is not an address", () => {
    for (const bad of ["10.0.0", "10.0.0.256", "a.b.c.d", "10.0.0.1.2", ""]) {
      expect(() => ipToInt(bad)).toThrow(/not an IPv4 address/);
    }
  });
});

describe("parseCidr", () => {
  it("parses a network and formats it back", () => {
    expect(formatCidr(parseCidr("10.1.0.0/16"))).toBe("10.1.0.0/16");
    expect(parseCidr(" 192.168.4.0/24 ")).toEqual({ network: ipToInt("192.168.4.0"), prefix: 24 });
  });
  it("says which network was meant when the host bits are set", () => {
    expect(() => parseCidr("10.0.0.5/24")).toThrow(/did you mean 10.0.0.0\/24/);
  });
  it("bounds the prefix", () => {
    expect(() => parseCidr("10.0.0.0/8")).toThrow(/between \/16 and \/30/);
    expect(() => parseCidr("10.0.0.0/31")).toThrow(/between \/16 and \/30/);
    expect(() => parseCidr("10.0.0.0")).toThrow(/not a CIDR/);
  });
});

describe("usableRange", () => {
  it("excludes network, gateway and broadcast", () => {
    const r = usableRange(parseCidr("10.0.0.0/24"));
    expect(r.size).toBe(253);
    expect(intToIp(r.first)).toBe("10.0.0.2");
    expect(intToIp(r.last)).toBe("10.0.0.254");
  });
  it("leaves one address in a /30 and 65,533 in a /16", () => {
    expect(usableRange(parseCidr("10.0.0.4/30")).size).toBe(1);
    expect(usableRange(parseCidr("172.16.0.0/16")).size).toBe(65_533);
  });
  it("handles pools at the top of the address space without sign errors", () => {
    const r = usableRange(parseCidr("255.255.255.0/24"));
    expect(intToIp(r.last)).toBe("255.255.255.254");
  });
});

describe("contains / overlaps", () => {
  const a = parseCidr("10.0.0.0/16");
  it("knows membership", () => {
    expect(contains(a, "10.0.200.1")).toBe(true);
    expect(contains(a, "10.1.0.1")).toBe(false);
  });
  it("finds overlaps either way round", () => {
    expect(overlaps(a, parseCidr("10.0.5.0/24"))).toBe(true);
    expect(overlaps(parseCidr("10.0.5.0/24"), a)).toBe(true);
    expect(overlaps(a, parseCidr("10.1.0.0/16"))).toBe(false);
  });
});
