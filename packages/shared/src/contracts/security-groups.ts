import { z } from "zod";
import { defineCommand } from "./command.ts";
import { describeRequest, NetworkId, networkOwner, networkScope, page, Tags } from "./network-resources.ts";

/** The most rules a group holds each way, as EC2 allows by default. */
export const MAX_RULES_PER_DIRECTION = 60;

/**
 * One rule: a protocol ("-1" for all, tcp, udp, icmp, icmpv6 or a number) with its port range
 * (none for all protocols; ICMP's type and code), and one target: an IPv4 range, an IPv6 range or a group.
 */
export const RuleSpec = z.object({
  protocol: z.string().min(1).max(16),
  from_port: z.number().int().min(-1).max(65535).nullable(),
  to_port: z.number().int().min(-1).max(65535).nullable(),
  cidr_ipv4: z.string().max(64).nullable(),
  cidr_ipv6: z.string().max(64).nullable(),
  referenced_group_id: NetworkId.nullable(),
  description: z.string().max(255).nullable(),
});
export type RuleSpec = z.infer<typeof RuleSpec>;

export const SecurityGroupRule = RuleSpec.extend({
  rule_id: z.string(),
  group_id: z.string(),
  is_egress: z.boolean(),
});
export type SecurityGroupRule = z.infer<typeof SecurityGroupRule>;

export const SecurityGroup = z.object({
  group_id: z.string(),
  group_name: z.string(),
  description: z.string(),
  vpc_id: z.string(),
  owner_id: z.string(),
  is_default: z.boolean(),
  tags: z.record(z.string(), z.string()),
  rules: z.array(SecurityGroupRule).max(2 * MAX_RULES_PER_DIRECTION),
});
export type SecurityGroup = z.infer<typeof SecurityGroup>;

/** The DescribeSecurityGroups filters, besides `tag:<key>`. */
export const securityGroupFilterNames = [
  "group-id",
  "group-name",
  "vpc-id",
  "description",
  "owner-id",
  "tag-key",
  "ip-permission.protocol",
  "ip-permission.from-port",
  "ip-permission.to-port",
  "ip-permission.cidr",
  "ip-permission.ipv6-cidr",
  "ip-permission.group-id",
  "egress.ip-permission.protocol",
  "egress.ip-permission.from-port",
  "egress.ip-permission.to-port",
  "egress.ip-permission.cidr",
  "egress.ip-permission.ipv6-cidr",
  "egress.ip-permission.group-id",
] as const;

const GroupRef = z.object({
  ...networkScope,
  group_id: NetworkId.optional(),
  /** A name, in the region's default VPC as EC2 reads GroupName. */
  group_name: z.string().max(255).optional(),
});

const RuleChange = z.object({
  ...networkScope,
  group_id: NetworkId,
  is_egress: z.boolean(),
  rules: z
    .array(RuleSpec)
    .min(1)
    .max(2 * MAX_RULES_PER_DIRECTION),
});

/** Commands answered by ipam: security groups and their rules. */
export const securityGroups = {
  /** In the VPC (left out: the region's default VPC), with EC2's egress rule to everywhere. */
  create: defineCommand("ipam", "create_security_group", {
    request: z.object({
      ...networkOwner,
      group_name: z.string().min(1).max(255),
      description: z.string().max(255),
      vpc_id: NetworkId.optional(),
      tags: Tags.default({}),
    }),
    reply: z.object({ group_id: z.string() }),
  }),
  /** The tenant's groups; each VPC it sees gets its default group first, if it has none yet. */
  describe: defineCommand("ipam", "describe_security_groups", {
    request: describeRequest.extend({
      names: z.array(z.string().max(255)).min(1).max(100).optional(),
    }),
    reply: page(SecurityGroup),
  }),
  /** Refused for a default group, a group another's rule names, and a group a live instance is in. */
  delete: defineCommand("ipam", "delete_security_group", {
    request: GroupRef,
    reply: z.object({ group_id: z.string() }),
  }),
  /** Adds rules, all or none: one that exists already is a duplicate. */
  authorize: defineCommand("ipam", "authorize_security_group", {
    request: RuleChange,
    reply: z.object({ owner_id: z.string(), rules: z.array(SecurityGroupRule) }),
  }),
  /** Removes rules, all or none: one that does not exist is not found. */
  revoke: defineCommand("ipam", "revoke_security_group", {
    request: RuleChange,
    reply: z.object({ revoked: z.number().int() }),
  }),
};

/** Answered by lifecycle for ipam: whether a server that has not ended is in the group. */
export const securityGroupUsers = {
  inUse: defineCommand("lifecycle", "security_group_in_use", {
    request: z.object({ group_id: NetworkId }),
    reply: z.object({ instance_id: z.string().nullable() }),
  }),
};
