import { describe, expect, it } from "vitest";
import { ruleBody, subnetLayout } from "./views.ts";

describe("Neutron views", () => {
  it("gives a subnet its block's first address as gateway and all but AWS's four and the broadcast as pool", () => {
    expect(subnetLayout("192.168.7.0/24")).toEqual({
      gateway_ip: "192.168.7.1",
      allocation_pools: [{ start: "192.168.7.4", end: "192.168.7.254" }],
    });
    expect(subnetLayout("10.0.0.16/28").allocation_pools).toEqual([{ start: "10.0.0.20", end: "10.0.0.30" }]);
  });

  it("shows EC2's every-protocol rule as Neutron's null protocol without ports", () => {
    const rule = {
      rule_id: "sgr-1",
      group_id: "sg-1",
      is_egress: true,
      protocol: "-1",
      from_port: null,
      to_port: null,
      cidr_ipv4: null,
      cidr_ipv6: "::/0",
      referenced_group_id: null,
      description: null,
    };
    expect(ruleBody(rule, "t")).toMatchObject({
      direction: "egress",
      ethertype: "IPv6",
      protocol: null,
      port_range_min: null,
      port_range_max: null,
      remote_ip_prefix: "::/0",
      description: "",
    });
    expect(
      ruleBody({ ...rule, protocol: "icmp", from_port: -1, to_port: -1 }, "t").port_range_min,
    ).toBeNull();
  });
});
