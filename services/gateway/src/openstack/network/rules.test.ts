import { describe, expect, it } from "vitest";
import { ruleSpecOf } from "./rules.ts";

const ingress = { security_group_id: "sg-0123456789abcdef0", direction: "ingress" as const };

describe("Neutron rules as EC2's", () => {
  it("reads a TCP port range, and all of TCP's ports when none is given", () => {
    expect(ruleSpecOf({ ...ingress, protocol: "tcp", port_range_min: 22, port_range_max: 22 })).toMatchObject(
      {
        protocol: "tcp",
        from_port: 22,
        to_port: 22,
        cidr_ipv4: "0.0.0.0/0",
        cidr_ipv6: null,
      },
    );
    expect(ruleSpecOf({ ...ingress, protocol: "UDP" })).toMatchObject({
      protocol: "udp",
      from_port: 0,
      to_port: 65535,
    });
    expect(ruleSpecOf({ ...ingress, protocol: 6, port_range_min: 80 })).toMatchObject({
      from_port: 80,
      to_port: 80,
    });
  });

  it("takes no protocol as every protocol, without ports, and ICMP's type and code as -1 when left out", () => {
    expect(ruleSpecOf({ ...ingress })).toMatchObject({ protocol: "-1", from_port: null, to_port: null });
    expect(ruleSpecOf({ ...ingress, protocol: "any" }).protocol).toBe("-1");
    expect(() => ruleSpecOf({ ...ingress, port_range_min: 1 })).toThrow(/no port range/);
    expect(ruleSpecOf({ ...ingress, protocol: "icmp", port_range_min: 8 })).toMatchObject({
      from_port: 8,
      to_port: -1,
    });
  });

  it("targets a prefix, a group, or everywhere of the ethertype, and refuses a mismatch", () => {
    expect(ruleSpecOf({ ...ingress, ethertype: "IPv6" })).toMatchObject({
      cidr_ipv4: null,
      cidr_ipv6: "::/0",
    });
    expect(ruleSpecOf({ ...ingress, remote_ip_prefix: "10.0.0.0/8" }).cidr_ipv4).toBe("10.0.0.0/8");
    expect(ruleSpecOf({ ...ingress, remote_group_id: "sg-1" })).toMatchObject({
      cidr_ipv4: null,
      cidr_ipv6: null,
      referenced_group_id: "sg-1",
    });
    expect(() => ruleSpecOf({ ...ingress, remote_ip_prefix: "fd00::/8" })).toThrow(
      /Conflicting value ethertype/,
    );
    expect(() => ruleSpecOf({ ...ingress, remote_ip_prefix: "10.0.0.0/8", remote_group_id: "sg-1" })).toThrow(
      /Only remote_ip_prefix or remote_group_id/,
    );
  });
});
