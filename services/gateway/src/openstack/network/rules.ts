import type { RuleSpec } from "@cloudsim/shared";
import type { z } from "zod";
import type { RuleCreate } from "./bodies.ts";
import { neutronBadRequest } from "./errors.ts";

/** A Neutron rule as EC2 keeps it (ipam's RuleSpec), which ipam then checks as any other. */

export type RuleRequest = z.infer<typeof RuleCreate>["security_group_rule"];

/** The port range a Neutron rule means: all of TCP's or UDP's when left out, any ICMP type and code. */
function portsOf(protocol: string, rule: RuleRequest): Pick<RuleSpec, "from_port" | "to_port"> {
  const min = rule.port_range_min ?? null;
  const max = rule.port_range_max ?? null;
  if (protocol === "-1") {
    if (min !== null || max !== null)
      throw neutronBadRequest("Invalid input: a rule for every protocol has no port range.");
    return { from_port: null, to_port: null };
  }
  if (protocol === "icmp" || protocol === "icmpv6" || protocol === "1" || protocol === "58")
    return { from_port: min ?? -1, to_port: max ?? -1 };
  return { from_port: min ?? (max === null ? 0 : max), to_port: max ?? (min === null ? 65535 : min) };
}

/** A Neutron rule as EC2's: "any" protocol is -1; no remote is everywhere of the ethertype. */
export function ruleSpecOf(rule: RuleRequest): RuleSpec {
  const protocol =
    rule.protocol == null || rule.protocol === "any" ? "-1" : String(rule.protocol).toLowerCase();
  const ipv6 = rule.ethertype === "IPv6";
  const prefix = rule.remote_ip_prefix ?? null;
  if (prefix !== null && prefix.includes(":") !== ipv6)
    throw neutronBadRequest(`Conflicting value ethertype ${rule.ethertype ?? "IPv4"} for CIDR ${prefix}`);
  const group = rule.remote_group_id ?? null;
  if (prefix !== null && group !== null)
    throw neutronBadRequest("Only remote_ip_prefix or remote_group_id may be provided.");
  const everywhere = group === null && prefix === null ? (ipv6 ? "::/0" : "0.0.0.0/0") : null;
  const cidr = prefix ?? everywhere;
  return {
    protocol,
    ...portsOf(protocol, rule),
    cidr_ipv4: ipv6 ? null : cidr,
    cidr_ipv6: ipv6 ? cidr : null,
    referenced_group_id: group,
    description: rule.description || null,
  };
}
