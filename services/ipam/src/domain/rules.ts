import { AppError, type RuleSpec } from "@cloudsim/shared";

/** Protocol names and numbers as EC2 stores them: names for tcp, udp, icmp and icmpv6, "-1" for all. */
const protocolNames: Record<string, string> = {
  "-1": "-1",
  all: "-1",
  tcp: "tcp",
  "6": "tcp",
  udp: "udp",
  "17": "udp",
  icmp: "icmp",
  "1": "icmp",
  icmpv6: "icmpv6",
  "58": "icmpv6",
};

const invalid = (message: string) => new AppError("VALIDATION", message);

const ipv4Range = /^(25[0-5]|2[0-4]\d|1?\d?\d)(\.(25[0-5]|2[0-4]\d|1?\d?\d)){3}\/(3[0-2]|[12]?\d)$/;
const ipv6Range = /^[0-9a-fA-F:]{2,39}\/(12[0-8]|1[01]\d|[1-9]?\d)$/;

/**
 * A rule as stored: its protocol's canonical name, ports only where the protocol has them (all
 * protocols and unknown numbers have none), and one target. Throws on ports EC2 refuses.
 */
export function normaliseRule(rule: RuleSpec): RuleSpec {
  const lower = rule.protocol.toLowerCase();
  const protocol =
    protocolNames[lower] ?? (/^\d{1,3}$/.test(lower) && Number(lower) <= 255 ? lower : undefined);
  if (protocol === undefined)
    throw invalid(`Invalid value '${rule.protocol}' for IP protocol. Unknown protocol.`);
  const targets = [rule.cidr_ipv4, rule.cidr_ipv6, rule.referenced_group_id].filter((t) => t !== null);
  if (targets.length !== 1)
    throw invalid("A rule needs exactly one of an IPv4 range, an IPv6 range or a group.");
  if (rule.cidr_ipv4 !== null && !ipv4Range.test(rule.cidr_ipv4))
    throw invalid(`CIDR block ${rule.cidr_ipv4} is malformed`);
  if (rule.cidr_ipv6 !== null && !ipv6Range.test(rule.cidr_ipv6))
    throw invalid(`CIDR block ${rule.cidr_ipv6} is malformed`);
  const ported = protocol === "tcp" || protocol === "udp";
  const icmp = protocol === "icmp" || protocol === "icmpv6";
  if (!ported && !icmp) return { ...rule, protocol, from_port: null, to_port: null };
  const from = rule.from_port;
  const to = rule.to_port;
  if (from === null || to === null) throw invalid(`Invalid rule: ${protocol} needs FromPort and ToPort.`);
  if (ported && (from < 0 || to < from))
    throw invalid(`Invalid rule: the port range ${from}-${to} is not from 0 to 65535, lowest first.`);
  if (icmp && (from > 255 || to > 255))
    throw invalid(`Invalid rule: ICMP type ${from} and code ${to} must each be -1 to 255.`);
  return { ...rule, protocol };
}

/** Whether two (normalised) rules are the same rule: everything but the description. */
export function sameRule(a: RuleSpec, b: RuleSpec): boolean {
  return (
    a.protocol === b.protocol &&
    a.from_port === b.from_port &&
    a.to_port === b.to_port &&
    a.cidr_ipv4 === b.cidr_ipv4 &&
    a.cidr_ipv6 === b.cidr_ipv6 &&
    a.referenced_group_id === b.referenced_group_id
  );
}

/** EC2's egress rule of a new group: everything, everywhere. */
export const allowAllEgress: RuleSpec = {
  protocol: "-1",
  from_port: null,
  to_port: null,
  cidr_ipv4: "0.0.0.0/0",
  cidr_ipv6: null,
  referenced_group_id: null,
  description: null,
};
