import { z } from "zod";
import { defineCommand } from "./command.ts";
import { describeRequest, NetworkId, networkOwner, networkScope, page, Tags } from "./network-resources.ts";

/** A VPC as the EC2 face shows it: each region's default VPC (every tenant's) or a tenant's own. */
export const Vpc = z.object({
  vpc_id: z.string(),
  owner_id: z.string(),
  cidr_block: z.string(),
  is_default: z.boolean(),
  enable_dns_support: z.boolean(),
  enable_dns_hostnames: z.boolean(),
  tags: z.record(z.string(), z.string()),
});
export type Vpc = z.infer<typeof Vpc>;

/** The DescribeVpcs filters, besides `tag:<key>`. */
export const vpcFilterNames = [
  "vpc-id",
  "cidr",
  "cidr-block",
  "cidr-block-association.cidr-block",
  "is-default",
  "owner-id",
  "state",
  "tag-key",
  "dhcp-options-id",
] as const;

/** Commands answered by ipam: VPCs. */
export const vpcs = {
  /**
   * A VPC of the tenant's, /16 to /28, with its default security group. Without a block (a Neutron
   * network, which has no range of its own): 0.0.0.0/0, which any subnet's block is inside.
   */
  create: defineCommand("ipam", "create_vpc", {
    request: z.object({ ...networkOwner, cidr_block: z.string().max(64).optional(), tags: Tags.default({}) }),
    reply: Vpc,
  }),
  describe: defineCommand("ipam", "describe_vpcs", { request: describeRequest, reply: page(Vpc) }),
  /** Refused while it has subnets or security groups but its default one, and for a default VPC. */
  delete: defineCommand("ipam", "delete_vpc", {
    request: z.object({ ...networkScope, vpc_id: NetworkId }),
    reply: z.object({ vpc_id: z.string() }),
  }),
  /** enableDnsSupport / enableDnsHostnames (one at a time, as EC2 takes them). */
  modify: defineCommand("ipam", "modify_vpc", {
    request: z.object({
      ...networkScope,
      vpc_id: NetworkId,
      enable_dns_support: z.boolean().optional(),
      enable_dns_hostnames: z.boolean().optional(),
    }),
    reply: Vpc,
  }),
};
