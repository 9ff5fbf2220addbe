import type { RuleSpec } from "@cloudsim/shared";
import { describe, expect, it } from "vitest";
import { normaliseRule, sameRule } from "./rules.ts";

const rule = (over: Partial<RuleSpec>): RuleSpec => ({
  protocol: "tcp",
  from_port: 22,
  to_port: 22,
  cidr_ipv4: "0.0.0.0/0",
  cidr_ipv6: null,
  referenced_group_id: null,
  description: null,
  ...over,
});

describe("security group rules", () => {
  it("names protocols as EC2 stores them, and drops ports where the protocol has none", () => {
    expect(normaliseRule(rule({ protocol: "6" })).protocol).toBe("tcp");
    expect(normaliseRule(rule({ protocol: "UDP" })).protocol).toBe("udp");
    expect(normaliseRule(rule({ protocol: "all" }))).toMatchObject({
      protocol: "-1",
      from_port: null,
      to_port: null,
    });
    expect(normaliseRule(rule({ protocol: "-1", from_port: 0, to_port: 65535 }))).toMatchObject({
      from_port: null,
      to_port: null,
    });
    expect(normaliseRule(rule({ protocol: "50" }))).toMatchObject({ protocol: "50", from_port: null });
    expect(normaliseRule(rule({ protocol: "icmp", from_port: -1, to_port: -1 }))).toMatchObject({
      from_port: -1,
      to_port: -1,
    });
  });

  it("refuses unknown protocols, bad port ranges, malformed ranges and rules with other than one target", () => {
    for (const bad of [
      rule({ protocol: "smtp" }),
      rule({ protocol: "256" }),
      rule({ from_port: 30, to_port: 20 }),
      rule({ from_port: null }),
      rule({ protocol: "icmp", from_port: 300, to_port: 0 }),
      rule({ cidr_ipv4: "0.0.0.0/33" }),
      rule({ cidr_ipv4: "300.0.0.0/0" }),
      rule({ cidr_ipv4: null }),
      rule({ cidr_ipv6: "::/0" }),
    ])
      expect(() => normaliseRule(bad)).toThrow(expect.objectContaining({ code: "VALIDATION" }));
  });

  it("matches rules on everything but the description", () => {
    expect(sameRule(rule({ description: "ssh" }), rule({}))).toBe(true);
    expect(sameRule(rule({}), rule({ to_port: 23 }))).toBe(false);
    expect(sameRule(rule({}), rule({ cidr_ipv4: "10.0.0.0/8" }))).toBe(false);
    expect(
      sameRule(
        rule({ cidr_ipv4: null, referenced_group_id: "sg-1" }),
        rule({ cidr_ipv4: null, referenced_group_id: "sg-2" }),
      ),
    ).toBe(false);
  });
});
